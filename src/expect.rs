//! What a catalogue entry expects of an outcome, and how an outcome is
//! compared with it: field by field, so a failure names only what differs.

use crate::outcome::{Crash, Event, Obj, Outcome, Ret};
use crate::scenario::devmem_deny;
use nix::sys::signal::Signal;
use serde::Serialize;
use std::fmt;

/// The observable outcome an entry expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Expected {
    /// What the mmap caller gets back.
    pub ret: i32,
    /// How many times `do_munmap` is called.
    pub unmaps: usize,
    /// How many WARNs fire.
    pub warns: u32,
    /// How many times the success check runs: `vm_ops->mapped`, or before
    /// it existed the action's `success_hook`.
    pub mapped_calls: usize,
    /// The kernel code crashes (the other fields are then not compared).
    pub crash: bool,
    /// Finer points an entry may pin down; `None` is not compared.
    #[serde(skip_serializing_if = "Details::is_empty")]
    pub details: Details,
}

/// What the summary leaves out: the arguments of the leaf calls and the
/// VMA afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Details {
    /// The first remap's `(vma, addr, pfn, size, prot)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remap: Option<(Obj, u64, u64, u64, u64)>,
    /// The first `insert_pages` call's `(vma, addr, pages, nr_pages)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insert: Option<(Obj, u64, Obj, u64)>,
    /// The first `do_munmap` call's `(mm, start, len, uf)`, the length in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub munmap: Option<(Obj, u64, u64, Obj)>,
    /// The first success check's `(start, end, pgoff, file)`: `vm_ops->mapped`'s
    /// arguments, or the VMA's that a `success_hook` standing in for it gets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapped: Option<(u64, u64, u64, Obj)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vma_pgoff: Option<u64>,
    /// `VM_*` bits that must be set on the VMA afterwards.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vma_flags_set: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vma_private_data: Option<u64>,
    /// How many times the rmap lock is dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rmap_unlocks: Option<usize>,
    /// The mapping the first `i_mmap_unlock_write` drops.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rmap_unlock: Option<Obj>,
    /// The mm the first `mmap_read_trylock` is asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmap_read_trylock: Option<Obj>,
    /// The protection the first `pgprot_decrypted` is asked to decrypt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pgprot_decrypted: Option<u64>,
    /// The descriptor's `(mm, file, page_prot)` the file's `.mmap_prepare` receives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mmap_prepare: Option<(Obj, Obj, u64)>,
    /// /dev/mem's checks, in order, each with its arguments and answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devmem: Option<Vec<Event>>,
    /// For an expected crash: the signal that ends the runner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crash_signal: Option<i32>,
}

/// One field of an outcome that is not what the entry expects, or, between
/// two outcomes, `expected` the first side and `got` the second.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub field: String,
    pub expected: String,
    pub got: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}, expected {}", self.field, self.got, self.expected)
    }
}

fn hex(v: Option<u64>) -> String {
    v.map_or("none".into(), |v| format!("{v:#x}"))
}

fn signal_name(sig: i32) -> String {
    Signal::try_from(sig).map_or_else(|_| format!("signal {sig}"), |s| s.as_str().to_string())
}

impl Details {
    fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    fn of(o: &Outcome) -> Self {
        Self {
            remap: o.events.iter().find_map(|e| match e {
                Event::Remap { vma, addr, pfn, size, prot, .. } => Some((*vma, *addr, *pfn, *size, *prot)),
                _ => None,
            }),
            insert: o.events.iter().find_map(|e| match e {
                Event::InsertPages { vma, addr, pages, nr_pages, .. } => Some((*vma, *addr, *pages, *nr_pages)),
                _ => None,
            }),
            munmap: o.events.iter().find_map(|e| match e {
                Event::Munmap { mm, start, len, uf, .. } => Some((*mm, *start, *len, *uf)),
                _ => None,
            }),
            mapped: o.events.iter().find_map(|e| match e {
                Event::Mapped { start, end, pgoff, file, .. } | Event::SuccessCheck { start, end, pgoff, file, .. } => {
                    Some((*start, *end, *pgoff, *file))
                }
                _ => None,
            }),
            vma_pgoff: Some(o.vma.pgoff),
            vma_flags_set: Some(o.vma.vm_flags),
            vma_private_data: Some(o.vma.private_data),
            rmap_unlocks: Some(o.events.iter().filter(|e| matches!(e, Event::RmapUnlock { .. })).count()),
            rmap_unlock: o.events.iter().find_map(|e| match e {
                Event::RmapUnlock { mapping } => Some(*mapping),
                _ => None,
            }),
            mmap_read_trylock: o.events.iter().find_map(|e| match e {
                Event::MmapReadTrylock { mm } => Some(*mm),
                _ => None,
            }),
            pgprot_decrypted: o.events.iter().find_map(|e| match e {
                Event::PgprotDecrypted { prot } => Some(*prot),
                _ => None,
            }),
            mmap_prepare: o.events.iter().find_map(|e| match e {
                Event::MmapPrepare { mm, file, page_prot } => Some((*mm, *file, *page_prot)),
                _ => None,
            }),
            devmem: Some(o.events.iter().filter(|e| e.is_devmem_check()).cloned().collect())
                .filter(|v: &Vec<Event>| !v.is_empty()),
            crash_signal: o.crash.as_ref().and_then(|c| c.signal),
        }
    }

    /// The fields this expects that differ in `got`.
    fn differences(&self, got: &Self) -> Vec<Difference> {
        let mut d = Vec::new();
        let mut differ =
            |field: &str, expected: String, got: String| d.push(Difference { field: field.into(), expected, got });
        let remap = |v: Option<(Obj, u64, u64, u64, u64)>| {
            v.map_or("none".into(), |(o, a, p, s, q)| format!("({}, {a:#x}, {p:#x}, {s:#x}, {q:#x})", obj(o)))
        };
        let insert = |v: Option<(Obj, u64, Obj, u64)>| {
            v.map_or("none".into(), |(o, a, p, n)| format!("({}, {a:#x}, {}, {n})", obj(o), obj(p)))
        };
        let munmap = |v: Option<(Obj, u64, u64, Obj)>| {
            v.map_or("none".into(), |(o, a, b, u)| format!("({}, {a:#x}, {b:#x}, {})", obj(o), obj(u)))
        };
        let one = |v: Option<Obj>| v.map_or("none".into(), obj);
        if self.remap.is_some() && self.remap != got.remap {
            differ("remap(vma, addr, pfn, size, prot)", remap(self.remap), remap(got.remap));
        }
        if self.insert.is_some() && self.insert != got.insert {
            differ("insert_pages(vma, addr, pages, nr_pages)", insert(self.insert), insert(got.insert));
        }
        if self.munmap.is_some() && self.munmap != got.munmap {
            differ("do_munmap(mm, start, len, uf)", munmap(self.munmap), munmap(got.munmap));
        }
        if self.rmap_unlock.is_some() && self.rmap_unlock != got.rmap_unlock {
            differ("i_mmap_unlock_write(mapping)", one(self.rmap_unlock), one(got.rmap_unlock));
        }
        if self.mmap_read_trylock.is_some() && self.mmap_read_trylock != got.mmap_read_trylock {
            differ("mmap_read_trylock(mm)", one(self.mmap_read_trylock), one(got.mmap_read_trylock));
        }
        if self.pgprot_decrypted.is_some() && self.pgprot_decrypted != got.pgprot_decrypted {
            differ("pgprot_decrypted(prot)", hex(self.pgprot_decrypted), hex(got.pgprot_decrypted));
        }
        if self.mmap_prepare.is_some() && self.mmap_prepare != got.mmap_prepare {
            let three = |v: Option<(Obj, Obj, u64)>| {
                v.map_or("none".into(), |(m, f, p)| format!("({}, {}, {p:#x})", obj(m), obj(f)))
            };
            differ(
                ".mmap_prepare(desc->mm, desc->file, desc->page_prot)",
                three(self.mmap_prepare),
                three(got.mmap_prepare),
            );
        }
        if self.devmem.is_some() && self.devmem != got.devmem {
            let calls = |v: &Option<Vec<Event>>| {
                v.as_ref().map_or("none".into(), |v| v.iter().map(|e| call(e).1).collect::<Vec<_>>().join("; "))
            };
            differ("/dev/mem checks", calls(&self.devmem), calls(&got.devmem));
        }
        if self.mapped.is_some() && self.mapped != got.mapped {
            let four = |v: Option<(u64, u64, u64, Obj)>| {
                v.map_or("none".into(), |(s, e, p, f)| format!("({s:#x}, {e:#x}, {p:#x}, {})", obj(f)))
            };
            differ("mapped(start, end, pgoff, file)", four(self.mapped), four(got.mapped));
        }
        if self.vma_pgoff.is_some() && self.vma_pgoff != got.vma_pgoff {
            differ("VMA pgoff", hex(self.vma_pgoff), hex(got.vma_pgoff));
        }
        if let Some(bits) = self.vma_flags_set {
            let have = got.vma_flags_set.unwrap_or(0);
            if have & bits != bits {
                differ("VMA flags", format!("{bits:#x} set"), format!("{have:#x}, lacking {:#x}", bits & !have));
            }
        }
        if self.vma_private_data.is_some() && self.vma_private_data != got.vma_private_data {
            differ("VMA private data", hex(self.vma_private_data), hex(got.vma_private_data));
        }
        if self.rmap_unlocks.is_some() && self.rmap_unlocks != got.rmap_unlocks {
            let n = |v: Option<usize>| v.map_or("none".into(), |v| v.to_string());
            differ("rmap unlocks", n(self.rmap_unlocks), n(got.rmap_unlocks));
        }
        d
    }
}

impl Expected {
    pub fn of(o: &Outcome) -> Self {
        Self {
            ret: o.ret().0,
            unmaps: o.unmaps().len(),
            warns: o.warn_count(),
            mapped_calls: o.mapped_calls(),
            crash: o.crash.is_some(),
            details: Details::of(o),
        }
    }

    /// The fields of `o` that are not what this expects; none if it matches.
    pub fn differences(&self, o: &Outcome) -> Vec<Difference> {
        let crash = |expected: String, got: String| vec![Difference { field: "crash".into(), expected, got }];
        let expected_crash = || self.details.crash_signal.map_or("a crash".into(), signal_name);
        match (&o.crash, self.crash) {
            (Some(c), true) => {
                return match self.details.crash_signal {
                    Some(sig) if !crashed_by(c, sig) => crash(expected_crash(), c.description.clone()),
                    _ => Vec::new(),
                }
            }
            (Some(c), false) => return crash("none".into(), c.description.clone()),
            (None, true) => return crash(expected_crash(), format!("none, returned {}", o.ret())),
            (None, false) => {}
        }
        let got = Self::of(o);
        let mut d = Vec::new();
        if got.ret != self.ret {
            d.push(Difference { field: "returned".into(), expected: Ret(self.ret).name(), got: Ret(got.ret).name() });
        }
        if got.unmaps != self.unmaps {
            d.push(Difference {
                field: "unmaps".into(),
                expected: self.unmaps.to_string(),
                got: got.unmaps.to_string(),
            });
        }
        if got.warns != self.warns {
            let list: Vec<String> = o.warns.iter().map(|w| w.to_string()).collect();
            let got = format!("{} [{}]", got.warns, list.join("; "));
            d.push(Difference { field: "WARNs".into(), expected: self.warns.to_string(), got });
        }
        if got.mapped_calls != self.mapped_calls {
            let (expected, got) = (self.mapped_calls.to_string(), got.mapped_calls.to_string());
            // Where vm_ops has no mapped(), the success check is a success_hook.
            let hook = o.events.iter().any(|e| matches!(e, Event::SuccessCheck { .. }));
            let field = if hook { "success check (success_hook) calls" } else { "mapped() calls" };
            d.push(Difference { field: field.into(), expected, got });
        }
        d.extend(self.details.differences(&got.details));
        d
    }

    /// `Err` with what differs, in words.
    pub fn check(&self, o: &Outcome) -> Result<(), String> {
        let d = self.differences(o);
        if d.is_empty() {
            Ok(())
        } else {
            Err(d.iter().map(Difference::to_string).collect::<Vec<_>>().join(", "))
        }
    }

    /// The leaves `o` calls whose arguments this does not pin: an entry
    /// checks what every leaf it reaches receives.
    pub fn unpinned(&self, o: &Outcome) -> Vec<&'static str> {
        let (d, got) = (&self.details, Details::of(o));
        [
            ("remap", d.remap.is_none() && got.remap.is_some()),
            ("insert_pages", d.insert.is_none() && got.insert.is_some()),
            ("do_munmap", d.munmap.is_none() && got.munmap.is_some()),
            ("mapped", d.mapped.is_none() && got.mapped.is_some()),
            ("i_mmap_unlock_write", d.rmap_unlock.is_none() && got.rmap_unlock.is_some()),
            ("mmap_read_trylock", d.mmap_read_trylock.is_none() && got.mmap_read_trylock.is_some()),
            ("pgprot_decrypted", d.pgprot_decrypted.is_none() && got.pgprot_decrypted.is_some()),
            (".mmap_prepare", d.mmap_prepare.is_none() && got.mmap_prepare.is_some()),
            ("/dev/mem's checks", d.devmem.is_none() && got.devmem.is_some()),
        ]
        .into_iter()
        .filter_map(|(leaf, unpinned)| unpinned.then_some(leaf))
        .collect()
    }

    pub fn with(self, details: Details) -> Self {
        Self { details, ..self }
    }
}

/// An object a leaf received, as the kernel code names it.
fn obj(o: Obj) -> String {
    match o {
        Obj::Null => "NULL".into(),
        Obj::CurrentMm => "current->mm".into(),
        Obj::Vma => "vma".into(),
        Obj::File => "file".into(),
        Obj::Mapping => "mapping".into(),
        Obj::Desc => "desc".into(),
        Obj::DescPageProt => "&desc->page_prot".into(),
        Obj::Other(p) => format!("{p:#x}"),
    }
}

fn verdict(allowed: bool) -> &'static str {
    if allowed {
        "allowed"
    } else {
        "denied"
    }
}

/// A call into a leaf: its signature, and the call with its arguments and result.
fn call(e: &Event) -> (&'static str, String) {
    match e {
        Event::Remap { vma, addr, pfn, size, prot, ret } => (
            "remap(vma, addr, pfn, size, prot)",
            format!("remap({}, {addr:#x}, {pfn:#x}, {size:#x}, {prot:#x}) = {ret}", obj(*vma)),
        ),
        Event::InsertPages { vma, addr, pages, nr_pages, ret } => (
            "insert_pages(vma, addr, pages, nr_pages)",
            format!("insert_pages({}, {addr:#x}, {}, {nr_pages}) = {ret}", obj(*vma), obj(*pages)),
        ),
        Event::Munmap { mm, start, len, uf, ret } => (
            "do_munmap(mm, start, len, uf)",
            format!("do_munmap({}, {start:#x}, {len:#x}, {}) = {ret}", obj(*mm), obj(*uf)),
        ),
        Event::Mapped { start, end, pgoff, file, ret } => (
            "mapped(start, end, pgoff, file)",
            format!("mapped({start:#x}, {end:#x}, {pgoff:#x}, {}) = {ret}", obj(*file)),
        ),
        Event::RmapLock { mapping } => ("i_mmap_lock_write(mapping)", format!("i_mmap_lock_write({})", obj(*mapping))),
        Event::RmapUnlock { mapping } => {
            ("i_mmap_unlock_write(mapping)", format!("i_mmap_unlock_write({})", obj(*mapping)))
        }
        Event::MmapReadTrylock { mm } => ("mmap_read_trylock(mm)", format!("mmap_read_trylock({})", obj(*mm))),
        Event::PgprotDecrypted { prot } => ("pgprot_decrypted(prot)", format!("pgprot_decrypted({prot:#x})")),
        Event::DevMemCheck { check, pfn, size, allowed } => {
            let name = match *check {
                devmem_deny::VALID_RANGE => "valid_mmap_phys_addr_range",
                devmem_deny::RANGE_ALLOWED => "range_is_allowed",
                _ => "/dev/mem check",
            };
            ("/dev/mem check(pfn, size)", format!("{name}({pfn:#x}, {size:#x}) = {}", verdict(*allowed)))
        }
        Event::DevMemPrivateMappingOk { desc, allowed } => {
            ("private_mapping_ok(desc)", format!("private_mapping_ok({}) = {}", obj(*desc), verdict(*allowed)))
        }
        Event::DevMemProtAllowed { file, pfn, size, vma_prot, allowed } => (
            "phys_mem_access_prot_allowed(file, pfn, size, vma_prot)",
            format!(
                "phys_mem_access_prot_allowed({}, {pfn:#x}, {size:#x}, {}) = {}",
                obj(*file),
                obj(*vma_prot),
                verdict(*allowed)
            ),
        ),
        Event::DevMemAccessProt { file, pfn, size, vma_prot } => (
            "phys_mem_access_prot(file, pfn, size, vma_prot)",
            format!("phys_mem_access_prot({}, {pfn:#x}, {size:#x}, {vma_prot:#x})", obj(*file)),
        ),
        Event::MmapPrepare { mm, file, page_prot } => (
            ".mmap_prepare(desc)",
            format!(".mmap_prepare(desc with mm {}, file {}, page_prot {page_prot:#x})", obj(*mm), obj(*file)),
        ),
        Event::SuccessHook { vma, ret } => ("success_hook(vma)", format!("success_hook({}) = {ret}", obj(*vma))),
        Event::SuccessCheck { start, end, pgoff, file, ret } => (
            "success_hook(vma) as the success check",
            format!("success_hook(vma [{start:#x}, {end:#x}), pgoff {pgoff:#x}, {}) = {ret}", obj(*file)),
        ),
        Event::Unknown { kind } => ("unknown event", format!("unknown event {kind}")),
    }
}

/// Everything two outcomes of one scenario differ in, field by field: the
/// return values, each call into a leaf with its arguments and place in the
/// order, the WARNs with their sites, the descriptor and the VMA afterwards,
/// and the crash. `expected` is `a`'s value and `got` `b`'s. What `diff`
/// and `review` report; `Expected::differences` is the same comparison
/// against the catalogue's subset of these fields.
pub fn between(a: &Outcome, b: &Outcome) -> Vec<Difference> {
    let mut d = Vec::new();
    let mut differ = |field: String, x: String, y: String| {
        if x != y {
            d.push(Difference { field, expected: x, got: y })
        }
    };
    let crash = |o: &Outcome| o.crash.as_ref().map_or("none".into(), |c| c.description.clone());
    differ("crash".into(), crash(a), crash(b));
    let ret = |r: Option<Ret>| r.map_or("did not run".into(), |r| r.name());
    differ("driver hook returned".into(), ret(a.hook), ret(b.hook));
    differ("mmap_action_prepare() returned".into(), ret(a.prepare), ret(b.prepare));
    differ("mmap_action_complete() returned".into(), ret(a.complete), ret(b.complete));
    let site = |o: &Outcome, i: usize| match o.event_sites.get(i).cloned().flatten() {
        Some(s) => format!(" at {}:{}", s.file, s.line),
        None => String::new(),
    };
    for i in 0..a.events.len().max(b.events.len()) {
        let (ea, eb) = (a.events.get(i).map(call), b.events.get(i).map(call));
        let field = match (&ea, &eb) {
            (Some((x, _)), Some((y, _))) if x == y => format!("call {}: {x}", i + 1),
            _ => format!("call {}", i + 1),
        };
        // Sites are shown, not compared: an edit above a call moves its line.
        if ea.as_ref().map(|e| &e.1) != eb.as_ref().map(|e| &e.1) {
            let show = |e: Option<(&str, String)>, o: &Outcome| e.map_or("none".into(), |(_, c)| c + &site(o, i));
            differ(field, show(ea, a), show(eb, b));
        }
    }
    differ("calls not recorded".into(), a.events_dropped.to_string(), b.events_dropped.to_string());
    let warns = |o: &Outcome| {
        let mut w: Vec<String> = o.warns.iter().map(|w| w.to_string()).collect();
        if o.warns_dropped > 0 {
            w.push(format!("{} more", o.warns_dropped));
        }
        if w.is_empty() {
            "none".into()
        } else {
            w.join("; ")
        }
    };
    // As for calls: which WARNs fire is compared, their lines are shown.
    fn fired(o: &Outcome) -> Vec<(&str, &str, u32)> {
        o.warns.iter().map(|w| (w.file.as_str(), w.condition.as_str(), o.warns_dropped)).collect()
    }
    if fired(a) != fired(b) {
        differ("WARNs".into(), warns(a), warns(b));
    }
    let (x, y) = (&a.desc, &b.desc);
    differ("desc.action".into(), format!("{:?}", x.action), format!("{:?}", y.action));
    for (f, p, q) in [
        ("desc.pgoff", x.pgoff, y.pgoff),
        ("desc.vm_flags", x.vm_flags, y.vm_flags),
        ("desc.remap.start", x.remap_start, y.remap_start),
        ("desc.remap.start_pfn", x.remap_pfn, y.remap_pfn),
        ("desc.remap.size", x.remap_size, y.remap_size),
        ("vma.vm_start", a.vma.start, b.vma.start),
        ("vma.vm_end", a.vma.end, b.vma.end),
        ("vma.vm_pgoff", a.vma.pgoff, b.vma.pgoff),
        ("vma.vm_flags", a.vma.vm_flags, b.vma.vm_flags),
        ("vma.vm_private_data", a.vma.private_data, b.vma.private_data),
    ] {
        differ(f.into(), format!("{p:#x}"), format!("{q:#x}"));
    }
    differ("desc.error_override".into(), Ret(x.error_override).name(), Ret(y.error_override).name());
    differ("desc.vm_ops->mapped".into(), x.has_mapped.to_string(), y.has_mapped.to_string());
    differ("VMA unmapped".into(), a.vma_unmapped.to_string(), b.vma_unmapped.to_string());
    differ("rmap lock left held".into(), a.rmap_left_locked.to_string(), b.rmap_left_locked.to_string());
    d
}

/// The runner died of `sig`, or, in the sanitizer build, a sanitizer caught
/// the fault first and reported it: ASan the signal (`AddressSanitizer: SEGV
/// on ...`), UBSan a NULL dereference before it happens (`runtime error:
/// member access within null pointer`).
fn crashed_by(c: &Crash, sig: i32) -> bool {
    let name = Signal::try_from(sig).map(|s| s.as_str().trim_start_matches("SIG").to_string());
    let asan = name.is_ok_and(|n| c.description.contains(&format!("AddressSanitizer: {n} ")));
    let ubsan_null = sig == Signal::SIGSEGV as i32
        && c.description.contains("runtime error:")
        && c.description.contains("null pointer");
    c.signal == Some(sig) || asan || ubsan_null
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Obj;
    use nix::libc::{EAGAIN, ENOMEM};

    #[test]
    fn only_the_fields_that_differ_are_named_with_their_errno() {
        let unmap = Event::Munmap { mm: Obj::CurrentMm, start: 0x10000, len: 0x4000, uf: Obj::Null, ret: Ret(0) };
        let o = Outcome { complete: Some(Ret(-ENOMEM)), events: vec![unmap], ..Outcome::default() };
        let expected =
            Expected { ret: -EAGAIN, unmaps: 1, warns: 0, mapped_calls: 0, crash: false, details: Details::default() };
        let want = Difference { field: "returned".into(), expected: "-EAGAIN".into(), got: "-ENOMEM".into() };
        assert_eq!(expected.differences(&o), vec![want]);
        assert_eq!(expected.check(&o), Err("returned -ENOMEM, expected -EAGAIN".into()));
    }

    #[test]
    fn two_outcomes_differ_in_the_argument_that_differs() {
        let mapped = |pgoff| Event::Mapped { start: 0x10000, end: 0x14000, pgoff, file: Obj::File, ret: Ret(0) };
        let a = Outcome { complete: Some(Ret(0)), events: vec![mapped(0)], ..Outcome::default() };
        let b = Outcome { events: vec![mapped(1)], ..a.clone() };
        let want = Difference {
            field: "call 1: mapped(start, end, pgoff, file)".into(),
            expected: "mapped(0x10000, 0x14000, 0x0, file) = 0".into(),
            got: "mapped(0x10000, 0x14000, 0x1, file) = 0".into(),
        };
        assert_eq!(between(&a, &b), vec![want]);
        assert_eq!(between(&a, &a), vec![]);
    }
}
