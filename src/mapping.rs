//! The end-to-end mode: a mapping made by the tree's own `__mmap_region()`
//! over VMAs laid out first, with the real mmap-action code, maple tree and
//! `do_munmap()`, and what the maple tree holds after it. Each scenario runs
//! in its own end-to-end runner process (`mmharness_build::e2e`), spoken to
//! in the text of `include/mapping.h`; so do the kernel's own
//! `tools/testing/vma` tests, reported by name.

use serde::Serialize;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Legacy VM_* bits, as the trees' tools headers number them.
pub const VM_READ: u64 = 0x1;
pub const VM_WRITE: u64 = 0x2;
pub const VM_SHARED: u64 = 0x8;
pub const VM_MAYREAD: u64 = 0x10;
pub const VM_MAYWRITE: u64 = 0x20;
pub const VM_MAYSHARE: u64 = 0x80;
pub const VM_PFNMAP: u64 = 0x400;
pub const VM_IO: u64 = 0x4000;
pub const VM_DONTEXPAND: u64 = 0x40000;
pub const VM_ACCOUNT: u64 = 0x100000;
pub const VM_DONTDUMP: u64 = 0x4000000;
/// What remap_pfn_range_prepare() sets: "VMA_REMAP_FLAGS".
pub const REMAP_FLAGS: u64 = VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
/// A shared read-write mapping, as /dev/mem's users make.
pub const SHARED_RW: u64 = VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE;

pub const PAGE: u64 = 4096;

/// How long a runner may take before it is killed and reported as hung.
const DEADLINE: Duration = Duration::from_secs(10);

/// What the file's `.mmap_prepare` asks for (the raw enum value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Action {
    Nothing = 0,
    RemapPfn = 1,
}

/// A mapping: the range, flags and offset, and whether it is of the
/// scenario's file (whose `.mmap_prepare` sets `action`) or anonymous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Map {
    pub start: u64,
    pub end: u64,
    pub flags: u64,
    pub pgoff: u64,
    pub file: bool,
    pub action: Action,
}

impl Map {
    /// `pages` pages of the file at page `first`, with the file offset
    /// equal to the page number, so neighbours are contiguous in the file.
    pub fn file(first: u64, pages: u64, flags: u64, action: Action) -> Self {
        Self { start: first * PAGE, end: (first + pages) * PAGE, flags, pgoff: first, file: true, action }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Leaf {
    Remap,
    Mapped,
    Munmap,
}

/// The existing VMAs, the call under test, and what its hook and leaves do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mapping {
    pub layout: Vec<Map>,
    pub call: Map,
    /// `enum mmh_vm_ops` of every mapping of the file: 2 has `mapped()`.
    pub vm_ops: u8,
    /// What the call's `.mmap_prepare` returns.
    pub prepare_ret: i32,
    /// The call's action's `error_override` (0: none).
    pub error_override: i32,
    /// Bytes the call's remap reaches past the call's range.
    pub remap_overshoot: u64,
    /// The call's action hides the VMA from rmap until it completes.
    pub hide_from_rmap: bool,
    /// A leaf's result on its `nth` call (0: every call).
    pub inject: Vec<(Leaf, i32, u32)>,
    /// The file's mapping denies writable mappings before the call, as a
    /// sealed memfd's does.
    pub deny_write: bool,
}

impl Mapping {
    pub fn new(layout: Vec<Map>, call: Map) -> Self {
        Self {
            layout,
            call,
            vm_ops: 2,
            prepare_ret: 0,
            error_override: 0,
            remap_overshoot: 0,
            hide_from_rmap: false,
            inject: Vec::new(),
            deny_write: false,
        }
    }

    pub fn inject(mut self, leaf: Leaf, ret: i32) -> Self {
        self.inject.push((leaf, ret, 0));
        self
    }

    /// The scenario as the runner reads it.
    pub fn encode(&self) -> String {
        let line = |w: &str, m: &Map| {
            format!("{w} {} {} {} {} {} {}\n", m.start, m.end, m.flags, m.pgoff, u8::from(m.file), m.action as u32)
        };
        let mut s: String = self.layout.iter().map(|m| line("map", m)).collect();
        s.push_str(&line("call", &self.call));
        s.push_str(&format!(
            "hook {} {} {} {} {}\n",
            self.vm_ops,
            self.prepare_ret,
            self.error_override,
            self.remap_overshoot,
            u8::from(self.hide_from_rmap)
        ));
        for (leaf, ret, nth) in &self.inject {
            let leaf = match leaf {
                Leaf::Remap => "remap",
                Leaf::Mapped => "mapped",
                Leaf::Munmap => "munmap",
            };
            s.push_str(&format!("inject {leaf} {ret} {nth}\n"));
        }
        if self.deny_write {
            s.push_str("deny_write\n");
        }
        s
    }
}

/// A VMA in the maple tree after the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Vma {
    pub start: u64,
    pub end: u64,
    pub flags: u64,
    pub pgoff: u64,
    pub file: bool,
}

/// The rmap lock over the call: its depth after each take and each
/// release, in order (`[1, 0]`: taken once, released once).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Rmap {
    pub depths: Vec<i32>,
}

impl Rmap {
    pub fn of(depths: &[i32]) -> Self {
        Self { depths: depths.to_vec() }
    }

    pub fn max(&self) -> i32 {
        self.depths.iter().copied().max().unwrap_or(0)
    }

    /// What breaks "never nested, always balanced", event by event: a take
    /// while held, a release when not held, the lock held at the end.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, &d) in self.depths.iter().enumerate() {
            if d > 1 {
                out.push(format!("event {i}: taken while held (depth {d})"));
            } else if d < 0 {
                out.push(format!("event {i}: released when not held (depth {d})"));
            }
        }
        if let Some(&d @ 1..) = self.depths.last() {
            out.push(format!("held at the end of the call (depth {d})"));
        }
        out
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MappingOutcome {
    /// `__mmap_region()`'s result: the address, or a negative errno.
    pub ret: i64,
    pub map_count: i32,
    pub vmas: Vec<Vma>,
    pub remap_calls: u32,
    pub mapped_calls: u32,
    pub munmap_calls: u32,
    pub rmap: Rmap,
    /// `file:line expr` of each WARN.
    pub warns: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum E2eError {
    #[error("starting the end-to-end runner {path}: {source}")]
    Spawn { path: String, source: std::io::Error },
    /// The kernel code crashed, aborted or hung: a finding.
    #[error("the end-to-end runner {how}; its stderr ends with:\n{stderr}")]
    Crashed { how: String, stderr: String },
    #[error("the end-to-end runner said what this build cannot read: {0:?}: rebuild the artifact")]
    Unreadable(String),
    /// The scenario asks for a layout the kernel refuses: fix the scenario.
    #[error("the scenario's map line {index} (0-based) could not be laid out: __mmap_region returned {ret}")]
    LayoutFailed { index: usize, ret: i64 },
}

fn field<T: std::str::FromStr>(words: &[&str], i: usize, line: &str) -> Result<T, E2eError> {
    words.get(i).and_then(|w| w.parse().ok()).ok_or_else(|| E2eError::Unreadable(line.to_string()))
}

/// Reads the runner's outcome lines.
pub fn decode(text: &str) -> Result<MappingOutcome, E2eError> {
    let mut o = MappingOutcome::default();
    for line in text.lines() {
        let w: Vec<&str> = line.split(' ').collect();
        match w[0] {
            "ret" => o.ret = field(&w, 1, line)?,
            "map_count" => o.map_count = field(&w, 1, line)?,
            "calls" => {
                (o.remap_calls, o.mapped_calls, o.munmap_calls) =
                    (field(&w, 1, line)?, field(&w, 2, line)?, field(&w, 3, line)?)
            }
            "rmap" => {
                let events: usize = field(&w, 1, line)?;
                let depths = (2..w.len()).map(|i| field(&w, i, line)).collect::<Result<Vec<i32>, _>>()?;
                if depths.len() != events {
                    return Err(E2eError::Unreadable(format!(
                        "{line:?}: {events} rmap lock events, {} recorded: raise MMH_RMAP_EVENTS in csrc/e2e.c",
                        depths.len()
                    )));
                }
                o.rmap = Rmap { depths }
            }
            "vma" => o.vmas.push(Vma {
                start: field(&w, 1, line)?,
                end: field(&w, 2, line)?,
                flags: field(&w, 3, line)?,
                pgoff: field(&w, 4, line)?,
                file: field::<u8>(&w, 5, line)? == 1,
            }),
            "warn" => {
                o.warns.push(format!("{}:{} {}", w.get(1).unwrap_or(&""), w.get(2).unwrap_or(&""), w[3..].join(" ")))
            }
            "layout_failed" => {
                return Err(E2eError::LayoutFailed { index: field(&w, 1, line)?, ret: field(&w, 2, line)? })
            }
            "end" => return Ok(o),
            _ => return Err(E2eError::Unreadable(line.to_string())),
        }
    }
    Err(E2eError::Unreadable(format!("no `end` in {text:?}")))
}

/// Runs the runner with `args` and `input`, and returns its outcome text.
fn exchange(runner: &Path, args: &[&str], input: &str) -> Result<String, E2eError> {
    let mut cmd = Command::new(runner);
    cmd.args(args);
    let f = mmharness_build::process::exchange(&mut cmd, input.as_bytes(), DEADLINE)
        .map_err(|source| E2eError::Spawn { path: runner.display().to_string(), source })?;
    let stderr = f.stderr_tail;
    match f.status {
        None => Err(E2eError::Crashed { how: format!("did not finish within {DEADLINE:?} and was killed"), stderr }),
        Some(s) if s.success() => Ok(String::from_utf8_lossy(&f.stdout).into_owned()),
        Some(s) => Err(E2eError::Crashed { how: format!("ended with {s}"), stderr }),
    }
}

/// Runs one mapping scenario in the end-to-end runner at `runner`.
pub fn run(runner: &Path, m: &Mapping) -> Result<MappingOutcome, E2eError> {
    decode(&exchange(runner, &[], &m.encode())?)
}

/// One of tools/testing/vma's own tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KernelTest {
    pub name: String,
    pub passed: bool,
}

/// Runs tools/testing/vma's own tests, in the same program as the mappings.
pub fn kernel_vma_tests(runner: &Path) -> Result<Vec<KernelTest>, E2eError> {
    let out = exchange(runner, &["vma-tests"], "")?;
    let mut tests = Vec::new();
    for line in out.lines() {
        match line.split(' ').collect::<Vec<_>>()[..] {
            ["test", verdict @ ("ok" | "fail"), name] => {
                tests.push(KernelTest { name: name.to_string(), passed: verdict == "ok" })
            }
            ["end"] => return Ok(tests),
            _ => return Err(E2eError::Unreadable(line.to_string())),
        }
    }
    Err(E2eError::Unreadable(format!("no `end` in {out:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rmap_problems_name_the_event() {
        assert!(Rmap::of(&[1, 0, 1, 0]).problems().is_empty());
        assert_eq!(Rmap::of(&[1, 2, 1, 0]).problems(), vec!["event 1: taken while held (depth 2)"]);
        assert_eq!(Rmap::of(&[-1]).problems(), vec!["event 0: released when not held (depth -1)"]);
        assert_eq!(Rmap::of(&[1]).problems(), vec!["held at the end of the call (depth 1)"]);
    }

    #[test]
    fn a_scenario_encodes_as_mapping_h_says() {
        let m = Mapping::new(
            vec![Map::file(1024, 2, SHARED_RW, Action::Nothing)],
            Map::file(1026, 2, SHARED_RW, Action::RemapPfn),
        )
        .inject(Leaf::Remap, -11);
        assert_eq!(
            m.encode(),
            "map 4194304 4202496 187 1024 1 0\ncall 4202496 4210688 187 1026 1 1\nhook 2 0 0 0 0\ninject remap -11 0\n"
        );
    }

    #[test]
    fn an_outcome_decodes_and_an_unknown_line_is_an_error() {
        let o = decode("ret -11\ncalls 1 0 1\nrmap 2 1 0\nmap_count 1\nvma 4096 8192 187 1 1\nend\n").unwrap();
        assert_eq!(o.rmap, Rmap::of(&[1, 0]));
        assert_eq!(o.ret, -11);
        assert_eq!((o.remap_calls, o.mapped_calls, o.munmap_calls), (1, 0, 1));
        assert_eq!(o.vmas, vec![Vma { start: 4096, end: 8192, flags: 187, pgoff: 1, file: true }]);
        assert!(matches!(decode("bogus 1\nend\n"), Err(E2eError::Unreadable(l)) if l == "bogus 1"));
        assert!(matches!(decode("rmap 3 1 0\nend\n"), Err(E2eError::Unreadable(_))));
        assert!(matches!(decode("layout_failed 1 -12\nend\n"), Err(E2eError::LayoutFailed { index: 1, ret: -12 })));
    }
}
