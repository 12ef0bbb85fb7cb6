//! `mmharness fetch` killed in the middle of an unpack: none of the
//! processes it started lives on.

use mmharness_build::fetch::{unpacked_paths, TreeManifest};
use sha2::{Digest, Sha256};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

/// Alive and not a zombie (a zombie waits for whoever adopted it to reap it).
fn running(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| !stat.rsplit(')').next().unwrap_or_default().trim_start().starts_with('Z'))
}

fn within(limit: Duration, done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

#[test]
fn a_killed_fetch_leaves_no_process_behind() {
    let scratch = tempfile::tempdir().unwrap();
    let (bin, pids) = (scratch.path().join("bin"), scratch.path().join("pids"));
    std::fs::create_dir(&bin).unwrap();
    // Stand-ins for the unpack pipeline that never finish: the fetch is
    // killed while they run.
    for tool in ["dpkg-deb", "tar"] {
        let fake = bin.join(tool);
        std::fs::write(&fake, format!("#!/bin/sh\necho $$ >> '{}'\nexec sleep 600\n", pids.display())).unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // A cached package whose tree is not unpacked yet.
    let cache = scratch.path().join("cache");
    let place = cache.join("trees/linux-source-9.9");
    std::fs::create_dir_all(&place).unwrap();
    let deb = scratch.path().join("linux-source-9.9_1_all.deb");
    std::fs::write(&deb, "a package").unwrap();
    let manifest = TreeManifest {
        package: "linux-source-9.9".into(),
        version: "1".into(),
        sha256: Sha256::digest("a package").iter().map(|b| format!("{b:02x}")).collect(),
        deb,
        paths: unpacked_paths(),
        files: Default::default(),
    };
    std::fs::write(place.join("manifest.json"), serde_json::to_string(&manifest).unwrap()).unwrap();

    let mut fetch = std::process::Command::new(BIN)
        .args(["fetch", "9.9"])
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("MMHARNESS_CACHE", &cache)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = || std::fs::read_to_string(&pids).unwrap_or_default().lines().map(String::from).collect::<Vec<_>>();
    assert!(within(Duration::from_secs(30), || started().len() == 3), "started: {:?}", started());
    fetch.kill().unwrap();
    fetch.wait().unwrap();

    let outlived = !within(Duration::from_secs(5), || !started().iter().any(|p| running(p)));
    let survivors: Vec<String> = started().into_iter().filter(|p| running(p)).collect();
    for pid in &survivors {
        let _ = std::process::Command::new("kill").args(["-9", pid]).status();
    }
    assert!(!outlived, "dpkg-deb and tar pids {survivors:?} outlived the fetch");
}
