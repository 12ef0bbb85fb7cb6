//! The build script stays home: without a kernel tree it fails with one line
//! that says what to do, and starts no fetch. It runs in a cargo of its own,
//! with a target dir kept between runs so that only the first one compiles
//! the build script's dependencies.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

#[test]
fn without_a_tree_the_build_fails_in_one_line_and_fetches_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let (bin, called, cache) =
        (scratch.path().join("bin"), scratch.path().join("called"), scratch.path().join("cache"));
    std::fs::create_dir(&bin).unwrap();
    std::fs::create_dir(&cache).unwrap();
    // Stand-ins first on PATH, which record that they were started.
    for tool in ["apt-get", "apt-cache", "dpkg-deb"] {
        let fake = bin.join(tool);
        std::fs::write(&fake, format!("#!/bin/sh\necho {tool} \"$@\" >> '{}'\nexit 1\n", called.display())).unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());

    let out = Command::new(env!("CARGO"))
        .args(["build", "--offline", "--quiet", "-p", "mmharness-sys", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml"))
        .env("CARGO_TARGET_DIR", Path::new(env!("CARGO_TARGET_TMPDIR")).join("stays-home"))
        .env("PATH", path)
        .env("MMHARNESS_CACHE", &cache)
        .env_remove("KERNEL_SRC")
        .output()
        .unwrap();

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(
        errors,
        [
            "error: mmharness-sys@0.1.0: no kernel tree: set KERNEL_SRC to a kernel tree, \
             or fetch the default one with scripts/setup (or mmharness fetch)",
            "error: build script logged errors"
        ],
        "{stderr}"
    );
    assert!(!called.exists(), "started: {}", std::fs::read_to_string(&called).unwrap_or_default());
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0, "the build wrote to the cache");
}
