//! The last stage of a build: the unit compiled into a static library and
//! a runner, bound with bindgen when asked, and renamed into the cache
//! whole. An entry is verified against the hashes its manifest lists
//! before it is used; a damaged one is rebuilt.

use crate::cache::{self, WorkDir};
use crate::output::{io, Artifact, BuildError, Manifest, LIB_NAME};
use crate::plan::Plan;
use crate::progress::{self, Step};
use crate::toolchain::{self, COVERAGE, SANITIZE};
use crate::unit::{Unit, RUNNER_C};
use std::path::Path;

/// The files an entry holds, hashed in its manifest: a coverage entry
/// also keeps gcc's notes, which gcov reads with each run's counts.
fn entry_files(coverage: bool) -> Vec<String> {
    let mut v = vec![format!("lib{LIB_NAME}.a"), "runner".to_string(), "tu.c".to_string()];
    if coverage {
        v.push("tu.gcno".to_string());
    }
    v
}

const BINDINGS: &str = "bindings.rs";
/// The bindings' hash, beside them: they are made on demand, after the entry.
const BINDINGS_HASH: &str = "bindings.rs.sha256";

/// The manifest of the entry at `dir`, if it is whole and every file it
/// lists has its hash.
pub(crate) fn verified(dir: &Path) -> Option<Manifest> {
    let m: Manifest = serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).ok()?).ok()?;
    cache::verify(dir, &m.files).then_some(m)
}

fn bindings_verified(dir: &Path) -> bool {
    let want = std::fs::read_to_string(dir.join(BINDINGS_HASH)).unwrap_or_default();
    !want.is_empty() && cache::sha256_file(&dir.join(BINDINGS)).is_ok_and(|h| h == want.trim())
}

fn compile(work: &Path, flags: &[String], sanitize: bool, coverage: bool, line: &Step) -> Result<(), BuildError> {
    line.stage("compiling the unit and the runner");
    let mut unit = toolchain::cc(work)?;
    unit.args(flags).args(["-Wall", "-Wextra", "-c", "tu.c", "-o", "tu.o"]);
    let mut runner = toolchain::cc(work)?;
    runner.arg("-Immh").args(["-Wall", "-Wextra", "-c", "runner.c", "-o", "runner.o"]);
    if coverage {
        // The runner writes each scenario's counts apart; it is not counted itself.
        runner.arg("-DMMH_COVERAGE");
    }
    toolchain::run_parallel(vec![
        (unit, "compiling the extracted code".into()),
        (runner, "compiling the runner".into()),
    ])?;

    line.stage("linking the runner");
    let mut link = toolchain::cc(work)?;
    // Unused helpers of the tools headers may reach symbols nobody links.
    link.args(["runner.o", "tu.o", "-Wl,--gc-sections", "-o", "runner"]);
    if sanitize {
        link.args(SANITIZE);
    }
    if coverage {
        link.args(COVERAGE);
    }
    let mut ar = toolchain::archiver()?;
    ar.current_dir(work).arg("crs").arg(format!("lib{LIB_NAME}.a")).arg("tu.o");
    toolchain::run_parallel(vec![(link, "linking the runner".into()), (ar, "archiving the extracted code".into())])?;
    for scratch in ["tu.o", "runner.o", "runner.c"] {
        let _ = std::fs::remove_file(work.join(scratch));
    }
    Ok(())
}

/// What a progress line says while `plan`'s artifact is built.
pub(crate) fn what_builds(plan: &Plan) -> String {
    let sanitized = if plan.sanitize { " sanitized" } else { "" };
    format!("building the Linux {}{sanitized} artifact", plan.tree.version)
}

/// Bindings of the unit, with exact allow-lists, written to `dest`.
fn bind(plan: &Plan, tu: &Path, dest: &Path) -> Result<(), BuildError> {
    if clang_sys::load().is_err() && !clang_sys::is_loaded() {
        return Err(BuildError::NoLibclang);
    }
    let mut b = bindgen::Builder::default()
        .header(tu.display().to_string())
        .clang_args(&plan.flags)
        // The kernel's enum is a set of constants here, so that a test can
        // pass a value outside it without undefined behaviour.
        .constified_enum("mmap_action_type")
        .allowlist_function("mmh_.*")
        // The encoding's types are the tree-independent ones of `abi`.
        .blocklist_type("mmh_.*")
        .raw_line("pub use mmharness_build::abi::*;")
        // rustfmt would read the rustfmt.toml of whatever directory the
        // build runs in: the bindings must not depend on it.
        .formatter(bindgen::Formatter::None)
        .allowlist_var("PAGE_SHIFT")
        .derive_default(true);
    for t in ["mmap_action", "vm_area_desc", "vm_area_struct", "vm_operations_struct", "mm_struct", "mmap_action_type"]
    {
        b = b.allowlist_type(format!("^{t}$"));
    }
    for name in plan.extract.names() {
        b = b.allowlist_function(format!("^{name}$"));
    }
    let bindings =
        b.generate().map_err(|e| BuildError::Bindgen { tree: plan.tree.root.clone(), message: e.to_string() })?;
    let text = bindings.to_string();
    io(|| format!("writing {}", dest.display()), cache::write_atomic(&dest.join(BINDINGS), text.as_bytes()))?;
    let hash = cache::sha256(text.as_bytes());
    io(|| format!("writing {}", dest.display()), cache::write_atomic(&dest.join(BINDINGS_HASH), hash.as_bytes()))
}

/// Builds the entry in the plan's build directory and renames it into the
/// cache, unless another build of the same key got there first.
fn build_entry(plan: Plan, unit: &mut Unit, dest: &Path, bindings: bool) -> Result<bool, BuildError> {
    let work = plan.work.path();
    io(|| "writing the unit".into(), std::fs::write(work.join("tu.c"), &unit.text))?;
    io(|| "writing the runner".into(), std::fs::write(work.join("runner.c"), RUNNER_C))?;
    let line = progress::step(what_builds(&plan));
    compile(work, &plan.flags, plan.sanitize, plan.coverage(), &line)?;
    if bindings {
        line.stage("bindgen");
        bind(&plan, &work.join("tu.c"), work)?;
    }
    let names = entry_files(plan.coverage());
    let files: Vec<&str> = names.iter().map(String::as_str).collect();
    let work = plan.work;
    let installed = install_entry(work, unit.manifest.clone(), &files, dest)?;
    // This build's manifest (the entry's names whichever tree built it first).
    unit.manifest.files = verified(dest).map(|m| m.files).unwrap_or_default();
    Ok(installed)
}

/// Hashes `files` of `work` into `manifest`, writes it beside them and
/// renames `work` to `dest`, unless another build of the same key got there
/// first (false then: its entry is ours).
pub(crate) fn install_entry(
    work: WorkDir,
    mut manifest: Manifest,
    files: &[&str],
    dest: &Path,
) -> Result<bool, BuildError> {
    manifest.files = io(|| "hashing the artifact".into(), cache::hash_files(work.path(), files))?;
    let json = serde_json::to_string_pretty(&manifest).expect("a manifest serializes");
    io(|| "writing the manifest".into(), std::fs::write(work.path().join("manifest.json"), json))?;
    let parent = dest.parent().expect("artifacts/<key>");
    io(|| format!("creating {}", parent.display()), std::fs::create_dir_all(parent))?;
    match work.rename_to(dest) {
        Ok(()) => Ok(true),
        Err(_) if verified(dest).is_some() => Ok(false),
        Err(e) => Err(BuildError::Io { context: format!("moving the artifact to {}", dest.display()), source: e }),
    }
}

/// Finds the unit's entry in `cache`, verified, or builds it; with
/// `bindings`, makes sure it has them.
pub fn install(plan: Plan, mut unit: Unit, cache_dir: &Path, bindings: bool) -> Result<Artifact, BuildError> {
    let dest = cache::artifacts(cache_dir).join(&unit.key);
    let inputs = plan.inputs();
    if dest.exists() && verified(&dest).is_none() {
        cache::discard(cache_dir, &dest);
    }
    let compiled = if let Some(m) = verified(&dest) {
        cache::touch(&dest);
        unit.manifest.files = m.files;
        if bindings && !bindings_verified(&dest) {
            progress::step(what_builds(&plan)).stage("bindgen");
            io(|| "writing the unit".into(), std::fs::write(plan.work.path().join("tu.c"), &unit.text))?;
            bind(&plan, &plan.work.path().join("tu.c"), &dest)?;
        }
        false
    } else {
        build_entry(plan, &mut unit, &dest, bindings)?
    };
    Ok(Artifact { dir: dest, manifest: unit.manifest, compiled, inputs })
}
