//! The end-to-end mode on each tree at hand (the tree under test, and 7.2)
//! and on the older shapes derived from 7.2 (see `shapes`): each end-to-end
//! catalogue entry, `<tree>::e2e::<entry>`; the rmap lock over each entry's
//! call never nested and always balanced, `<tree>::rmap::<entry>`; and each
//! of the kernel's own tools/testing/vma tests run in the same end-to-end
//! program, `<tree>::vma::<test>`. Where the mode does not apply, or an entry
//! needs what the tree lacks, the trial is ignored with the reason read from
//! the tree. With MMHARNESS_SANITIZE=1 the runner is built with ASan and
//! UBSan, so a leak or use-after-free fails its entry.

mod shapes;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use mmharness::catalogue::applicable;
use mmharness::e2e_catalogue::{e2e_catalogue, E2eEntry};
use mmharness::mapping::{self, kernel_vma_tests, Rmap};
use mmharness_build::artifact::Options;
use mmharness_build::e2e::{self, E2eArtifact};
use mmharness_build::overlay::Overlay;
use mmharness_build::tree::Tree;
use mmharness_build::{cache_dir, sanitize_requested, tree_at_hand, BuildError};
use std::path::PathBuf;

fn opts(cache: PathBuf) -> Options {
    Options::runner_only(cache).sanitized(sanitize_requested())
}

fn ignored(name: String, reason: String) -> Trial {
    Trial::ignorable_test(name, move || Ok(Completion::ignored_with(reason)))
}

/// The entry's trial, gated on what it requires, and its rmap trial.
fn entry_trials(label: &str, art: &E2eArtifact, entry: E2eEntry) -> Vec<Trial> {
    let (runner, version) = (art.runner(), art.manifest.kernel_version.clone());
    let (run, name) = (entry.mapping.clone(), entry.name);
    let rmap = Trial::test(format!("{label}::rmap::{name}"), {
        let runner = runner.clone();
        move || {
            let got = mapping::run(&runner, &run).map_err(|e| Failed::from(e.to_string()))?;
            let problems = got.rmap.problems();
            if problems.is_empty() {
                return Ok(());
            }
            Err(format!(
                "the rmap lock over {name} on {version}, depths {:?}: {}",
                got.rmap.depths,
                problems.join("; ")
            )
            .into())
        }
    });
    let check = match applicable(entry.requires, &art.manifest.capabilities) {
        Err(reason) => ignored(format!("{label}::e2e::{}", entry.name), reason),
        Ok(()) => {
            let version = art.manifest.kernel_version.clone();
            Trial::test(format!("{label}::e2e::{}", entry.name), move || {
                let got = mapping::run(&runner, &entry.mapping).map_err(|e| Failed::from(e.to_string()))?;
                entry
                    .expected
                    .check(&got)
                    .map_err(|d| Failed::from(format!("on {version}: {}\nwhy: {}\n{d}", entry.name, entry.why)))
            })
        }
    };
    vec![check, rmap]
}

fn kernel_test_trials(label: &str, art: &E2eArtifact) -> Vec<Trial> {
    match kernel_vma_tests(&art.runner()) {
        Ok(tests) => {
            assert!(!tests.is_empty(), "tools/testing/vma ran no test on {label}");
            tests
                .into_iter()
                .map(|t| {
                    Trial::test(format!("{label}::vma::{}", t.name), move || {
                        if t.passed {
                            return Ok(());
                        }
                        let why = "its assertion is on the runner's stderr";
                        Err(format!("tools/testing/vma's test_{} failed ({why})", t.name).into())
                    })
                })
                .collect()
        }
        Err(e) => vec![Trial::test(format!("{label}::vma"), move || Err(e.to_string().into()))],
    }
}

/// Every trial of one tree, built in `cache`.
fn trials_of(label: &str, tree: &Tree, cache: PathBuf) -> Vec<Trial> {
    let art = match e2e::build(tree, &opts(cache)) {
        Ok(a) => a,
        Err(BuildError::NotApplicable(reason)) => {
            let reason = format!("not applicable: {reason}");
            let names = e2e_catalogue().into_iter().flat_map(|e| [("e2e", e.name), ("rmap", e.name)]);
            return names.map(|(kind, n)| ignored(format!("{label}::{kind}::{n}"), reason.clone())).collect();
        }
        Err(e) => panic!("building the end-to-end artifact of {label} ({}): {e}", tree.root.display()),
    };
    let mut trials: Vec<Trial> = e2e_catalogue().into_iter().flat_map(|e| entry_trials(label, &art, e)).collect();
    trials.extend(kernel_test_trials(label, &art));
    trials
}

fn series(tree: &Tree) -> String {
    tree.version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// mm/util.c with the rmap lock released after `do_munmap()`, as before 7.1
/// (when mm/vma.c's `call_action_complete` released it after the unmap).
fn unlock_after_unmap(util: &str) -> String {
    const UNLOCK: &str = "\tmaybe_rmap_unlock_action(vma, action);\n";
    const UNMAP: &str = "\tdo_munmap(current->mm, vma->vm_start, len, NULL);\n";
    assert!(util.contains(UNLOCK) && util.contains(UNMAP), "mm/util.c's mmap_action_finish as 7.2 and 7.3 have it");
    util.replacen(UNLOCK, "", 1).replacen(UNMAP, &format!("{UNMAP}{UNLOCK}"), 1)
}

/// The real free_pgtables() takes the rmap lock to unlink the VMA from its
/// file: with the lock released only after do_munmap(), it is taken while
/// held. tools/testing/vma's empty free_pgtables() stub would show a
/// balanced [1, 0] here.
fn planted_unlock_after_unmap(tree: Tree) -> Trial {
    Trial::test(format!("{}::planted::rmap_unlock_after_do_munmap_nests_in_free_pgtables", series(&tree)), move || {
        let util = std::fs::read_to_string(tree.path("mm/util.c")).map_err(|e| Failed::from(e.to_string()))?;
        let overlay = Overlay::new(&tree.root, &[("mm/util.c", &unlock_after_unmap(&util))]).unwrap();
        let art = e2e::build(&Tree::open(overlay.path()).unwrap(), &opts(cache_dir()))
            .map_err(|e| Failed::from(e.to_string()))?;
        let entry = e2e_catalogue()
            .into_iter()
            .find(|e| e.name == "e2e_rmap_lock_held_over_a_failing_hidden_action_is_released_once")
            .expect("the hidden-action entry");
        let got = mapping::run(&art.runner(), &entry.mapping).map_err(|e| Failed::from(e.to_string()))?;
        assert_eq!(got.rmap, Rmap::of(&[1, 2, 1, 0]));
        assert_eq!(got.rmap.problems(), vec!["event 1: taken while held (depth 2)"]);
        Ok(())
    })
}

/// A header that only the support sources reach (the xarray's, through
/// radix-tree.c and idr.c; the unit never includes it) still makes another
/// runner: its text is in the support library's key, and that in the
/// runner's.
fn runner_key_follows_a_support_header(tree: Tree) -> Trial {
    const HEADER: &str = "include/linux/radix-tree.h";
    Trial::test(format!("{}::cache::runner_key_follows_{HEADER}", series(&tree)), move || {
        let text = std::fs::read_to_string(tree.path(HEADER)).map_err(|e| Failed::from(e.to_string()))?;
        let changed = format!("{text}/* a comment only */\n");
        let overlay = Overlay::new(&tree.root, &[(HEADER, &changed)]).unwrap();
        let build = |t: &Tree| e2e::build(t, &opts(cache_dir())).map_err(|e| Failed::from(e.to_string()));
        let (before, after) = (build(&tree)?, build(&Tree::open(overlay.path()).unwrap())?);
        assert_ne!(before.manifest.key, after.manifest.key, "the runner's key ignores {HEADER}");
        Ok(())
    })
}

/// The 7.0 shape rewrites mm/util.c's prototypes and not mm/vma.c's calls:
/// the gate reads the disagreement from the tree and refuses the mode.
fn gate_refuses_the_7_0_shape(shape: &shapes::Shape, cache: PathBuf) -> Trial {
    let tree = Tree::open(shape.overlay.path()).expect("the shape's overlay");
    Trial::test("7.0-shape::gate::mm_vma_c_calls_prepare_as_mm_util_c_does_not_define_it", move || {
        match e2e::build(&tree, &opts(cache)) {
            Err(BuildError::NotApplicable(reason)) => {
                // The line the reason names is the shape's own definition.
                let util = tree.read("mm/util.c").expect("the shape's mm/util.c");
                let defines = |l: &&str| {
                    l.split_once(' ').is_some_and(|(_, r)| r.starts_with("mmap_action_prepare(")) && !l.ends_with(';')
                };
                let line = util.lines().position(|l| defines(&l)).expect("a definition") + 1;
                assert!(
                    reason.ends_with(&format!(
                        "calls mmap_action_prepare with 1 arguments, mm/util.c:{line} defines it with 2: the two do not build together"
                    )) && reason.starts_with("mm/vma.c:"),
                    "{reason}"
                );
                Ok(())
            }
            Err(e) => Err(format!("another error: {e}").into()),
            Ok(_) => Err("the 7.0 shape's end-to-end artifact was built".into()),
        }
    })
}

fn main() {
    let under_test = tree_at_hand(&cache_dir()).expect("the tree under test").tree;
    let fetched = mmharness_build::fetched("7.2").expect("fetching linux-source-7.2");
    let tree_7_2 = Tree::open(&fetched.root).expect("the 7.2 tree");
    let mut trials = trials_of(&series(&under_test), &under_test, cache_dir());
    trials.extend(trials_of(&series(&tree_7_2), &tree_7_2, cache_dir()));
    trials.push(planted_unlock_after_unmap(under_test.clone()));
    trials.push(runner_key_follows_a_support_header(under_test));
    // The shapes' artifacts go to a scratch cache, as tests/generations.rs's do.
    let scratch = tempfile::tempdir().expect("a scratch cache");
    let shapes = [shapes::v7_1, shapes::v7_0_stable, shapes::v7_0, shapes::v6_19].map(|s| s(&tree_7_2.root));
    for shape in &shapes {
        let tree = Tree::open(shape.overlay.path()).expect("the shape's overlay");
        trials.extend(trials_of(&format!("{}-shape", shape.name), &tree, scratch.path().to_path_buf()));
    }
    trials.push(gate_refuses_the_7_0_shape(&shapes[2], scratch.path().to_path_buf()));
    let conclusion = libtest_mimic::run(&Arguments::from_args(), trials);
    drop(shapes);
    drop(scratch);
    conclusion.exit()
}
