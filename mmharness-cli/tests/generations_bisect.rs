//! `git bisect run mmharness bisect-run` across the API's generations: a
//! planted regression in a history that goes from a 7.0-shaped tree through
//! 7.0.y and 7.1 shapes to the 7.2 tree is found, and no shape change is
//! taken for it. The shapes are derived from 7.2 at test time.

// The shape fixtures of the root crate's tests; the 6.19 one is not used here.
#[path = "../../tests/shapes/mod.rs"]
#[allow(dead_code)]
mod shapes;

mod git;
use git::git;
use mmharness_build::artifact::{self, Options};
use mmharness_build::tree::Tree;
use std::path::{Path, PathBuf};

const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

/// Writes the files `inputs` (relative) as `root` has them into `repo`,
/// with `edit` applied to each, and commits.
fn commit_tree(repo: &Path, root: &Path, inputs: &[PathBuf], edit: fn(&str) -> String, message: &str) -> String {
    for rel in inputs {
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        std::fs::create_dir_all(repo.join(rel).parent().unwrap()).unwrap();
        std::fs::write(repo.join(rel), edit(&text)).unwrap();
    }
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-qm", message]);
    git(repo, &["rev-parse", "HEAD"]).trim().to_string()
}

/// The regression: `mmap_action_finish` no longer unmaps a VMA whose action failed.
fn no_unmap(text: &str) -> String {
    text.replacen("\tdo_munmap(current->mm, vma->vm_start, len, NULL);\n", "", 1)
}

#[test]
fn git_bisect_run_finds_a_regression_planted_between_the_7_1_and_7_2_shapes() {
    let base = Tree::open(&mmharness_build::fetched("7.2").unwrap().root).unwrap();
    let art = artifact::build(&base, &Options::runner_only(mmharness_build::cache_dir())).unwrap();
    let inputs: Vec<PathBuf> = art.inputs.iter().map(|p| p.strip_prefix(&base.root).unwrap().to_path_buf()).collect();
    let repo = tempfile::tempdir().unwrap();
    let r = repo.path();
    git(r, &["init", "-q", "-b", "main"]);
    let same = |t: &str| t.to_string();
    let good = commit_tree(r, shapes::v7_0(&base.root).overlay.path(), &inputs, same, "the 7.0 shape");
    let stable =
        commit_tree(r, shapes::v7_0_stable(&base.root).overlay.path(), &inputs, same, "7.1's prototypes backported");
    let v7_1 = commit_tree(r, shapes::v7_1(&base.root).overlay.path(), &inputs, same, "the 7.1 shape");
    let bad = commit_tree(r, shapes::v7_1(&base.root).overlay.path(), &inputs, no_unmap, "the regression");
    commit_tree(r, &base.root, &inputs, no_unmap, "the 7.2 tree, error_override for the hooks");
    let util = std::fs::read_to_string(base.root.join("mm/util.c")).unwrap();
    assert_ne!(no_unmap(&util), util, "the regression is planted");

    // Each shape before the regression is judged good on its own, not skipped.
    for commit in [&good, &stable, &v7_1] {
        git(r, &["checkout", "-q", commit]);
        let out = std::process::Command::new(BIN)
            .args(["bisect-run", "--", "remap_failure_without_override"])
            .env("KERNEL_SRC", r)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{commit}: {}", String::from_utf8_lossy(&out.stderr));
    }
    git(r, &["checkout", "-q", "main"]);
    git(r, &["bisect", "start", "HEAD", &good]);
    let run = git(r, &["bisect", "run", BIN, "bisect-run", "--", "remap_failure_without_override"]);
    let log = git(r, &["bisect", "log"]);
    println!("{run}\n{log}");
    assert!(run.contains(&format!("{bad} is the first bad commit")), "{run}");
    assert!(!log.contains("# skip:"), "every shape builds and is judged: {log}");
}
