//! The artifact cache as `mmharness build` uses it: one key for one tree
//! wherever the build runs and whatever the cache's path, nothing read
//! from around the cache, damaged entries rebuilt, a read-only cache read.

use mmharness_build::fetch;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

fn tree_7_3() -> PathBuf {
    mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root
}

/// `mmharness build --kernel <7.3>` run in `cwd` with the cache `cache`:
/// the artifact's key and directory, and whether it was compiled.
fn build(cwd: &Path, cache: &Path) -> (String, PathBuf, bool) {
    let out = Command::new(BIN)
        .args(["build", "--kernel"])
        .arg(tree_7_3())
        .current_dir(cwd)
        .env("MMHARNESS_CACHE", cache)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let manifest: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let line = stderr.lines().find(|l| l.starts_with("artifact: ")).expect("the artifact line");
    let dir = line.trim_start_matches("artifact: ").split(" (").next().unwrap();
    (manifest["key"].as_str().unwrap().to_string(), PathBuf::from(dir), line.ends_with("(compiled)"))
}

#[test]
fn one_tree_has_one_key_from_any_directory_and_cache_path() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let first = build(Path::new("/tmp"), a.path());
    let second = build(Path::new("/"), a.path());
    let elsewhere = build(Path::new("/usr"), b.path());
    assert!(first.2, "an empty cache compiles");
    assert!(!second.2, "the same tree from another directory is taken from the cache");
    assert_eq!((first.0.as_str(), second.0.as_str()), (elsewhere.0.as_str(), elsewhere.0.as_str()));
}

#[test]
fn a_cache_inside_another_tree_reads_none_of_its_files() {
    let other = tempfile::tempdir().unwrap();
    for f in ["mm/vma.h", "tools/lib/bitmap.c", "mm/util.c"] {
        let p = other.path().join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "#error read from the tree around the cache\n").unwrap();
    }
    let clean = tempfile::tempdir().unwrap();
    let (key, _, _) = build(Path::new("/tmp"), &other.path().join(".cache"));
    assert_eq!(key, build(Path::new("/tmp"), clean.path()).0);
}

/// Damages one file of a fresh entry; the next build must rebuild it.
fn damaged(damage: impl Fn(&Path)) -> bool {
    let cache = tempfile::tempdir().unwrap();
    let (_, dir, _) = build(Path::new("/tmp"), cache.path());
    damage(&dir);
    let (_, again, compiled) = build(Path::new("/tmp"), cache.path());
    assert_eq!(again, dir);
    let out =
        Command::new(BIN).args(["table", "--kernel"]).arg(tree_7_3()).env("MMHARNESS_CACHE", cache.path()).output();
    let out = out.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    compiled
}

fn truncate(path: &Path) {
    let len = std::fs::metadata(path).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(len / 2).unwrap();
}

#[test]
fn a_deleted_manifest_is_rebuilt() {
    assert!(damaged(|d| std::fs::remove_file(d.join("manifest.json")).unwrap()));
}

#[test]
fn a_truncated_runner_is_rebuilt() {
    assert!(damaged(|d| truncate(&d.join("runner"))));
}

#[test]
fn a_truncated_library_is_rebuilt() {
    assert!(damaged(|d| truncate(&d.join("libmmharness_kernel.a"))));
}

#[test]
fn truncated_bindings_are_made_again() {
    let cache = tempfile::tempdir().unwrap();
    let (_, dir, _) = build(Path::new("/tmp"), cache.path());
    let whole = std::fs::read_to_string(dir.join("bindings.rs")).unwrap();
    truncate(&dir.join("bindings.rs"));
    let (_, _, compiled) = build(Path::new("/tmp"), cache.path());
    assert!(!compiled, "the compiled entry is intact: only its bindings are made again");
    assert_eq!(std::fs::read_to_string(dir.join("bindings.rs")).unwrap(), whole);
}

/// A read-only bind mount of a directory, undone on drop.
struct ReadOnly(PathBuf);

impl ReadOnly {
    fn mount(dir: &Path, at: &Path) -> Self {
        let ok = |args: &[&str]| Command::new("mount").args(args).arg(dir).arg(at).status().unwrap().success();
        assert!(ok(&["--bind"]), "mount --bind needs root");
        let guard = Self(at.to_path_buf());
        assert!(ok(&["-o", "remount,bind,ro"]), "remounting read-only");
        guard
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_warm_read_only_cache_is_read() {
    let (cache, view) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (key, _, _) = build(Path::new("/tmp"), cache.path());
    let _ro = ReadOnly::mount(cache.path(), view.path());
    let (again, dir, compiled) = build(Path::new("/tmp"), view.path());
    assert_eq!((again, compiled), (key, false));
    assert!(dir.starts_with(view.path()));
}

/// The compiler the `cc` crate finds is remembered in the cache, for the
/// environment that chose it: `CC` set otherwise chooses again.
#[test]
fn the_compiler_found_is_remembered_for_its_environment() {
    let cache = tempfile::tempdir().unwrap();
    build(Path::new("/tmp"), cache.path());
    let memo = || -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(cache.path().join("compiler.json")).unwrap()).unwrap()
    };
    assert!(!memo()["version"].as_str().unwrap().is_empty(), "{}", memo());
    let out = Command::new(BIN)
        .args(["build", "--kernel"])
        .arg(tree_7_3())
        .env("MMHARNESS_CACHE", cache.path())
        .env("CC", "gcc")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(memo()["env"][0], "gcc", "CC=gcc chose the compiler again: {}", memo());
}

/// A cache path that is a file: the error says where the path came from
/// and what to set, and exits 2, not a verdict.
#[test]
fn a_cache_that_is_a_file_says_to_set_mmharness_cache() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache");
    std::fs::write(&file, "").unwrap();
    let out =
        Command::new(BIN).args(["table", "--kernel"]).arg(tree_7_3()).env("MMHARNESS_CACHE", &file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("Not a directory") && stderr.contains("set MMHARNESS_CACHE to a writable directory"),
        "{stderr}"
    );
}
