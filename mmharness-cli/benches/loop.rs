//! The edit-build-verdict loop and scenario throughput, printed as a table
//! of times and ratios against the kernel's own `tools/testing/vma` step.
//!
//! `cargo bench --bench loop` (about three minutes on 2 cores). Everything
//! runs on scratch copies of the default tree, with a scratch cache.

use mmharness::catalogue::catalogue;
use mmharness::{run_in_process, Backend, Runner, Scenario};
use mmharness_build::artifact::{self, Options};
use mmharness_build::fetch::{self};
use mmharness_build::{cache_dir, tree::Tree};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const REPEAT: usize = 5;
const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// Largest resident set of any child process waited for so far, in MB.
fn children_peak_mb() -> f64 {
    let u = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN).expect("getrusage");
    u.max_rss() as f64 / 1024.0
}

fn run(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let out = cmd.output().expect("spawn");
    let d = t.elapsed();
    assert!(out.status.success() || out.status.code() == Some(1), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    d
}

fn copy_tree(from: &Path, to: &Path) {
    let ok = Command::new("cp").arg("-a").arg(from).arg(to).status().expect("cp");
    assert!(ok.success());
}

fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// The five changes the loop is measured on. Each repetition `i` makes a
/// change of its own, so that a repeated (b) is a new extract every time.
type Change = Box<dyn Fn(&Path, usize)>;

fn append(file: &Path, i: usize) {
    let mut text = std::fs::read_to_string(file).unwrap();
    text.push_str(&format!("/* bench {i} */\n"));
    std::fs::write(file, text).unwrap();
}

fn changes() -> Vec<(&'static str, Change)> {
    vec![
        ("(a) cold, empty cache", Box::new(|_: &Path, _| {})),
        (
            "(b) change inside an extracted body",
            Box::new(|t: &Path, i| {
                let p = t.join("mm/util.c");
                let text = std::fs::read_to_string(&p).unwrap();
                let at = text.find("\tsize_t len").expect("mmap_action_finish's len");
                let end = at + text[at..].find('\n').unwrap();
                std::fs::write(&p, format!("{}\tsize_t len = {i};{}", &text[..at], &text[end..])).unwrap();
            }),
        ),
        ("(c) change after the last extracted definition", Box::new(|t: &Path, i| append(&t.join("mm/util.c"), i))),
        (
            "(d) change in include/linux/mm_types.h",
            Box::new(|t: &Path, i| append(&t.join("include/linux/mm_types.h"), i)),
        ),
        ("(e) nothing changed", Box::new(|_: &Path, _| {})),
    ]
}

/// `mmharness bisect-run` after each change, on a scratch tree and cache.
fn bisect_loop(base: &Path, sanitize: bool) -> Vec<(String, Duration)> {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("t");
    copy_tree(base, &tree);
    let mut rows = Vec::new();
    for (n, (name, change)) in changes().into_iter().enumerate() {
        let times = (0..REPEAT)
            .map(|i| {
                change(&tree, n * REPEAT + i);
                // Cold is cold every time: a cache of its own.
                let cache = if n == 0 { scratch.path().join(format!("cold{i}")) } else { scratch.path().join("cold0") };
                let mut cmd = Command::new(BIN);
                cmd.arg("bisect-run").env("KERNEL_SRC", &tree).env("MMHARNESS_CACHE", &cache);
                if sanitize {
                    cmd.env("MMHARNESS_SANITIZE", "1");
                }
                run(&mut cmd)
            })
            .collect();
        rows.push((name.to_string(), median(times)));
    }
    rows
}

/// The kernel's own `tools/testing/vma`: `touch mm/vma.c`, then `make -j2`.
fn tools_testing_vma_step(base: &Path, sanitize: bool) -> Duration {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("t");
    copy_tree(base, &tree);
    let dir = tree.join("tools/testing/vma");
    if !sanitize {
        edit(&tree.join("tools/testing/shared/shared.mk"), "-fsanitize=address -fsanitize=undefined", "");
        edit(&tree.join("tools/testing/shared/shared.mk"), "LDFLAGS += -fsanitize=address -fsanitize=undefined", "");
    }
    run(Command::new("make").arg("-j2").current_dir(&dir));
    let times = (0..REPEAT)
        .map(|_| {
            let now = std::fs::File::open(tree.join("mm/vma.c")).unwrap();
            now.set_modified(std::time::SystemTime::now()).unwrap();
            run(Command::new("make").arg("-j2").current_dir(&dir))
        })
        .collect();
    median(times)
}

/// `cargo test --test catalogue` after each change, on a scratch tree and
/// cache: the build (build.rs, Rust recompile and relink) apart from the
/// run (which includes cargo's up-to-date check).
fn cargo_test_loop(base: &Path) -> Vec<(String, Duration, Duration)> {
    let scratch = tempfile::tempdir().unwrap();
    let tree = scratch.path().join("t");
    copy_tree(base, &tree);
    // The catalogue is a test of the library, at the workspace's root.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf();
    let cargo = |tree: Option<&Path>| {
        let mut c = Command::new(env!("CARGO"));
        c.current_dir(&root).args(["test", "-p", "mmharness", "--test", "catalogue", "-q"]);
        if let Some(t) = tree {
            c.env("KERNEL_SRC", t).env("MMHARNESS_CACHE", scratch.path().join("cache"));
        }
        c
    };
    let mut rows = Vec::new();
    for (n, (name, change)) in changes().into_iter().enumerate() {
        change(&tree, n);
        if n == 0 {
            // Cold is cold: build.rs keeps its artifacts in OUT_DIR.
            run(Command::new(env!("CARGO")).current_dir(&root).args(["clean", "-p", "mmharness-sys"]));
        }
        let build = run(cargo(Some(&tree)).arg("--no-run"));
        let test = run(&mut cargo(Some(&tree)));
        rows.push((name.to_string(), build, test));
    }
    // Leave the workspace built for the default tree again.
    run(cargo(None).arg("--no-run"));
    rows
}

fn throughput(threads: usize, runner: &artifact::Artifact, in_process: bool) -> f64 {
    // The entries the tree can express; a crash would end this process.
    let caps = &runner.manifest.capabilities;
    let scenarios: Vec<Scenario> = catalogue()
        .into_iter()
        .filter(|e| !e.expected.crash && e.applicable(caps).is_ok() && e.scenario.unmet(caps).is_none())
        .map(|e| e.scenario)
        .collect();
    let per_thread = 20_000 / threads;
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut r = (!in_process).then(|| Runner::for_artifact(runner));
                for i in 0..per_thread {
                    let sc = &scenarios[i % scenarios.len()];
                    match &mut r {
                        Some(r) => drop(r.run(sc).unwrap()),
                        None => drop(run_in_process(sc).unwrap()),
                    }
                }
            });
        }
    });
    (per_thread * threads) as f64 / t.elapsed().as_secs_f64()
}

fn main() {
    let base: PathBuf = mmharness_build::fetched(fetch::DEFAULT_SERIES).expect("the default tree").root;
    let tree = Tree::open(&base).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let art = artifact::build(&tree, &Options::runner_only(cache_dir())).unwrap();

    println!("## Scenario throughput (Linux {}, {cores} cores)\n", tree.version);
    println!("| backend | 1 thread | {cores} threads |\n|---|---|---|");
    println!("| in process | {:.0}/s | {:.0}/s |", throughput(1, &art, true), throughput(cores, &art, true));
    println!("| runner | {:.0}/s | {:.0}/s |", throughput(1, &art, false), throughput(cores, &art, false));

    let vma_plain = tools_testing_vma_step(&base, false);
    let vma_asan = tools_testing_vma_step(&base, true);
    println!("\n## tools/testing/vma, `touch mm/vma.c && make -j2` (median of {REPEAT})\n");
    println!("| sanitizers off | sanitizers on |\n|---|---|\n| {} | {} |", secs(vma_plain), secs(vma_asan));

    for (sanitize, vma) in [(false, vma_plain), (true, vma_asan)] {
        println!(
            "\n## `mmharness bisect-run`, whole catalogue, sanitizers {} (median of {REPEAT})\n",
            if sanitize { "on" } else { "off" }
        );
        println!("| change | time | / tools/testing/vma step |\n|---|---|---|");
        for (name, d) in bisect_loop(&base, sanitize) {
            println!("| {name} | {} | {:.2} |", secs(d), d.as_secs_f64() / vma.as_secs_f64());
        }
    }
    println!("\npeak memory of any one process in a step: {:.0} MB", children_peak_mb());

    println!("\n## `cargo test --test catalogue` against a scratch KERNEL_SRC\n");
    println!("| change | build (build.rs, recompile, relink) | test run |\n|---|---|---|");
    for (name, build, test) in cargo_test_loop(&base) {
        println!("| {name} | {} | {} |", secs(build), secs(test));
    }
}
