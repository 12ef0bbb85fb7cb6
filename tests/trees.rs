//! Other trees through the library and their runners: the 7.2 tree, the
//! cache, a tree left untouched, and the errors bad trees get.

use mmharness::catalogue::catalogue;
use mmharness::{Backend, Runner};
use mmharness_build::artifact::{self, BuildError, Options};
use mmharness_build::overlay::Overlay;
use mmharness_build::tree::{Tree, TreeError};
use mmharness_build::{cache_dir, fetch};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn tree_7_2() -> Tree {
    let fetched = fetch::ensure("7.2", &cache_dir()).expect("fetching linux-source-7.2");
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
    let mut ran = 0;
    for e in catalogue() {
        if e.applicable(runner.capabilities()).is_err() {
            continue;
        }
        let o = runner.run(&e.scenario).unwrap();
        e.expected.check(&o).unwrap_or_else(|d| panic!("{} on 7.2: {d}", e.name));
        ran += 1;
    }
    assert_eq!(ran, catalogue().len(), "7.2 can express every entry");
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
    for e in catalogue() {
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
