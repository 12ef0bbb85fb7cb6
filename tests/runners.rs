//! The linked tree's runner: it contains crashes and hangs of the kernel
//! code, and gives the outcome the in-process call gives.

use mmharness::catalogue::catalogue;
use mmharness::linked::linked_manifest;
use mmharness::{run_in_process, sys, Backend, Ret, Runner, Scenario};

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
    for e in catalogue().iter().filter(|e| !e.expected.crash) {
        let a = run_in_process(&e.scenario);
        let b = runner.run(&e.scenario).unwrap();
        // Pointers differ between processes; what they name does not.
        assert_eq!(a, b, "{}", e.name);
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
