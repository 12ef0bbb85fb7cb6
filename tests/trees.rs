//! Other trees through the library and their runners: the 7.2 tree, the
//! cache, a tree left untouched, a damaged default tree repaired, and the
//! errors bad trees get.

use mmharness::catalogue::catalogue;
use mmharness::{Backend, Runner};
use mmharness_build::artifact::{self, BuildError, Options};
use mmharness_build::caps::Cap;
use mmharness_build::fetch::{self, Verify};
use mmharness_build::overlay::Overlay;
use mmharness_build::tree::{Tree, TreeError};
use mmharness_build::{build_inputs, cache_dir};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn tree_7_2() -> Tree {
    let fetched = mmharness_build::fetched("7.2").expect("fetching linux-source-7.2");
    eprintln!("7.2 tree: {} {}", fetched.manifest.package, fetched.manifest.version);
    Tree::open(&fetched.root).unwrap()
}

#[test]
fn the_catalogue_passes_on_the_7_2_tree_through_its_runner() {
    let tree = tree_7_2();
    let art = artifact::build(&tree, &Options::new(cache_dir())).unwrap();
    println!("Linux {} at {}", art.manifest.kernel_version, tree.root.display());
    assert!(art.manifest.kernel_version.starts_with("7.2"));
    let mut runner = Runner::for_artifact(&art);
    let mut not_applicable = Vec::new();
    for e in catalogue() {
        if e.applicable(runner.capabilities()).is_err() {
            not_applicable.push(e.name);
            continue;
        }
        let o = runner.run(&e.scenario).unwrap();
        e.expected.check(&o).unwrap_or_else(|d| panic!("{} on 7.2: {d}", e.name));
    }
    // 7.2 has error_override: only the hook era's entries do not apply.
    assert_eq!(
        not_applicable,
        ["error_hook_that_clears_the_error_warns_after_unmapping", "failing_success_hook_unmaps_the_vma"]
    );
}

/// Every file under `root`, by path and content.
fn digest(root: &Path) -> String {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(root, &mut files);
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        h.update(f.strip_prefix(root).unwrap().to_string_lossy().as_bytes());
        h.update(std::fs::read(&f).unwrap_or_default());
    }
    format!("{:x}", h.finalize())
}

#[test]
fn building_and_running_leaves_the_kernel_tree_byte_identical() {
    let tree = tree_7_2();
    let before = digest(&tree.root);
    // A fresh cache, so this is a full build: preprocess, compile, bindgen.
    let cache = tempfile::tempdir().unwrap();
    let art = artifact::build(&tree, &Options::new(cache.path().to_path_buf())).unwrap();
    assert!(art.compiled);
    let mut runner = Runner::for_artifact(&art);
    // Those 7.2 cannot express are refused before anything runs.
    for e in catalogue().into_iter().filter(|e| e.scenario.unmet(&art.manifest.capabilities).is_none()) {
        runner.run(&e.scenario).unwrap();
    }
    assert_eq!(digest(&tree.root), before, "the build or a run wrote into the kernel tree");
}

#[test]
fn an_unchanged_tree_is_built_once_then_taken_from_the_cache() {
    let tree = tree_7_2();
    let cache = tempfile::tempdir().unwrap();
    let opts = Options::new(cache.path().to_path_buf());
    let first = artifact::build(&tree, &opts).unwrap();
    let second = artifact::build(&tree, &opts).unwrap();
    assert!(first.compiled);
    assert!(!second.compiled, "the second build compiled again");
    assert_eq!(first.dir, second.dir);
}

#[test]
fn a_tree_whose_util_c_lacks_mmap_action_prepare_names_the_file_and_function() {
    let tree = tree_7_2();
    let util =
        std::fs::read_to_string(tree.path("mm/util.c")).unwrap().replace("mmap_action_prepare(", "renamed_prepare(");
    let broken = Overlay::new(&tree.root, &[("mm/util.c", &util)]).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let err =
        artifact::build(&Tree::open(broken.path()).unwrap(), &Options::new(cache.path().to_path_buf())).unwrap_err();
    assert!(matches!(err, BuildError::Extract(_)), "{err}");
    assert!(err.to_string().starts_with("mm/util.c has no definition of `mmap_action_prepare`"), "{err}");
}

#[test]
fn a_directory_that_is_not_a_kernel_tree_says_so_in_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("README"), "not a kernel").unwrap();
    let err = Tree::open(dir.path()).unwrap_err();
    assert!(matches!(err, TreeError::NotAKernelTree(_)));
    assert!(err.to_string().ends_with("set KERNEL_SRC to the top of a Linux source tree"), "{err}");
}

fn tree_7_3() -> Tree {
    Tree::open(&mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root).unwrap()
}

/// A scratch copy of the default tree's cache entry (tree and manifest),
/// damaged: the next use finds the damage, downloads the package again (it
/// is not kept after unpacking), unpacks it and removes it.
#[test]
fn a_truncated_and_a_deleted_file_of_the_default_tree_are_found_and_repaired_on_next_use() {
    let real = mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let place = cache.path().join("trees").join(&real.manifest.package);
    std::fs::create_dir_all(&place).unwrap();
    assert!(std::process::Command::new("cp").arg("-a").arg(&real.root).arg(&place).status().unwrap().success());
    let deb = cache.path().join("debs").join(real.manifest.deb.file_name().unwrap());
    let manifest = fetch::TreeManifest { deb, ..real.manifest.clone() };
    std::fs::write(place.join("manifest.json"), serde_json::to_string(&manifest).unwrap()).unwrap();

    let util = place.join("tree/mm/util.c");
    let original = std::fs::read(&util).unwrap();
    std::fs::write(&util, &original[..original.len() / 2]).unwrap();
    // Not a file the build reads: its absence is seen all the same.
    std::fs::remove_file(place.join("tree/drivers/char/random.c")).unwrap();
    let found =
        format!("drivers/char/random.c is missing; mm/util.c has {} bytes, not {}", original.len() / 2, original.len());

    match fetch::cached(fetch::DEFAULT_SERIES, cache.path(), &build_inputs()) {
        Err(fetch::FetchError::Damaged { problem, .. }) => assert_eq!(problem, found),
        other => panic!("the damage went unseen: {other:?}"),
    }
    let repaired = fetch::ensure(fetch::DEFAULT_SERIES, cache.path(), Verify::Inputs(&build_inputs())).unwrap();
    assert_eq!(repaired.damage, Some(found));
    assert_eq!(std::fs::read(&util).unwrap(), original);
    assert!(place.join("tree/drivers/char/random.c").is_file());
    let kept: Vec<_> = std::fs::read_dir(cache.path().join("debs")).unwrap().flatten().map(|e| e.path()).collect();
    assert!(kept.is_empty(), "the package downloaded for the repair is removed: {kept:?}");
    assert!(!fetch::ensure(fetch::DEFAULT_SERIES, cache.path(), Verify::Everything).unwrap().changed);
}

/// The detector on the trees there are: both are of the error_override
/// generation, with every action type, is_compat and mapped().
#[test]
fn capabilities_are_detected_from_the_7_2_and_7_3_trees() {
    for tree in [tree_7_2(), tree_7_3()] {
        let m = artifact::build(&tree, &Options::runner_only(cache_dir())).unwrap().manifest;
        // Everything but what only the hook era and the older prototypes have.
        let older = [Cap::ErrorHook, Cap::SuccessHook, Cap::CompleteActionVma, Cap::CompleteVmaAction];
        let want: Vec<Cap> = Cap::ALL.iter().copied().filter(|c| !older.contains(c)).collect();
        assert_eq!(m.capabilities.caps(), want, "Linux {}", m.kernel_version);
        assert!(!m.capabilities.error_hook && !m.capabilities.success_hook);
    }
}

/// "The build warns when the fields of struct mmap_action ... in dup.h
/// differ": every result trusts the tools headers' copies.
#[test]
fn a_drifted_copy_in_dup_h_is_a_build_warning() {
    let tree = tree_7_2();
    let dup = std::fs::read_to_string(tree.path("tools/testing/vma/include/dup.h")).unwrap().replacen(
        "\tint error_override;",
        "\tlong error_override;",
        1,
    );
    let drifted = Overlay::new(&tree.root, &[("tools/testing/vma/include/dup.h", &dup)]).unwrap();
    let art = artifact::build(&Tree::open(drifted.path()).unwrap(), &Options::runner_only(cache_dir())).unwrap();
    assert!(art.manifest.warnings.iter().any(|w| w.contains("error_override")), "{:?}", art.manifest.warnings);
    let clean = artifact::build(&tree, &Options::runner_only(cache_dir())).unwrap();
    assert!(clean.manifest.warnings.is_empty(), "{:?}", clean.manifest.warnings);
}
