//! Builds the artifact of the tree under test (`KERNEL_SRC`, or the default
//! tree when the cache holds it), links its static library and includes its
//! bindings. Like libgit2-sys it stays home: it never fetches (scripts/setup
//! or `mmharness fetch` does), and it writes only to `OUT_DIR`, which holds
//! its own artifact cache. The work is library code in `mmharness-build`.

use mmharness_build::{artifact, cache_dir, tree_at_hand};
use std::fmt::Display;
use std::path::PathBuf;

/// Every variable the build reads: the tree's and the cache's places, and
/// the C compiler, archiver and libclang as the `cc` crate, bindgen and
/// clang-sys look them up for this target.
fn watched_env() -> Vec<String> {
    const TARGET: [&str; 2] = ["x86_64-unknown-linux-gnu", "x86_64_unknown_linux_gnu"];
    let mut vars: Vec<String> =
        ["KERNEL_SRC", "MMHARNESS_CACHE", "XDG_CACHE_HOME", "HOME", "LIBCLANG_PATH", "CLANG_PATH"]
            .map(String::from)
            .into();
    for tool in ["CC", "CFLAGS", "AR"] {
        vars.extend([tool.to_string(), format!("HOST_{tool}")]);
        vars.extend(TARGET.map(|t| format!("{tool}_{t}")));
    }
    vars.push("BINDGEN_EXTRA_CLANG_ARGS".into());
    vars.extend(TARGET.map(|t| format!("BINDGEN_EXTRA_CLANG_ARGS_{t}")));
    vars
}

/// Fails the build with `e`, its first line saying what to do: cargo prints
/// each line as an error. Exiting 0 keeps cargo's dump of every instruction
/// above out of the way; `cargo::error` alone fails the build.
fn fail(e: impl Display) -> ! {
    for line in e.to_string().lines() {
        println!("cargo::error={line}");
    }
    std::process::exit(0);
}

fn main() {
    for var in watched_env() {
        println!("cargo::rerun-if-env-changed={var}");
    }
    let resolved = tree_at_hand(&cache_dir()).unwrap_or_else(|e| fail(e));
    if let Some(f) = &resolved.fetched {
        println!("cargo::rerun-if-changed={}", f.manifest_path.display());
    }
    // Kept between runs of this script, so an unchanged tree is not built again.
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let art = artifact::build(&resolved.tree, &artifact::Options::new(out.join("cache"))).unwrap_or_else(|e| fail(e));
    // Earlier trees' artifacts: each is rebuilt in seconds, and an edited
    // tree makes a new one on every edit.
    for entry in std::fs::read_dir(out.join("cache/artifacts")).into_iter().flatten().flatten() {
        if entry.path() != art.dir {
            std::fs::remove_dir_all(entry.path()).unwrap_or_else(|e| fail(e));
        }
    }
    let m = &art.manifest;
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
    std::fs::write(out.join("manifest.json"), serde_json::to_string_pretty(m).expect("serializes"))
        .unwrap_or_else(|e| fail(e));
}
