//! `mmharness bisect-run` as `git bisect run` runs it: verdicts, skips and
//! tool failures, on the default tree and on a planted history.

mod git;
use git::git;
use mmharness_build::artifact::{self, Options};
use mmharness_build::cache_dir;
use mmharness_build::fetch::{self};
use mmharness_build::overlay::Overlay;
use mmharness_build::tree::Tree;
use std::path::Path;

const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

fn tree_7_3() -> Tree {
    Tree::open(&mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root).unwrap()
}

/// Replaces `from` with `to` in a file of the repo and commits.
fn commit_edit(repo: &Path, file: &str, from: &str, to: &str, message: &str) -> String {
    let p = repo.join(file);
    let text = std::fs::read_to_string(&p).unwrap_or_default();
    let new = if from.is_empty() { format!("{text}{to}") } else { text.replacen(from, to, 1) };
    assert_ne!(text, new, "{message}: nothing to replace");
    std::fs::write(&p, new).unwrap();
    git(repo, &["commit", "-qam", message]);
    git(repo, &["rev-parse", "HEAD"]).trim().to_string()
}

#[test]
fn git_bisect_run_finds_the_planted_regression_and_skips_the_broken_commit() {
    let tree = tree_7_3();
    let art = artifact::build(&tree, &Options::runner_only(cache_dir())).unwrap();
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    // The real 7.3 files the build reads, and nothing else.
    for input in &art.inputs {
        let rel = input.strip_prefix(&tree.root).unwrap();
        std::fs::create_dir_all(r.join(rel).parent().unwrap()).unwrap();
        std::fs::copy(input, r.join(rel)).unwrap();
    }
    std::fs::write(r.join("NOTES"), "notes\n").unwrap();
    git(r, &["init", "-q"]);
    git(r, &["add", "-A"]);
    git(r, &["commit", "-qm", "the 7.3 files mmharness reads"]);
    let good = git(r, &["rev-parse", "HEAD"]).trim().to_string();
    for i in 1..=3 {
        commit_edit(r, "NOTES", "", &format!("unrelated {i}\n"), &format!("unrelated {i}"));
    }
    let finish_unlock = "\tmaybe_rmap_unlock_action(vma, action);";
    commit_edit(
        r,
        "mm/util.c",
        finish_unlock,
        "\tmaybe_rmap_unlock_action(vma, action) this does not compile;",
        "break the build",
    );
    commit_edit(
        r,
        "mm/util.c",
        "\tmaybe_rmap_unlock_action(vma, action) this does not compile;",
        finish_unlock,
        "fix the build",
    );
    commit_edit(r, "NOTES", "", "unrelated 4\n", "unrelated 4");
    let bad = commit_edit(r, "mm/util.c", "\treturn action->error_override ?: err;", "\treturn err;", "the regression");
    commit_edit(r, "NOTES", "", "unrelated 5\n", "unrelated 5");

    git(r, &["bisect", "start", "HEAD", &good]);
    let run = git(r, &["bisect", "run", BIN, "bisect-run"]);
    let log = git(r, &["bisect", "log"]);
    println!("{run}\n{log}");
    assert!(run.contains(&format!("{bad} is the first bad commit")), "{run}");
    assert!(log.contains("# skip:"), "the broken commit was never tested: {log}");
    assert!(run.contains("cannot be built"), "{run}");
}

#[test]
fn bisect_run_skips_a_tree_without_mmap_action_with_125() {
    let tree = tree_7_3();
    let types = std::fs::read_to_string(tree.path("include/linux/mm_types.h"))
        .unwrap()
        .replace("struct mmap_action {", "struct renamed {");
    let old = Overlay::new(&tree.root, &[("include/linux/mm_types.h", &types)]).unwrap();
    let out = std::process::Command::new(BIN).arg("bisect-run").env("KERNEL_SRC", old.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("older than 6.19"), "{stderr}");
}

#[test]
fn bisect_run_maps_a_panic_of_the_tool_to_128() {
    let out = std::process::Command::new(BIN)
        .arg("bisect-run")
        .env("MMHARNESS_PANIC_FOR_TEST", "1")
        .env("KERNEL_SRC", tree_7_3().root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bisect_run_without_kernel_src_is_a_tool_failure_not_a_verdict() {
    let out = std::process::Command::new(BIN).arg("bisect-run").env_remove("KERNEL_SRC").output().unwrap();
    assert_eq!(out.status.code(), Some(128));
}

#[test]
fn bisect_run_on_the_7_3_tree_is_good() {
    let out = std::process::Command::new(BIN).arg("bisect-run").env("KERNEL_SRC", tree_7_3().root).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

/// A stray `#ifdef` before `mmap_action_prepare` leaves a conditional group
/// open: gcc refuses the file, so the revision is skipped (125), never
/// judged on a nommu branch paired with the wrong `#else`.
#[test]
fn bisect_run_skips_an_unbalanced_ifdef_naming_the_line() {
    let tree = tree_7_3();
    let util = std::fs::read_to_string(tree.path("mm/util.c")).unwrap();
    let at = util.find("int mmap_action_prepare(struct vm_area_desc *desc)").expect("7.3's prepare");
    let stray = format!("{}#ifdef CONFIG_STRAY\n{}", &util[..at], &util[at..]);
    let broken = Overlay::new(&tree.root, &[("mm/util.c", &stray)]).unwrap();
    let out = std::process::Command::new(BIN).arg("bisect-run").env("KERNEL_SRC", broken.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("mm/util.c:") && stderr.contains("is never closed by #endif"), "{stderr}");
}

/// `mmharness bisect-run ARGS` on the 7.3 tree, with `env` set: the exit code and stderr.
fn bisect_exit(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("bisect-run").args(args).env("KERNEL_SRC", tree_7_3().root);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// git reads 1 to 127 but 125 as bad, and 0 as good: a command line that
/// is not a bisect step must exit 128 or more.
#[test]
fn a_misspelt_flag_a_bad_number_and_help_are_no_verdicts() {
    for args in [&["--trys", "2"][..], &["--tries", "abc"], &["--help"]] {
        let (code, stderr) = bisect_exit(args, &[]);
        assert_eq!(code, Some(128), "{args:?}: {stderr}");
    }
}

#[test]
fn a_filter_that_names_no_scenario_fails_before_any_build() {
    let empty = tempfile::tempdir().unwrap();
    let cache = empty.path().to_str().unwrap();
    let (code, stderr) = bisect_exit(&["--", "no_such_scenario"], &[("MMHARNESS_CACHE", cache)]);
    assert_eq!(code, Some(128), "{stderr}");
    assert!(stderr.contains("no catalogue scenario's name contains"), "{stderr}");
    assert!(!empty.path().join("artifacts").exists(), "nothing was built");
}

#[test]
fn kernel_src_below_the_top_of_the_tree_stops_the_bisect() {
    let out =
        std::process::Command::new(BIN).arg("bisect-run").env("KERNEL_SRC", tree_7_3().path("mm")).output().unwrap();
    assert_eq!(out.status.code(), Some(128), "{}", String::from_utf8_lossy(&out.stderr));
}

/// `CC=false` fails without a word: a broken compiler, not the revision's code.
#[test]
fn a_compiler_that_fails_silently_is_the_machines_fault() {
    let empty = tempfile::tempdir().unwrap();
    let (code, stderr) = bisect_exit(&[], &[("CC", "false"), ("MMHARNESS_CACHE", empty.path().to_str().unwrap())]);
    assert_eq!(code, Some(128), "{stderr}");
}

/// A compiler that is not there: the message names it and says what to set.
#[test]
fn a_missing_compiler_is_named_with_what_to_set() {
    let empty = tempfile::tempdir().unwrap();
    let (code, stderr) =
        bisect_exit(&[], &[("CC", "/nonexistent/cc"), ("MMHARNESS_CACHE", empty.path().to_str().unwrap())]);
    assert_eq!(code, Some(128), "{stderr}");
    assert!(stderr.contains("`/nonexistent/cc`") && stderr.contains("set CC to"), "{stderr}");
}
