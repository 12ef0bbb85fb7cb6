//! The end-to-end bisect step against tools/testing/vma's own step, both
//! after a change in mm/vma.c, both with ASan and UBSan, in the same run,
//! one of each in turn (a load on the machine weighs on both alike), in
//! wall time and in CPU time (user + system of the step's processes, which
//! a load on a shared machine changes less):
//!
//! - `mmharness bisect-run --e2e` with `MMHARNESS_SANITIZE=1`, on a scratch
//!   copy of the default tree and a scratch cache warmed by one step (the
//!   support library cached, as in any bisect after its first step), each
//!   repetition after appending a comment of its own to mm/vma.c;
//! - `touch mm/vma.c && make -j2 && ./vma` in the copy's tools/testing/vma,
//!   built once before (its shared objects made), its own flags (`-g -Og`,
//!   ASan and UBSan from tools/testing/shared/shared.mk).
//!
//! Also the peak resident memory of any one process of the end-to-end
//! steps (getrusage RUSAGE_CHILDREN, read after the first two end-to-end
//! steps, the cold one included, and before any tools/testing/vma step).
//!
//! `cargo bench --bench e2e` (about two minutes on 2 quiet cores).

use mmharness_build::fetch;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const REPEAT: usize = 5;
const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn children() -> nix::sys::resource::Usage {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).expect("getrusage")
}

fn children_peak_mb() -> f64 {
    children().max_rss() as f64 / 1024.0
}

fn children_cpu() -> Duration {
    let u = children();
    let tv = |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
    tv(u.user_time()) + tv(u.system_time())
}

/// Wall and CPU time of a step.
#[derive(Clone, Copy, Default)]
struct Took {
    wall: Duration,
    cpu: Duration,
}

impl std::ops::Add for Took {
    type Output = Took;
    fn add(self, o: Took) -> Took {
        Took { wall: self.wall + o.wall, cpu: self.cpu + o.cpu }
    }
}

/// Runs `cmd`, which must exit 0, and times it.
fn run(cmd: &mut Command) -> Took {
    let (t, cpu) = (Instant::now(), children_cpu());
    let out = cmd.output().expect("spawn");
    let took = Took { wall: t.elapsed(), cpu: children_cpu() - cpu };
    let output = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?}: {output}");
    took
}

fn append(file: &Path, i: usize) {
    let mut text = std::fs::read_to_string(file).unwrap();
    text.push_str(&format!("/* bench {i} */\n"));
    std::fs::write(file, text).unwrap();
}

fn main() {
    let base = mmharness_build::fetched(fetch::DEFAULT_SERIES).expect("the default tree").root;
    let scratch = tempfile::tempdir().unwrap();
    let (ours, theirs, cache) = (scratch.path().join("e2e"), scratch.path().join("vma"), scratch.path().join("cache"));
    for to in [&ours, &theirs] {
        assert!(Command::new("cp").arg("-a").arg(&base).arg(to).status().unwrap().success());
    }
    let e2e_step = || {
        let mut cmd = Command::new(BIN);
        cmd.args(["bisect-run", "--e2e"]).env("KERNEL_SRC", &ours).env("MMHARNESS_CACHE", &cache);
        run(cmd.env("MMHARNESS_SANITIZE", "1"))
    };
    let vma_dir = theirs.join("tools/testing/vma");
    let vma_step = || {
        let touched = std::fs::File::open(theirs.join("mm/vma.c")).unwrap();
        touched.set_modified(std::time::SystemTime::now()).unwrap();
        let make = run(Command::new("make").arg("-j2").current_dir(&vma_dir));
        make + run(Command::new("./vma").current_dir(&vma_dir))
    };
    let cold = e2e_step();
    append(&ours.join("mm/vma.c"), 0);
    e2e_step();
    let peak = children_peak_mb();
    run(Command::new("make").arg("-j2").current_dir(&vma_dir));
    let (mut e2e, mut vma) = (Vec::new(), Vec::new());
    for i in 1..=REPEAT {
        append(&ours.join("mm/vma.c"), i);
        e2e.push(e2e_step());
        vma.push(vma_step());
    }
    let wall = |v: &[Took]| median(v.iter().map(|t| t.wall).collect());
    let cpu = |v: &[Took]| median(v.iter().map(|t| t.cpu).collect());
    println!("## End-to-end bisect step after a change in mm/vma.c, sanitizers on in both (median of {REPEAT})\n");
    println!("| step | wall | CPU (user + sys) |\n|---|---|---|");
    let label = "`mmharness bisect-run --e2e`, MMHARNESS_SANITIZE=1 (unit -O0 -g1, ASan with outlined checks + UBSan), support library cached, runs two at a time";
    println!("| {label} | {:.3} s | {:.3} s |", wall(&e2e).as_secs_f64(), cpu(&e2e).as_secs_f64());
    let label = "`touch mm/vma.c && make -j2 && ./vma` (tools/testing/vma: -g -Og, ASan+UBSan)";
    println!("| {label} | {:.3} s | {:.3} s |", wall(&vma).as_secs_f64(), cpu(&vma).as_secs_f64());
    let ratio = |f: &dyn Fn(&[Took]) -> Duration| f(&e2e).as_secs_f64() / f(&vma).as_secs_f64();
    println!("\nratio (goal at most 0.40): wall {:.2}, CPU {:.2}", ratio(&wall), ratio(&cpu));
    println!("first end-to-end step, support library built too: {:.3} s wall", cold.wall.as_secs_f64());
    println!("peak memory of any one process in the end-to-end steps: {peak:.0} MB (goal at most 500 MB)");
}
