//! The runner as a child process: its streams, its timeout, its end; and
//! scenarios a tree cannot express, refused by name through every backend.

use mmharness::catalogue;
use mmharness::linked::{empty_raw_outcome, linked_manifest, outcome_of_raw, raw_scenario};
use mmharness::scenario::Need;
use mmharness::suite::{self, Status};
use mmharness::{run_in_process, sys, Backend, Injection, Ret, RunError, Runner, Scenario};
use mmharness_build::artifact::{self, Artifact, Options};
use mmharness_build::caps::Cap;
use mmharness_build::overlay::Overlay;
use mmharness_build::tree::Tree;
use mmharness_build::{cache_dir, fetch};
use std::time::{Duration, Instant};

fn tree_7_3() -> Tree {
    Tree::open(&mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root).unwrap()
}

/// The runner of the 7.3 tree with `file`'s text edited: `from` becomes `to`.
fn edited_7_3(file: &str, from: &str, to: &str) -> (Overlay, Artifact) {
    let tree = tree_7_3();
    let text = std::fs::read_to_string(tree.path(file)).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from:?} once in {file}");
    let overlay = Overlay::new(&tree.root, &[(file, &text.replace(from, to))]).unwrap();
    let art = artifact::build(&Tree::open(overlay.path()).unwrap(), &Options::runner_only(cache_dir())).unwrap();
    (overlay, art)
}

/// Our children that are `comm`, alive or not yet reaped.
fn children_named(comm: &str) -> Vec<u32> {
    let me = std::process::id();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
        // "pid (comm) state ppid ...": comm may hold spaces, never the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(me) && head.ends_with(&format!("({comm}")) {
            found.push(pid);
        }
    }
    found
}

/// A runner that never sends its greeting is killed at the timeout and
/// reaped: the caller gets an error, not a hang.
#[test]
fn a_runner_that_never_greets_is_killed_and_reaped_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("runner");
    std::fs::write(&script, "#!/bin/sh\nexec sleep 4321\n").unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut runner = Runner::new(&script, linked_manifest().clone()).with_timeout(Duration::from_millis(500));
    let started = Instant::now();
    let err = runner.run(&Scenario::default()).unwrap_err();
    let took = started.elapsed();
    assert!(matches!(&err, RunError::NoHello { why, .. } if why == "none within 0.5 s, killed"), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(children_named("sleep"), Vec::<u32>::new(), "the runner is still there, or a zombie");
}

/// Kernel code that prints megabytes (4 MiB on each vm_ops->mapped() call)
/// gets the same outcome as the silent tree: its stderr is drained while
/// the outcome is awaited.
#[test]
fn kernel_code_printing_megabytes_gets_the_outcome_of_the_silent_tree() {
    let line = format!("{}\\n", "x".repeat(4095));
    let opening = "static int call_vma_mapped(struct vm_area_struct *vma)\n{";
    // On the line of the brace, so that every later line keeps its number.
    let printing = format!("{opening} for (int i = 0; i < 1024; i++) printf(\"%s\", \"{line}\");");
    let (_overlay, art) = edited_7_3("mm/util.c", opening, &printing);
    let s = Scenario::remap_full(0x1000);
    let o = Runner::for_artifact(&art).run(&s).unwrap();
    assert_eq!((o.crash.as_ref(), o.ret(), o.mapped_calls(), o.unmaps().len()), (None, Ret(0), 1, 0), "{o:#?}");
    assert_eq!(o, Runner::linked().run(&s).unwrap());
}

/// What kernel code printed just before it crashed is in the crash report:
/// printk is printf in the tools headers, and the runner's stdout is a pipe.
#[test]
fn what_kernel_code_printed_before_a_crash_is_in_the_report() {
    let opening = "static int call_vma_mapped(struct vm_area_struct *vma)\n{";
    let crashing = format!("{opening} printf(\"last words\\n\"); *(volatile int *)0 = 0;");
    let (_overlay, art) = edited_7_3("mm/util.c", opening, &crashing);
    let o = Runner::for_artifact(&art).run(&Scenario::remap_full(0x1000)).unwrap();
    let c = o.crash.expect("a crash");
    assert!(c.description.contains("last words"), "{}", c.description);
}

/// /dev/mem's hook on a tree without it: an error naming `devmem`, from
/// the runner's backend, before anything runs.
#[test]
fn devmem_on_a_tree_without_mmap_mem_prepare_is_unsupported_naming_devmem() {
    let (_overlay, art) = edited_7_3(
        "drivers/char/mem.c",
        "static int mmap_mem_prepare(struct vm_area_desc *desc)",
        "static int mmap_mem_prepare_renamed(struct vm_area_desc *desc)",
    );
    assert!(!art.manifest.capabilities.has(Cap::Devmem));
    let err = Runner::for_artifact(&art).run(&Scenario::devmem(0)).unwrap_err();
    assert!(matches!(err, RunError::Unsupported(Need(&[Cap::Devmem]))), "{err:?}");
    assert_eq!(err.to_string(), "the tree cannot express this scenario: it lacks devmem");
}

/// An entry whose scenario needs more than the entry lists is reported as
/// not applicable, with the capability, never run on another path.
#[test]
fn the_suite_reports_a_scenario_the_tree_cannot_express_as_not_applicable() {
    let (_overlay, art) = edited_7_3(
        "drivers/char/mem.c",
        "static int mmap_mem_prepare(struct vm_area_desc *desc)",
        "static int mmap_mem_prepare_renamed(struct vm_area_desc *desc)",
    );
    let entry = catalogue::Entry { requires: &[], ..catalogue::entry("devmem_mmap_succeeds_without_mapped").unwrap() };
    let row = suite::run_entry(&mut Runner::for_artifact(&art), &entry).unwrap();
    assert_eq!(row.status, Status::NotApplicable { reason: "not applicable: the tree lacks devmem".into() });
}

/// In this process too, a scenario the tree cannot express is an error:
/// 7.3 has no success_hook.
#[test]
fn in_process_a_success_hook_on_7_3_is_unsupported_naming_success_hook() {
    assert!(!linked_manifest().capabilities.has(Cap::SuccessHook), "the linked tree is 7.3");
    let err = run_in_process(&Scenario { success_hook: Some(0), ..Scenario::default() }).unwrap_err();
    assert!(matches!(err, RunError::Unsupported(Need::SUCCESS_HOOK)), "{err:?}");
}

#[test]
fn in_process_an_injection_site_that_is_not_extracted_is_an_error() {
    let s = Scenario { remap: Injection::always(-12).from("no_such_function"), ..Scenario::remap_full(0x1000) };
    let err = run_in_process(&s).unwrap_err();
    assert!(matches!(&err, RunError::UnknownSite(site) if site == "no_such_function"), "{err:?}");
}

/// Past the Rust check, the driver still runs nothing and says what the
/// tree lacks (it once ran the scenario without the hook, in silence).
#[test]
fn the_driver_itself_refuses_a_success_hook_on_7_3() {
    let mut raw = raw_scenario(&Scenario::default()).unwrap();
    raw.has_success_hook = 1;
    let mut out = empty_raw_outcome();
    // SAFETY: both pointers are valid for the call; mmh_run keeps neither.
    unsafe { sys::mmh_run(&raw, &mut out) };
    assert_eq!((out.prepared, out.completed), (0, 0));
    assert!(matches!(outcome_of_raw(&out), Err(RunError::Unsupported(Need::SUCCESS_HOOK))));
}

/// The real NULL dereference is a finding: the runner reports the signal
/// and the next scenario runs in a fresh runner.
#[test]
fn a_crash_in_the_kernel_code_is_reported_and_the_run_goes_on() {
    let mut runner = Runner::linked();
    let crash = Scenario { hide_from_rmap_until_complete: true, has_file: false, ..Scenario::default() };
    let o = runner.run(&crash).unwrap();
    let c = o.crash.expect("a crash");
    assert_eq!(c.signal, Some(nix::libc::SIGSEGV), "{}", c.description);
    assert_eq!(runner.run(&Scenario::remap_full(0x1000)).unwrap().ret(), Ret(0));
}

#[test]
fn the_runner_gives_the_same_outcome_as_the_in_process_call() {
    let mut runner = Runner::linked();
    for e in catalogue::catalogue().iter().filter(|e| !e.expected.crash) {
        match (run_in_process(&e.scenario), runner.run(&e.scenario)) {
            // Pointers differ between processes; what they name does not.
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{}", e.name),
            // A scenario the tree cannot express is refused alike.
            (a, b) => assert_eq!(a.map_err(|e| e.to_string()), b.map_err(|e| e.to_string()), "{}", e.name),
        }
    }
}

/// A runner that never answers (a revision or a mutant that loops) is
/// killed after the timeout and reported, so a bisect cannot hang.
#[test]
fn a_runner_that_hangs_is_killed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let mut hello = Vec::new();
    for word in [
        0x3148_4d4d_u32,
        std::mem::size_of::<sys::mmh_scenario>() as u32,
        std::mem::size_of::<sys::mmh_outcome>() as u32,
        0,
    ] {
        hello.extend(word.to_ne_bytes());
    }
    std::fs::write(dir.path().join("hello"), hello).unwrap();
    let script = dir.path().join("runner");
    std::fs::write(&script, format!("#!/bin/sh\ncat {}\nexec sleep 30\n", dir.path().join("hello").display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut runner =
        Runner::new(&script, linked_manifest().clone()).with_timeout(std::time::Duration::from_millis(300));
    let o = runner.run(&Scenario::default()).unwrap();
    let c = o.crash.expect("a hang is reported");
    assert!(c.description.starts_with("timed out after 0.3 s"), "{}", c.description);
}
