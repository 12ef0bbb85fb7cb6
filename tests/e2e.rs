//! The end-to-end mode on each tree at hand (the tree under test, and 7.2):
//! each end-to-end catalogue entry, `<tree>::e2e::<entry>`, and each of the
//! kernel's own tools/testing/vma tests run in the same end-to-end program,
//! `<tree>::vma::<test>`. With MMHARNESS_SANITIZE=1 the runner is built with
//! ASan and UBSan, so a leak or use-after-free fails its entry.

use libtest_mimic::{Arguments, Failed, Trial};
use mmharness::e2e_catalogue::e2e_catalogue;
use mmharness::mapping::{self, kernel_vma_tests};
use mmharness_build::artifact::Options;
use mmharness_build::e2e::{self, E2eArtifact};
use mmharness_build::tree::Tree;
use mmharness_build::{cache_dir, sanitize_requested, tree_at_hand};

fn build(tree: &Tree) -> E2eArtifact {
    let opts = Options::runner_only(cache_dir()).sanitized(sanitize_requested());
    e2e::build(tree, &opts)
        .unwrap_or_else(|e| panic!("building the end-to-end artifact of {}: {e}", tree.root.display()))
}

fn trees() -> Vec<Tree> {
    let under_test = tree_at_hand(&cache_dir()).expect("the tree under test").tree;
    let fetched = mmharness_build::fetched("7.2").expect("fetching linux-source-7.2");
    vec![under_test, Tree::open(&fetched.root).expect("the 7.2 tree")]
}

fn trials_of(tree: &Tree) -> Vec<Trial> {
    let art = build(tree);
    let series = art.manifest.kernel_version.split('.').take(2).collect::<Vec<_>>().join(".");
    let mut trials = Vec::new();
    for entry in e2e_catalogue() {
        let runner = art.runner();
        let version = art.manifest.kernel_version.clone();
        trials.push(Trial::test(format!("{series}::e2e::{}", entry.name), move || {
            let got = mapping::run(&runner, &entry.mapping).map_err(|e| Failed::from(e.to_string()))?;
            entry
                .expected
                .check(&got)
                .map_err(|d| Failed::from(format!("on {version}: {}\nwhy: {}\n{d}", entry.name, entry.why)))
        }));
    }
    match kernel_vma_tests(&art.runner()) {
        Ok(tests) => {
            assert!(!tests.is_empty(), "tools/testing/vma ran no test on {series}");
            for t in tests {
                trials.push(Trial::test(format!("{series}::vma::{}", t.name), move || {
                    if t.passed {
                        Ok(())
                    } else {
                        Err(format!(
                            "tools/testing/vma's test_{} failed (its assertion is on the runner's stderr)",
                            t.name
                        )
                        .into())
                    }
                }));
            }
        }
        Err(e) => trials.push(Trial::test(format!("{series}::vma"), move || Err(e.to_string().into()))),
    }
    trials
}

fn main() {
    let trials = trees().iter().flat_map(trials_of).collect();
    libtest_mimic::run(&Arguments::from_args(), trials).exit()
}
