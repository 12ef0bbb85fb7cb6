//! What a catalogue entry expects of an outcome, and how an outcome is
//! compared with it: field by field, so a failure names only what differs.

use crate::outcome::{Crash, Event, Outcome, Ret};
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
    /// How many times `vm_ops->mapped` is called.
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
    /// The first remap's `(addr, pfn, size)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remap: Option<(u64, u64, u64)>,
    /// The first `insert_pages` call's page count.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insert_nr_pages: Option<u64>,
    /// The first unmap's length in bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub munmap_len: Option<u64>,
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
    /// For an expected crash: the signal that ends the runner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crash_signal: Option<i32>,
}

/// One field of an outcome that is not what the entry expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub field: &'static str,
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
                Event::Remap { addr, pfn, size, .. } => Some((*addr, *pfn, *size)),
                _ => None,
            }),
            insert_nr_pages: o.events.iter().find_map(|e| match e {
                Event::InsertPages { nr_pages, .. } => Some(*nr_pages),
                _ => None,
            }),
            munmap_len: o.events.iter().find_map(|e| match e {
                Event::Munmap { len, .. } => Some(*len),
                _ => None,
            }),
            vma_pgoff: Some(o.vma.pgoff),
            vma_flags_set: Some(o.vma.vm_flags),
            vma_private_data: Some(o.vma.private_data),
            rmap_unlocks: Some(o.events.iter().filter(|e| matches!(e, Event::RmapUnlock { .. })).count()),
            crash_signal: o.crash.as_ref().and_then(|c| c.signal),
        }
    }

    /// The fields this expects that differ in `got`.
    fn differences(&self, got: &Self) -> Vec<Difference> {
        let mut d = Vec::new();
        let mut differ = |field, expected: String, got: String| d.push(Difference { field, expected, got });
        let triple =
            |v: Option<(u64, u64, u64)>| v.map_or("none".into(), |(a, p, s)| format!("({a:#x}, {p:#x}, {s:#x})"));
        if self.remap.is_some() && self.remap != got.remap {
            differ("remap (addr, pfn, size)", triple(self.remap), triple(got.remap));
        }
        if self.insert_nr_pages.is_some() && self.insert_nr_pages != got.insert_nr_pages {
            let n = |v: Option<u64>| v.map_or("none".into(), |v| v.to_string());
            differ("pages inserted", n(self.insert_nr_pages), n(got.insert_nr_pages));
        }
        if self.munmap_len.is_some() && self.munmap_len != got.munmap_len {
            differ("unmap length", hex(self.munmap_len), hex(got.munmap_len));
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
        let crash = |expected: String, got: String| vec![Difference { field: "crash", expected, got }];
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
            d.push(Difference { field: "returned", expected: Ret(self.ret).name(), got: Ret(got.ret).name() });
        }
        if got.unmaps != self.unmaps {
            d.push(Difference { field: "unmaps", expected: self.unmaps.to_string(), got: got.unmaps.to_string() });
        }
        if got.warns != self.warns {
            let list: Vec<String> = o.warns.iter().map(|w| w.to_string()).collect();
            let got = format!("{} [{}]", got.warns, list.join("; "));
            d.push(Difference { field: "WARNs", expected: self.warns.to_string(), got });
        }
        if got.mapped_calls != self.mapped_calls {
            let (expected, got) = (self.mapped_calls.to_string(), got.mapped_calls.to_string());
            d.push(Difference { field: "mapped() calls", expected, got });
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

    pub fn with(self, details: Details) -> Self {
        Self { details, ..self }
    }
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
        let unmap = Event::Munmap { mm: Obj::CurrentMm, start: 0x10000, len: 0x4000, ret: Ret(0) };
        let o = Outcome { complete: Some(Ret(-ENOMEM)), events: vec![unmap], ..Outcome::default() };
        let expected =
            Expected { ret: -EAGAIN, unmaps: 1, warns: 0, mapped_calls: 0, crash: false, details: Details::default() };
        let want = Difference { field: "returned", expected: "-EAGAIN".into(), got: "-ENOMEM".into() };
        assert_eq!(expected.differences(&o), vec![want]);
        assert_eq!(expected.check(&o), Err("returned -ENOMEM, expected -EAGAIN".into()));
    }
}
