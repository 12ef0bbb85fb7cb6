//! `mmharness table` on kernel code that prints or loops: the verdicts of a
//! silent tree, and no runner outliving a killed command.

use mmharness_build::artifact::{self, Options};
use mmharness_build::overlay::Overlay;
use mmharness_build::tree::Tree;
use mmharness_build::{cache_dir, fetch};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

fn tree_7_3() -> Tree {
    Tree::open(&mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root).unwrap()
}

/// A scratch copy of the 7.3 tree whose mm/util.c has `from` replaced by `to`.
fn util_c_edited(tree: &Tree, from: &str, to: &str) -> Overlay {
    let text = std::fs::read_to_string(tree.path("mm/util.c")).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from:?} once in mm/util.c");
    Overlay::new(&tree.root, &[("mm/util.c", &text.replace(from, to))]).unwrap()
}

fn table(kernel: &Path) -> Output {
    Command::new(BIN).arg("table").arg("--kernel").arg(kernel).output().unwrap()
}

/// The table's last line: `N as expected, N differ, N not applicable`.
fn summary(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout.lines().last().unwrap_or_default().to_string()
}

/// Kernel code that prints 4 KB on every vm_ops->mapped() call, hundreds of
/// KB in all (a pipe holds 64 KB): the same table as the silent tree.
#[test]
fn kernel_code_printing_4_kb_per_mapped_call_gets_the_tables_verdicts_of_the_silent_tree() {
    let tree = tree_7_3();
    let opening = "static int call_vma_mapped(struct vm_area_struct *vma)\n{";
    let printing = format!("{opening} printf(\"%s\\n\", \"{}\");", "x".repeat(4096));
    let overlay = util_c_edited(&tree, opening, &printing);
    let (silent, printed) = (table(&tree.root), table(overlay.path()));
    assert!(summary(&silent).contains(" as expected, 0 differ, "), "{}", summary(&silent));
    assert_eq!(summary(&printed), summary(&silent), "{}", String::from_utf8_lossy(&printed.stdout));
    assert_eq!((printed.status.code(), silent.status.code()), (Some(0), Some(0)));
}

/// The processes whose executable is `exe`.
fn processes_of(exe: &Path) -> Vec<(u32, char)> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        if std::fs::read_link(e.path().join("exe")).is_ok_and(|p| p == exe) {
            let stat = std::fs::read_to_string(e.path().join("stat")).unwrap_or_default();
            // "pid (comm) state ...": the state follows the last ')'.
            let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
            found.push((pid, state.unwrap_or('?')));
        }
    }
    found
}

/// `kill -9` of mmharness while its runner loops in mmap_action_finish():
/// the runner dies with it.
#[test]
fn a_runner_looping_in_kernel_code_dies_with_a_killed_mmharness() {
    let tree = tree_7_3();
    let finish = "\tif (!err)\n\t\terr = call_vma_mapped(vma);";
    let overlay = util_c_edited(&tree, finish, &format!("\tfor (;;)\n\t\t;{finish}"));
    // The command builds the same artifact through the same cache: its runner.
    let art = artifact::build(&Tree::open(overlay.path()).unwrap(), &Options::runner_only(cache_dir())).unwrap();
    let runner: PathBuf = art.runner().canonicalize().unwrap();
    let mut cli = Command::new(BIN)
        .arg("table")
        .arg("--kernel")
        .arg(overlay.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    // Running, not waiting for a scenario: looping in the kernel code.
    while !processes_of(&runner).iter().any(|&(_, state)| state == 'R') && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let looping = processes_of(&runner).iter().any(|&(_, state)| state == 'R');
    cli.kill().unwrap();
    cli.wait().unwrap();
    assert!(looping, "no runner of {} ran", runner.display());
    std::thread::sleep(Duration::from_secs(1));
    let left = processes_of(&runner);
    for &(pid, _) in &left {
        // Not left looping on the machine, whatever the verdict.
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGKILL);
    }
    assert_eq!(left, Vec::new(), "runners of {} outlived mmharness", runner.display());
}
