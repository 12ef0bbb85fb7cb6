//! A scratch git repository for the bisect tests: commands run with a fixed
//! identity and `KERNEL_SRC` set to the repository, as `git bisect run` sees it.

use std::path::Path;

/// `git ARGS` in `repo`: its stdout and stderr. Any failure but a bisect's
/// (which reports through its output) fails the test.
pub fn git(repo: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.org")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.org")
        .env("KERNEL_SRC", repo)
        .env_remove("MMHARNESS_PANIC_FOR_TEST")
        .output()
        .unwrap();
    assert!(out.status.success() || args[0] == "bisect", "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
