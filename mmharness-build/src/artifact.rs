//! One kernel tree in, one artifact out: the extract, a static library, a
//! runner executable, bindgen bindings and a manifest, cached by a content
//! hash of the preprocessed translation unit, the flags and the tools.

use crate::caps::{self, Capabilities};
use crate::dupcheck;
use crate::extract::{self, Extract, Source, Spec};
use crate::leaves;
use crate::scan;
use crate::tree::{self, Tree, TreeError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Our C, embedded so that an installed binary can build any tree.
const OWN_HEADERS: &[(&str, &str)] = &[
    ("scenario.h", include_str!("../include/scenario.h")),
    ("warn.h", include_str!("../include/warn.h")),
    ("arch.h", include_str!("../include/arch.h")),
    ("leaves.h", include_str!("../include/leaves.h")),
    ("devmem.h", include_str!("../include/devmem.h")),
];
const DRIVER_C: &str = include_str!("../csrc/driver.c");
const RUNNER_C: &str = include_str!("../csrc/runner.c");

pub const LIB_NAME: &str = "mmharness_kernel";

/// Where the code under test lives; the real definitions are always taken.
pub const CODE_FILES: &[&str] = &["mm/util.c", "mm/internal.h", "mm/memory.c", "drivers/char/mem.c"];
/// Inline helpers taken only where the tools headers lack them.
pub const FALLBACK_FILES: &[&str] = &["include/linux/mm.h"];
pub const ENTRIES: &[(&str, &str)] =
    &[("mm/util.c", "mmap_action_prepare"), ("mm/util.c", "mmap_action_complete"), ("mm/util.c", "mmap_action_finish")];
/// Present in some releases only; `check_mmap_action` and `call_vma_mapped`
/// are also reached from the entries where they exist.
/// `mmap_mem_prepare` is /dev/mem's hook, the one user of `error_override`.
pub const OPTIONAL_ENTRIES: &[&str] = &[
    "check_mmap_action",
    "call_vma_mapped",
    "compat_set_desc_from_vma",
    "__compat_vma_mmap",
    "compat_vma_mmap",
    "mmap_mem_prepare",
];

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error("{0}; this tree cannot be built by mmharness (in a bisect, skip this revision)")]
    Extract(#[from] extract::ExtractError),
    #[error("the liburcu headers are missing: install them with `apt-get install liburcu-dev`")]
    NoLiburcu,
    #[error("libclang is missing, bindgen needs it: install it with `apt-get install libclang-dev`")]
    NoLibclang,
    #[error("{what} failed for {tree}:\n{output}")]
    Compile { what: String, tree: PathBuf, output: String },
    /// The machine's fault, not the tree's: no compiler, or one that was killed.
    #[error("{what}: {message}")]
    Toolchain { what: String, message: String },
    #[error("bindgen failed for {tree}: {message}")]
    Bindgen { tree: PathBuf, message: String },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
}

fn io<T>(context: impl FnOnce() -> String, r: std::io::Result<T>) -> Result<T, BuildError> {
    r.map_err(|source| BuildError::Io { context: context(), source })
}

/// Where one extracted definition came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Extracted {
    pub name: String,
    pub file: String,
    pub line: usize,
    /// The line of the closing brace.
    pub end_line: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub tree: PathBuf,
    pub kernel_version: String,
    pub capabilities: Capabilities,
    /// The cache key: a hash of the preprocessed translation unit, the
    /// flags, the compiler and bindgen.
    pub key: String,
    pub extracted: Vec<Extracted>,
    pub leaves: Vec<String>,
    pub flags: Vec<String>,
    pub compiler: String,
    /// Differences between the tools headers' copies of the mmap-action
    /// types and the kernel's own.
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Artifact {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// False when the cache already held it.
    pub compiled: bool,
    /// Every file of the tree the build read, for `rerun-if-changed`.
    pub inputs: Vec<PathBuf>,
}

impl Artifact {
    pub fn lib_dir(&self) -> &Path {
        &self.dir
    }
    pub fn runner(&self) -> PathBuf {
        self.dir.join("runner")
    }
    pub fn bindings(&self) -> PathBuf {
        self.dir.join("bindings.rs")
    }
    pub fn translation_unit(&self) -> PathBuf {
        self.dir.join("tu.c")
    }
}

pub struct Options {
    /// The cache's root; artifacts go to `<cache>/artifacts/<key>`.
    pub cache: PathBuf,
    /// Build the C side with AddressSanitizer and UBSan; any report aborts
    /// the runner. Such an artifact is for its runner only: its static
    /// library needs the sanitizer runtimes linked first.
    pub sanitize: bool,
    /// Generate bindgen bindings (the linked tree needs them; runners of
    /// other trees, such as mutants, do not).
    pub bindings: bool,
}

impl Options {
    pub fn new(cache: PathBuf) -> Self {
        Self { cache, sanitize: false, bindings: true }
    }

    /// Options for an artifact used only through its runner.
    pub fn runner_only(cache: PathBuf) -> Self {
        Self { cache, sanitize: false, bindings: false }
    }

    pub fn sanitized(self, sanitize: bool) -> Self {
        Self { sanitize, ..self }
    }
}

/// Flags of the sanitizer mode, for compiling and for linking the runner.
const SANITIZE: &[&str] = &["-fsanitize=address,undefined", "-fno-sanitize-recover=all"];

/// The `cc` crate finds the compiler and archiver (honouring `CC` and `AR`).
/// Its default flags depend on cargo's environment, which differs between
/// build.rs and the command line, so the flags are ours: one key for both.
fn compiler() -> cc::Build {
    let target = "x86_64-unknown-linux-gnu";
    let mut b = cc::Build::new();
    b.target(target)
        .host(target)
        .opt_level(1)
        .cargo_metadata(false)
        .cargo_warnings(false)
        .emit_rerun_if_env_changed(false);
    b
}

/// Code generation flags, the same for every object of an artifact.
const CODEGEN: &[&str] = &["-O1", "-g", "-fPIC", "-fno-omit-frame-pointer", "-ffunction-sections", "-fdata-sections"];

/// The compiler and its version, found once per process: the `cc` crate
/// runs the compiler twice to identify it, a tenth of a cached build.
fn compiler_identity() -> Result<&'static (PathBuf, String), BuildError> {
    static IDENTITY: std::sync::OnceLock<(PathBuf, String)> = std::sync::OnceLock::new();
    if let Some(id) = IDENTITY.get() {
        return Ok(id);
    }
    let tool = compiler()
        .try_get_compiler()
        .map_err(|e| BuildError::Toolchain { what: "finding a C compiler".into(), message: e.to_string() })?;
    let mut cmd = Command::new(tool.path());
    cmd.arg("--version");
    let version =
        run(cmd, "asking the C compiler its version", Path::new(""))?.lines().next().unwrap_or_default().to_string();
    Ok(IDENTITY.get_or_init(|| (tool.path().to_path_buf(), version)))
}

fn cc_command() -> Result<Command, BuildError> {
    let mut cmd = Command::new(&compiler_identity()?.0);
    cmd.args(CODEGEN);
    Ok(cmd)
}

fn run(mut cmd: Command, what: &str, tree: &Path) -> Result<String, BuildError> {
    let out = io(|| format!("running {what}"), cmd.output())?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        if stderr.contains("urcu") && stderr.contains("No such file") {
            return Err(BuildError::NoLiburcu);
        }
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = out.status.signal() {
            return Err(BuildError::Toolchain { what: what.to_string(), message: format!("killed by signal {sig}") });
        }
        return Err(BuildError::Compile { what: what.to_string(), tree: tree.to_path_buf(), output: stderr });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The tree's include directories, in the order `tools/testing/vma` uses.
pub const TOOLS_INCLUDE_DIRS: &[&str] =
    &["tools/testing/shared", "tools/testing/vma", "tools/include", "tools/arch/x86/include", "lib"];

/// Include paths and defines, in the order `tools/testing/vma` uses.
fn flags(tree: &Tree, work: &Path) -> Result<Vec<String>, BuildError> {
    let mut f: Vec<String> = vec!["-std=gnu11".into(), "-D_LGPL_SOURCE".into()];
    f.extend(tree::vma_test_defines(&tree.read("tools/testing/vma/Makefile")?));
    f.push(format!("-I{}", work.join("generated").display()));
    f.push(format!("-I{}", work.join("mmh").display()));
    for dir in TOOLS_INCLUDE_DIRS {
        f.push("-isystem".into());
        f.push(tree.path(dir).display().to_string());
    }
    Ok(f)
}

fn write(path: &Path, text: &str) -> Result<(), BuildError> {
    if let Some(dir) = path.parent() {
        io(|| format!("creating {}", dir.display()), std::fs::create_dir_all(dir))?;
    }
    io(|| format!("writing {}", path.display()), std::fs::write(path, text))
}

/// The headers every translation unit starts with: the tools headers
/// unchanged, wrapped in our renames, then the real `mm/vma.h` and our shims.
fn prelude(renames: &BTreeSet<String>, caps: &str) -> String {
    let mut s = String::from("#include \"bit-length.h\"\n#include \"maple-shared.h\"\n");
    s.push_str("/* Names the tools headers stub or duplicate, and we define for real. */\n");
    for n in renames {
        s.push_str(&format!("#define {n} renamed_{n}\n"));
    }
    s.push_str("#include \"vma_internal.h\"\n");
    for n in renames {
        s.push_str(&format!("#undef {n}\n"));
    }
    s.push_str("#include \"../../../mm/vma.h\"\n#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n");
    s.push_str(caps);
    s.push_str("#include \"scenario.h\"\n#include \"warn.h\"\n#include \"arch.h\"\n#include \"leaves.h\"\n#include \"devmem.h\"\n");
    s
}

/// The headers every unit includes, preprocessed once: what they define
/// or declare (so no list has to follow them), the files they read, and
/// their text for the cache key.
struct Headers {
    provided: BTreeSet<String>,
    deps: String,
    preprocessed: String,
}

/// The prelude without renames, and the out-of-line helpers the unit ends
/// with: every header file the unit reads, so that this preprocessed text
/// and the unit's own text together determine the preprocessed unit.
fn probe_headers(tree: &Tree, work: &Path, flags: &[String]) -> Result<Headers, BuildError> {
    let probe = work.join("probe.c");
    write(&probe, &format!("{}{TOOLS_HELPERS}", prelude(&BTreeSet::new(), "")))?;
    let deps_file = work.join("probe.d");
    let mut cmd = cc_command()?;
    cmd.args(flags).arg("-E").arg("-dD").arg("-MD").arg("-MF").arg(&deps_file).arg(&probe);
    let preprocessed = run(cmd, "preprocessing the tools/testing/vma headers", &tree.root)?;
    let mut provided = scan::defined_macros(&preprocessed);
    provided.extend(scan::items(&preprocessed).into_iter().map(|i| i.name));
    let deps = io(|| "reading the dependency file".into(), std::fs::read_to_string(&deps_file))?;
    Ok(Headers { provided, deps, preprocessed })
}

/// Out-of-line helpers of the tools headers, as tools/testing/vma links them.
const TOOLS_HELPERS: &str = "#include \"../../lib/bitmap.c\"\n";

fn read_sources(tree: &Tree, files: &[&str]) -> Result<Vec<Source>, BuildError> {
    files.iter().map(|f| Ok(Source::new(*f, tree.read(f)?))).collect()
}

/// Turns `tree` into an artifact, from the cache when it is there.
pub fn build(tree: &Tree, opts: &Options) -> Result<Artifact, BuildError> {
    let tmp_root = opts.cache.join("tmp");
    io(|| format!("creating {}", tmp_root.display()), std::fs::create_dir_all(&tmp_root))?;
    let work_dir =
        io(|| "creating a build directory".into(), tempfile::Builder::new().prefix("build-").tempdir_in(&tmp_root))?;
    let work = work_dir.path();

    for (name, text) in OWN_HEADERS {
        write(&work.join("mmh").join(name), text)?;
    }
    write(&work.join("generated/bit-length.h"), "#define CONFIG_64BIT 1\n#define CONFIG_PHYS_ADDR_T_64BIT 1\n")?;
    write(&work.join("generated/map-shift.h"), "#define XA_CHUNK_SHIFT 3\n")?;
    write(&work.join("generated/autoconf.h"), &tree.read("tools/testing/shared/autoconf.h")?)?;
    let mut flags = flags(tree, work)?;
    if opts.sanitize {
        flags.extend(SANITIZE.iter().map(|f| f.to_string()));
    }

    let code = read_sources(tree, CODE_FILES)?;
    let fallback = read_sources(tree, FALLBACK_FILES)?;
    let headers = probe_headers(tree, work, &flags)?;
    let provided = &headers.provided;
    let leaf_names = leaves::names();
    let x: Extract = extract::extract(&Spec {
        entries: ENTRIES,
        optional_entries: OPTIONAL_ENTRIES,
        code: &code,
        fallback: &fallback,
        leaves: &leaf_names,
        provided,
    })?;

    let split = tree.path("tools/testing/vma/include/dup.h").is_file();
    let tools_types =
        tree.read(if split { "tools/testing/vma/include/dup.h" } else { "tools/testing/vma/vma_internal.h" })?;
    let header_of = |name: &str| {
        x.definitions.iter().find(|d| d.name == name && !d.nommu).map(|d| d.item.header.clone()).unwrap_or_default()
    };
    let capabilities = caps::detect(&caps::Inputs {
        tools_types: &tools_types,
        split_tools_headers: split,
        prepare_header: &header_of("mmap_action_prepare"),
        complete_header: &header_of("mmap_action_complete"),
        nommu_variants: x.definitions.iter().any(|d| d.nommu && d.name == "mmap_action_prepare"),
        devmem: x.definitions.iter().any(|d| d.name == "mmap_mem_prepare"),
        compat_vma_mmap_header: &header_of("compat_vma_mmap"),
    });
    // Every result trusts the tools headers' copies of the kernel's types.
    let bodies: Vec<&str> = x.definitions.iter().filter_map(|d| d.item.body.as_deref()).collect();
    let warnings: Vec<String> = dupcheck::check(tree, &dupcheck::members_used(&bodies))?
        .definitions
        .iter()
        .filter(|d| d.status == dupcheck::Status::Differs)
        .flat_map(|d| d.differences.iter().map(|l| format!("{l}: results trust the tools headers' copy")))
        .collect();

    // Leaf shims, with the signatures the tree declares.
    let mut decl_files = code.clone();
    decl_files.extend(read_sources(tree, leaves::DECLARATION_FILES)?);
    let mut shims = String::new();
    let mut sites = String::new();
    let mut leaves_used = Vec::new();
    for leaf in leaves::LEAVES.iter().filter(|l| x.leaves_reached.contains(l.name)) {
        shims.push_str(&leaves::signature(leaf, &decl_files)?.shim());
        sites.push_str(&leaves::site_macro(leaf.name));
        leaves_used.push(leaf.name.to_string());
    }
    let unsites: String = leaves_used.iter().map(|l| format!("#undef {l}\n")).collect();
    leaves_used.extend(leaves::MACRO_LEAVES.iter().filter(|l| x.leaves_reached.contains(**l)).map(|l| l.to_string()));

    let mut ours: BTreeSet<String> = x.names();
    ours.extend(leaves_used.iter().cloned());
    let renames: BTreeSet<String> = ours.intersection(provided).cloned().collect();

    let tu = format!(
        "/* Generated by mmharness from Linux {version}: do not edit. */\n{prelude}\n\
         /* Leaves: our injection points, with the tree's own signatures. */\n{shims}\n\
         /* Prototypes, so the extracted definitions can come in any order. */\n{protos}\n\
         /* Calls to the leaves record their kernel file and line. */\n{sites}\
         #pragma GCC diagnostic push\n\
         #pragma GCC diagnostic ignored \"-Wunused-parameter\"\n\
         #pragma GCC diagnostic ignored \"-Wsign-compare\"\n\
         {defs}\
         #pragma GCC diagnostic pop\n\
         {unsites}\
         {helpers}\
         #line 1 \"mmharness/csrc/driver.c\"\n{driver}",
        version = tree.version,
        prelude = prelude(&renames, &capabilities.c_defines()),
        protos = x.prototypes(),
        defs = x.definitions_text(),
        driver = DRIVER_C,
        helpers = TOOLS_HELPERS,
    );
    let tu_path = work.join("tu.c");
    write(&tu_path, &tu)?;
    write(&work.join("runner.c"), RUNNER_C)?;

    // The key: the preprocessed headers with this build's paths taken out,
    // and the unit's own text: together they determine the preprocessed
    // unit, so the same tree in another place, or built twice, shares an
    // artifact, and one preprocessor run serves both the extract and the key.
    let normalized = headers
        .preprocessed
        .replace(&work.display().to_string(), "<build>")
        .replace(&tree.root.display().to_string(), "<tree>");
    let compiler_version = compiler_identity()?.1.clone();
    let mut h = Sha256::new();
    for part in [
        normalized.as_str(),
        &tu,
        &flags
            .iter()
            .map(|f| {
                f.replace(&work.display().to_string(), "<build>").replace(&tree.root.display().to_string(), "<tree>")
            })
            .collect::<Vec<_>>()
            .join(" "),
        &compiler_version,
        RUNNER_C,
        &CODEGEN.join(" "),
        if opts.bindings { "with bindings" } else { "without bindings" },
        env!("CARGO_PKG_VERSION"),
        BINDGEN_VERSION,
        // How the artifact is made: a change to this code makes new keys.
        include_str!("artifact.rs"),
    ] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let key: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();

    let mut inputs: Vec<PathBuf> = deps_inputs(&headers.deps, &tree.root);
    // Files read as text, which the preprocessor's list does not name.
    for f in CODE_FILES.iter().chain(FALLBACK_FILES).chain(leaves::DECLARATION_FILES).chain(&[
        "include/linux/mm_types.h",
        "Makefile",
        "tools/testing/vma/Makefile",
        "tools/testing/shared/autoconf.h",
    ]) {
        inputs.push(tree.path(f));
    }
    inputs.sort();
    inputs.dedup();

    let manifest = Manifest {
        tree: tree.root.clone(),
        kernel_version: tree.version.clone(),
        capabilities,
        key: key.clone(),
        extracted: x
            .definitions
            .iter()
            .map(|d| Extracted {
                name: d.emitted_name(),
                file: d.file.clone(),
                line: d.item.line,
                end_line: d.item.line + d.item.text.trim_end().lines().count() - 1,
            })
            .collect(),
        leaves: leaves_used,
        flags: flags.clone(),
        compiler: compiler_version,
        warnings,
    };

    let dest = opts.cache.join("artifacts").join(&key);
    if dest.join("manifest.json").is_file() {
        return Ok(Artifact { dir: dest, manifest, compiled: false, inputs });
    }

    compile(tree, work, &tu_path, &flags, opts.sanitize)?;
    if opts.bindings {
        bind(tree, work, &tu_path, &flags, &x)?;
    }
    write(&work.join("manifest.json"), &serde_json::to_string_pretty(&manifest).expect("a manifest serializes"))?;
    for scratch in ["probe.c", "probe.d"] {
        let _ = std::fs::remove_file(work.join(scratch));
    }
    io(
        || format!("creating {}", opts.cache.join("artifacts").display()),
        std::fs::create_dir_all(opts.cache.join("artifacts")),
    )?;
    let kept = work_dir.keep();
    if let Err(e) = std::fs::rename(&kept, &dest) {
        let _ = std::fs::remove_dir_all(&kept);
        // Another build of the same key finished first: its artifact is ours.
        if !dest.join("manifest.json").is_file() {
            return Err(BuildError::Io { context: format!("moving the artifact to {}", dest.display()), source: e });
        }
        return Ok(Artifact { dir: dest, manifest, compiled: false, inputs });
    }
    Ok(Artifact { dir: dest, manifest, compiled: true, inputs })
}

const BINDGEN_VERSION: &str = "bindgen-0.72";

/// The tree's files named in a make-style dependency file.
fn deps_inputs(deps: &str, root: &Path) -> Vec<PathBuf> {
    deps.replace("\\\n", " ")
        .split_whitespace()
        .filter(|w| !w.ends_with(':'))
        .map(PathBuf::from)
        .filter(|p| p.starts_with(root))
        .collect()
}

fn compile(tree: &Tree, work: &Path, tu: &Path, flags: &[String], sanitize: bool) -> Result<(), BuildError> {
    let obj = work.join("tu.o");
    let mut cmd = cc_command()?;
    cmd.args(flags).args(["-Wall", "-Wextra", "-c"]).arg(tu).arg("-o").arg(&obj);
    run(cmd, "compiling the extracted code", &tree.root)?;

    let runner_obj = work.join("runner.o");
    let mut cmd = cc_command()?;
    cmd.arg(format!("-I{}", work.join("mmh").display()))
        .args(["-Wall", "-Wextra", "-c"])
        .arg(work.join("runner.c"))
        .arg("-o")
        .arg(&runner_obj);
    run(cmd, "compiling the runner", &tree.root)?;

    let mut cmd = cc_command()?;
    // Unused helpers of the tools headers may reach symbols nobody links.
    cmd.arg(&runner_obj).arg(&obj).arg("-Wl,--gc-sections").arg("-o").arg(work.join("runner"));
    if sanitize {
        cmd.args(SANITIZE);
    }
    run(cmd, "linking the runner", &tree.root)?;

    let mut ar = compiler()
        .try_get_archiver()
        .map_err(|e| BuildError::Toolchain { what: "finding the archiver".into(), message: e.to_string() })?;
    ar.arg("crs").arg(work.join(format!("lib{LIB_NAME}.a"))).arg(&obj);
    run(ar, "archiving the extracted code", &tree.root)?;
    Ok(())
}

/// Bindings of the same translation unit, with exact allow-lists.
fn bind(tree: &Tree, work: &Path, tu: &Path, flags: &[String], x: &Extract) -> Result<(), BuildError> {
    if clang_sys::load().is_err() && !clang_sys::is_loaded() {
        return Err(BuildError::NoLibclang);
    }
    let mut b = bindgen::Builder::default()
        .header(tu.display().to_string())
        .clang_args(flags)
        // The kernel's enum is a set of constants here, so that a test can
        // pass a value outside it without undefined behaviour.
        .constified_enum("mmap_action_type")
        .allowlist_function("mmh_.*")
        // The encoding's types are the tree-independent ones of `abi`.
        .blocklist_type("mmh_.*")
        .raw_line("pub use mmharness_build::abi::*;")
        .allowlist_var("PAGE_SHIFT")
        .derive_default(true);
    for t in ["mmap_action", "vm_area_desc", "vm_area_struct", "vm_operations_struct", "mm_struct", "mmap_action_type"]
    {
        b = b.allowlist_type(format!("^{t}$"));
    }
    for name in x.names() {
        b = b.allowlist_function(format!("^{name}$"));
    }
    let bindings = b.generate().map_err(|e| BuildError::Bindgen { tree: tree.root.clone(), message: e.to_string() })?;
    io(|| "writing the bindings".into(), bindings.write_to_file(work.join("bindings.rs")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deps_keep_only_the_trees_files() {
        let d = "tu.o: /b/tu.c /k/mm/vma.h \\\n /usr/include/stdio.h /k/tools/include/linux/mm.h\n";
        assert_eq!(
            deps_inputs(d, Path::new("/k")),
            vec![PathBuf::from("/k/mm/vma.h"), PathBuf::from("/k/tools/include/linux/mm.h")]
        );
    }
}
