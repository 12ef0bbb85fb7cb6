//! Builds the artifact of the tree under test (`KERNEL_SRC`, or the default
//! tree) through the cache, links its static library and includes its
//! bindings. The work is library code in `mmharness-build`.

use mmharness_build::{artifact, cache_dir, caps::Cap, tree_under_test};
use std::fmt::Display;

fn fail(e: impl Display) -> ! {
    eprintln!("error: {e}");
    std::process::exit(1);
}

fn main() {
    println!("cargo::rerun-if-env-changed=KERNEL_SRC");
    println!("cargo::rerun-if-env-changed=MMHARNESS_CACHE");
    let cache = cache_dir();
    let resolved = tree_under_test(&cache).unwrap_or_else(|e| fail(e));
    if let Some(f) = &resolved.fetched {
        println!("cargo::rerun-if-changed={}", f.manifest_path.display());
        println!("cargo::warning=default tree: {} {}", f.manifest.package, f.manifest.version);
    }
    let art = artifact::build(&resolved.tree, &artifact::Options::new(cache)).unwrap_or_else(|e| fail(e));
    let m = &art.manifest;
    println!(
        "cargo::warning=kernel tree: {} (Linux {}), artifact {}",
        m.tree.display(),
        m.kernel_version,
        &m.key[..12]
    );
    for w in &m.warnings {
        println!("cargo::warning={w}");
    }
    for input in &art.inputs {
        println!("cargo::rerun-if-changed={}", input.display());
    }
    println!("cargo::rustc-link-search=native={}", art.lib_dir().display());
    println!("cargo::rustc-link-lib=static={}", artifact::LIB_NAME);
    println!("cargo::rustc-env=MMHARNESS_BINDINGS={}", art.bindings().display());
    println!("cargo::rustc-env=MMHARNESS_ARTIFACT={}", art.dir.display());
    // This build's manifest: the cached one names whichever tree built it first.
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("manifest.json"), serde_json::to_string_pretty(m).expect("serializes"))
        .unwrap_or_else(|e| fail(e));
    // For dependents' build scripts (DEP_MMHARNESS_KERNEL_*): the cfg flags.
    println!("cargo::metadata=caps={}", m.capabilities.names().join(","));
    println!("cargo::metadata=all_caps={}", Cap::ALL.iter().map(|c| c.name()).collect::<Vec<_>>().join(","));
}
