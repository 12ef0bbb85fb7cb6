//! The end-to-end artifact: the real mmap path in userland. One unit holds
//! the extract (the mmap-action code, its leaves and hooks, as in the
//! ordinary unit), the tree's `do_munmap` (mm/mmap.c) and `free_pgtables`
//! (mm/memory.c) with `include/e2e_shims.h`, `driver.c` (the
//! leaves' recorders and per-thread state), then `mm/vma_init.c`,
//! `mm/vma_exec.c`, `mm/vma.c` and the kernel's own VMA tests, included
//! through `tools/testing/vma/main.c` as its own build does, and last
//! `csrc/e2e.c`. The tools headers' stubs of `mmap_action_prepare`,
//! `mmap_action_complete`, `do_munmap`, `free_pgtables`, `unlink_anon_vmas`
//! and `i_mmap_lock_write` are renamed
//! away, so `mmap_region()` calls the real code and our recorders. The
//! maple tree and `tools/lib` are compiled beside it, as
//! `tools/testing/vma/Makefile` links them, and liburcu is linked.
//!
//! The entry is `<cache>/artifacts/<key>` like the ordinary artifact's, with
//! its own key (the unit's text differs, and an `e2e` part starts the key),
//! holding `e2e-runner`, `tu.c` and `manifest.json`.

use crate::c::File;
use crate::cache;
use crate::extract::{self, Extract, Spec};
use crate::inputs::{self, Role};
use crate::install::{install_entry, verified, what_builds};
use crate::output::{io, BuildError, Manifest, Options};
use crate::plan::{deps_read, Plan};
use crate::progress;
use crate::toolchain::{self, SANITIZE};
use crate::tree::Tree;
use crate::unit::{self, DRIVER_C};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub const E2E_C: &str = include_str!("../csrc/e2e.c");
pub const MAPPING_H: &str = include_str!("../include/mapping.h");
pub const SHIMS_H: &str = include_str!("../include/e2e_shims.h");
pub const RUNNER: &str = "e2e-runner";

/// Names the end-to-end unit defines that the tools headers stub: the rmap
/// lock, recorded so its depth can be followed over a call, and the
/// NULL-safe `unlink_anon_vmas` of `include/e2e_shims.h`.
const ALSO_OURS: &[&str] = &["i_mmap_lock_write", "unlink_anon_vmas"];

/// Where `free_pgtables` stops: there are no page tables, and the tools
/// headers' empty `free_pgd_range` stands for the walk that frees them.
const PAGE_TABLE_LEAVES: &[&str] = &["free_pgd_range"];

/// After the prelude: our declarations, and the leaves redirected where the
/// mapping must really change (the unmap) or be followed (the rmap unlock).
const REDIRECTS: &str = "#include \"mapping.h\"\n\
    void i_mmap_lock_write(struct address_space *mapping);\n\
    void mmh_e2e_rmap_unlock(struct address_space *mapping);\n\
    int mmh_e2e_munmap(struct mm_struct *mm, unsigned long start, size_t len, struct list_head *uf);\n\
    int mmh_kernel_do_munmap(struct mm_struct *mm, unsigned long start, size_t len, struct list_head *uf);\n\
    #undef MMH_LEAF_do_munmap\n\
    #define MMH_LEAF_do_munmap(mm, start, len, uf, ...) mmh_e2e_munmap(mm, start, len, uf)\n\
    #undef MMH_LEAF_i_mmap_unlock_write\n\
    #define MMH_LEAF_i_mmap_unlock_write(mapping, ...) mmh_e2e_rmap_unlock(mapping)\n";

/// Before tools/testing/vma's shared.c and main.c: each of its tests
/// reported by name, its `current` left to driver.c, its main() renamed.
const KERNEL_TESTS: &str = "#line 1 \"mmharness/e2e-glue\"\n\
    #include \"tools/testing/vma/shared.h\"\n\
    static FILE *mmh_e2e_out;\n\
    int mmh_vma_test(const char *name, bool (*test)(void), int *num_tests, int *num_fail);\n\
    #undef TEST\n\
    #define TEST(name) mmh_vma_test(#name, test_##name, num_tests, num_fail)\n";

/// The text of a tree file with its relative includes made relative to the
/// tree's top (found through `-iquote <tree>`): in an overlay, `..` from a
/// directory that is a link into the original would leave the overlay, and
/// a patched `mm/vma.c` would not be the one compiled.
fn rooted(text: &str, path: &str) -> String {
    let dir: Vec<&str> = path.rsplit_once('/').map_or(vec![], |(d, _)| d.split('/').collect());
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let rel = line.strip_prefix("#include \"").and_then(|r| r.split_once('"'));
        match rel {
            Some((inc, rest)) => {
                let mut parts = dir.clone();
                for c in inc.split('/') {
                    match c {
                        ".." => drop(parts.pop()),
                        "." => {}
                        c => parts.push(c),
                    }
                }
                out.push_str(&format!("#include \"{}\"{rest}\n", parts.join("/")));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// A tree file for the unit: `#line` to its start, relative includes rooted.
fn included(tree: &Tree, path: &str) -> Result<String, BuildError> {
    Ok(format!("#line 1 \"{path}\"\n{}", rooted(&tree.read(path)?, path)))
}

#[derive(Debug, Clone)]
pub struct E2eArtifact {
    pub dir: PathBuf,
    pub manifest: Manifest,
    /// False when the cache already held it.
    pub compiled: bool,
}

impl E2eArtifact {
    pub fn runner(&self) -> PathBuf {
        self.dir.join(RUNNER)
    }
}

/// The tree's `do_munmap`, renamed: the leaf calls it after its injection.
fn kernel_do_munmap(tree: &Tree) -> Result<String, BuildError> {
    let path = "mm/mmap.c";
    let file = File::new(path, &tree.read(path)?).map_err(|e| BuildError::Extract(e.into()))?;
    let item = file.definitions("do_munmap").next().ok_or_else(|| BuildError::Compile {
        what: "finding do_munmap for the end-to-end unit".into(),
        tree: tree.root.clone(),
        output: "mm/mmap.c defines no do_munmap".into(),
    })?;
    Ok(format!(
        "#define do_munmap mmh_kernel_do_munmap\n#line {} \"{path}\"\n{}\n#undef do_munmap\n",
        item.line,
        file.item_text(item)
    ))
}

/// The tree's `free_pgtables` (mm/memory.c), through the extraction, in
/// place of the tools headers' empty stub: an unmap unlinks each VMA from
/// its file's rmap under the rmap lock, as the kernel does.
fn kernel_free_pgtables(plan: &Plan) -> Result<Extract, BuildError> {
    let memory = plan.file("mm/memory.c").expect("mm/memory.c is a required input");
    let leaves: BTreeSet<String> = PAGE_TABLE_LEAVES.iter().map(|s| s.to_string()).collect();
    let spec = Spec {
        entries: &[("mm/memory.c", "free_pgtables")],
        optional_entries: &[],
        code: &[memory],
        helpers: &[],
        leaves: &leaves,
        provided: &plan.headers.provided,
    };
    extract::extract(&spec).map_err(BuildError::Extract)
}

/// The files the end-to-end unit includes as they are: without them the
/// tree's tools/testing/vma is not laid out as the unit follows it.
const UNIT_FILES: &[&str] = &["tools/testing/vma/main.c", "tools/testing/vma/shared.c", "tools/testing/vma/shared.h"];

/// Why the end-to-end mode does not apply to the tree planned, if it does
/// not, read from the tree: a file the unit includes is missing, or
/// mm/vma.c calls an extracted entry point with another number of arguments
/// than the tree's mm/util.c defines (the two halves are of different
/// shapes, as in a fixture that rewrites only mm/util.c). Compiled together
/// under `-w`, such a mismatch could run with arguments out of place: a
/// silent wrong answer, never a result.
pub fn not_applicable(plan: &Plan) -> Result<Option<String>, BuildError> {
    if let Some(missing) = UNIT_FILES.iter().find(|p| !plan.tree.path(p).is_file()) {
        return Ok(Some(format!("the tree lacks {missing}, which the end-to-end unit includes")));
    }
    let path = "mm/vma.c";
    let vma = File::new(path, &plan.tree.read(path)?).map_err(|e| BuildError::Extract(e.into()))?;
    let l = &vma.lexed;
    for name in ["mmap_action_prepare", "mmap_action_complete"] {
        let Some(def) = plan.extract.mmu(name) else { continue };
        let calls = (1..l.tokens.len()).filter(|&i| l.is(i - 1, name) && l.is(i, "("));
        for open in calls {
            let close = l.closing(open).expect("balanced parentheses in mm/vma.c");
            let args = crate::c::items::split_commas(l, open + 1..close).len();
            if args != def.params.len() {
                return Ok(Some(format!(
                    "{path}:{} calls {name} with {args} arguments, {}:{} defines it with {}: the two do not build \
                     together",
                    l.line_of(l.tokens[open].start),
                    def.file,
                    def.line,
                    def.params.len()
                )));
            }
        }
    }
    Ok(None)
}

/// The mapping path's entry in mm/vma.c: it and the mm/vma.c functions it
/// calls are what the end-to-end entries judge. The driver calls
/// `mmap_region`, which checks and calls it.
const MAPPING_PATH: &str = "__mmap_region";

/// How the driver calls the tree's `mmap_region`: a define when its flags
/// are the legacy `vm_flags_t` (7.2) rather than `vma_flags_t` (7.3); or
/// why the mode does not apply, when mm/vma.c has no `mmap_region`.
fn mmap_region_call(tree: &Tree) -> Result<Result<&'static str, String>, BuildError> {
    let vma = File::new("mm/vma.c", &tree.read("mm/vma.c")?).map_err(|e| BuildError::Extract(e.into()))?;
    let Some(def) = vma.definitions("mmap_region").next() else {
        return Ok(Err("mm/vma.c defines no mmap_region, which the driver calls".into()));
    };
    match def.params.get(3).map(|p| p.ty.as_str()) {
        Some("vm_flags_t") => Ok(Ok("#define MMH_MMAP_REGION_VM_FLAGS 1\n")),
        Some("vma_flags_t") => Ok(Ok("")),
        other => Ok(Err(format!("mm/vma.c's mmap_region takes {other:?} as its flags, which the driver cannot pass"))),
    }
}

/// Definitions of one file, each as `(name, line)`.
pub type Definitions = Vec<(String, usize)>;

/// The tree's code that only the end-to-end entries judge, file by file,
/// each definition as `(name, line)`: `mmap_region`, `__mmap_region` and the
/// functions of mm/vma.c it calls, `do_munmap` and `free_pgtables`. For mutants; the
/// mmap-action code is the plan's extract.
pub fn judged_code(tree: &Tree) -> Result<Vec<(File, Definitions)>, BuildError> {
    let lexed = |path: &str| -> Result<File, BuildError> {
        File::new(path, &tree.read(path)?).map_err(|e| BuildError::Extract(e.into()))
    };
    let (vma, mmap, memory) = (lexed("mm/vma.c")?, lexed("mm/mmap.c")?, lexed("mm/memory.c")?);
    let mut in_vma = Vec::new();
    if let Some(entry) = vma.definitions(MAPPING_PATH).next() {
        let body = entry.body_tokens.clone().expect("a definition");
        let called = crate::c::items::referenced(&vma.lexed, body);
        in_vma.push((entry.name.clone(), entry.line));
        let callees = vma.items.iter().filter(|i| i.is_definition() && called.contains(&i.name));
        in_vma.extend(callees.map(|i| (i.name.clone(), i.line)));
    }
    let named = |f: &File, name: &str| f.definitions(name).map(|i| (i.name.clone(), i.line)).collect::<Vec<_>>();
    in_vma.extend(named(&vma, "mmap_region"));
    let (in_mmap, in_memory) = (named(&mmap, "do_munmap"), named(&memory, "free_pgtables"));
    Ok(vec![(vma, in_vma), (mmap, in_mmap), (memory, in_memory)])
}

/// The end-to-end unit's text, and the extract of `free_pgtables`.
pub fn text(plan: &Plan) -> Result<(String, Extract), BuildError> {
    let pgt = kernel_free_pgtables(plan)?;
    let pgt_names = pgt.names();
    let ours: Vec<&str> = ALSO_OURS.iter().copied().chain(pgt_names.iter().map(String::as_str)).collect();
    let region = mmap_region_call(&plan.tree)?.map_err(BuildError::NotApplicable)?;
    let text = format!(
        "{}{}#line 1 \"mmharness/include/e2e_shims.h\"\n{SHIMS_H}{}{}\
         #line 1 \"mmharness/csrc/driver.c\"\n{DRIVER_C}{KERNEL_TESTS}\
         #define get_current mmh_tools_get_current\n{}#undef get_current\n\
         #define main mmh_kernel_vma_main\n{}#undef main\n\
         {region}#line 1 \"mmharness/csrc/e2e.c\"\n{E2E_C}",
        unit::extracted_text(plan, &ours, REDIRECTS),
        kernel_do_munmap(&plan.tree)?,
        pgt.prototypes(),
        pgt.definitions_text(),
        included(&plan.tree, "tools/testing/vma/shared.c")?,
        included(&plan.tree, "tools/testing/vma/main.c")?,
    );
    Ok((text, pgt))
}

/// The support sources, each with whether `static` is taken out first.
fn support_sources() -> Vec<(&'static str, bool)> {
    inputs::INPUTS
        .iter()
        .filter_map(|i| match i.role {
            Role::EndToEndSupport { unstatic } => Some((i.path, unstatic)),
            Role::ToolsHelpers => Some((i.path, false)),
            _ => None,
        })
        .collect()
}

/// A key: `what` (the unit's text, or which library), the tree files of
/// `roles`, the tools headers, the flags, the compiler and this module.
fn key(plan: &Plan, what: &str, roles: fn(Role) -> bool) -> Result<String, BuildError> {
    let mut parts: Vec<String> = vec![what.into(), plan.headers.normalized.clone()];
    for i in inputs::INPUTS.iter().filter(|i| roles(i.role)) {
        parts.push(if plan.tree.path(i.path).is_file() { plan.tree.read(i.path)? } else { String::new() });
    }
    parts.push(unit::normalized_flags(plan));
    parts.push(toolchain::compiler()?.1.clone());
    parts.push(toolchain::CODEGEN.join(" "));
    parts.push(include_str!("e2e.rs").into());
    Ok(cache::sha256(parts.join("\0").as_bytes()))
}

fn is_support(role: Role) -> bool {
    matches!(role, Role::EndToEndSupport { .. } | Role::EndToEndReached | Role::ToolsHelpers)
}

/// The maple tree and tools/lib do not change with mm/vma.c: cached apart,
/// so a bisect step over mm/vma.c compiles the unit only.
const SUPPORT_LIB: &str = "libmmharness_vma_support.a";

/// `static` and `inline` taken out, as shared.mk's sed does.
fn unstatic(text: &str) -> String {
    text.lines()
        .map(|l| {
            let l = l.strip_prefix("static ").unwrap_or(l);
            l.replacen("__always_inline ", "", 1).replacen("inline ", "", 1)
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Compiles the support sources, two at a time (the machine is shared),
/// into objects in `work`, and names them; each writes a dependency file.
fn compile_support(plan: &Plan, work: &Path) -> Result<Vec<String>, BuildError> {
    let mut jobs = Vec::new();
    for (path, strip) in support_sources() {
        let name = Path::new(path).file_stem().expect("a file").to_string_lossy().into_owned();
        let text = rooted(&plan.tree.read(path)?, path);
        let source = work.join(format!("{name}.c"));
        let text = if strip { unstatic(&text) } else { text };
        io(|| format!("writing {}", source.display()), std::fs::write(&source, text))?;
        let mut cmd = toolchain::cc(work)?;
        cmd.args(&plan.flags).arg(format!("-I{}", work.display())).args(["-w", "-c"]).arg(&source);
        // The tree's paths as given, also in an overlay of links: see support_deps.
        cmd.arg("-o").arg(format!("{name}.o")).args(["-fno-canonical-system-headers", "-MD", "-MF"]);
        cmd.arg(format!("{name}.d"));
        jobs.push((cmd, format!("compiling {path} for the end-to-end runner"), format!("{name}.o")));
    }
    let objects = jobs.iter().map(|(_, _, o)| o.clone()).collect();
    let jobs = jobs.into_iter().map(|(cmd, what, _)| (cmd, what)).collect();
    toolchain::run_parallel(jobs).map_err(|e| BuildError::of_tool(e, &plan.tree.root))?;
    Ok(objects)
}

/// The tree files the support sources' compiles read, as their dependency
/// files name them, relative to the tree (`-fno-canonical-system-headers`:
/// gcc would otherwise name a header reached through a link by its target,
/// outside an overlay's root, and the list would lack it).
fn support_deps(plan: &Plan, objects: &[String]) -> Result<Vec<String>, BuildError> {
    let root = &plan.tree.root;
    let mut deps = Vec::new();
    for o in objects {
        let d = plan.work.path().join(o.replace(".o", ".d"));
        let text = io(|| format!("reading {}", d.display()), std::fs::read_to_string(&d))?;
        let read = deps_read(&text, root).into_iter().filter_map(|p| Some(p.strip_prefix(root).ok()?.to_path_buf()));
        deps.extend(read.map(|p| p.to_string_lossy().into_owned()));
    }
    deps.sort();
    deps.dedup();
    Ok(deps)
}

/// The support library's key: `base` (its sources, flags, compiler) and
/// the text of every tree file its last build read, so that a change to any
/// header the maple tree or tools/lib reaches makes a new entry.
fn with_deps(plan: &Plan, base: &str, deps: &[String]) -> Result<String, BuildError> {
    let mut parts = vec![base.to_string()];
    for d in deps {
        let text = if plan.tree.path(d).is_file() { plan.tree.read(d)? } else { String::new() };
        parts.extend([d.clone(), text]);
    }
    Ok(cache::sha256(parts.join("\0").as_bytes()))
}

/// The support library's cache entry, built in a work dir of its own when
/// the cache lacks it. As ccache's direct mode: `<base>.deps` beside the
/// entries lists what the last build of `base` read, and the entry's key
/// hashes those files' text too; a changed header (which may include
/// others) misses, rebuilds, and writes the list anew.
fn support_lib(plan: &Plan, manifest: &Manifest, cache_dir: &Path) -> Result<PathBuf, BuildError> {
    let base = key(plan, "e2e-support", is_support)?;
    let list = cache::artifacts(cache_dir).join(format!("{base}.deps"));
    let last: Option<Vec<String>> = std::fs::read_to_string(&list).ok().and_then(|t| serde_json::from_str(&t).ok());
    if let Some(deps) = last {
        let dest = cache::artifacts(cache_dir).join(with_deps(plan, &base, &deps)?);
        if verified(&dest).is_some() {
            cache::touch(&dest);
            return Ok(dest.join(SUPPORT_LIB));
        }
    }
    let work = io(|| "creating a build directory".into(), cache::WorkDir::new(cache_dir))?;
    // The plan's directory holds the generated headers the sources include.
    let objects = compile_support(plan, plan.work.path())?;
    let deps = support_deps(plan, &objects)?;
    let key = with_deps(plan, &base, &deps)?;
    let mut ar = toolchain::archiver()?;
    ar.current_dir(plan.work.path()).arg("crs").arg(work.path().join(SUPPORT_LIB)).args(&objects);
    toolchain::run(ar, "archiving the end-to-end support library")?;
    for o in &objects {
        // The objects, their sources' copies and dependency files stay out of the unit's entry.
        for ext in [".o", ".c", ".d"] {
            let _ = std::fs::remove_file(plan.work.path().join(o.replace(".o", ext)));
        }
    }
    let dest = cache::artifacts(cache_dir).join(&key);
    install_entry(work, Manifest { key, ..manifest.clone() }, &[SUPPORT_LIB], &dest)?;
    let json = serde_json::to_string(&deps).expect("a list of strings");
    let tmp = list.with_extension(format!("deps.{}", std::process::id()));
    let written = std::fs::write(&tmp, json).and_then(|()| std::fs::rename(&tmp, &list));
    io(|| format!("writing {}", list.display()), written)?;
    Ok(dest.join(SUPPORT_LIB))
}

/// The unit's code generation, after CODEGEN's (later flags win). -O0:
/// mm/vma.c and the kernel's VMA tests at -O1 take about five times as long
/// to compile with the sanitizers as at -O0 (tools/testing/vma's own -Og,
/// twice), and a bisect step over mm/vma.c is that compile; the runs are
/// milliseconds at any level. -g1: line tables, so that ASan, UBSan and gdb
/// name the kernel's file and line, without the variables' descriptions
/// (about a tenth of the compile). No function or data sections: the runner
/// is linked whole, never with --gc-sections. The cached support library
/// keeps CODEGEN's flags.
const UNIT_CODEGEN: &[&str] = &["-O0", "-g1", "-fno-function-sections", "-fno-data-sections"];

/// With the sanitizers, GCC's ASan checks each access by a call rather than
/// inline (the same checks, use-after-scope included): the unit compiles in
/// about an eighth less time, and its runs are milliseconds either way.
/// Clang spells it otherwise, and does without.
const ASAN_OUTLINE: &str = "--param=asan-instrumentation-with-call-threshold=0";

/// Compiles the unit and links the runner with the support library.
fn compile(plan: &Plan, work: &Path, text: &str, support: &Path) -> Result<(), BuildError> {
    io(|| "writing the end-to-end unit".into(), std::fs::write(work.join("tu.c"), text))?;
    io(|| "writing mapping.h".into(), std::fs::write(work.join("mmh/mapping.h"), MAPPING_H))?;
    let mut cmd = toolchain::cc(work)?;
    // The kernel's VMA code is not ours to warn about: its errors still fail.
    cmd.args(UNIT_CODEGEN)
        .args(&plan.flags)
        .arg(format!("-I{}", work.display()))
        .args(["-w", "-c", "tu.c", "-o", "tu.o"]);
    if plan.sanitize && !toolchain::compiler()?.1.contains("clang") {
        cmd.arg(ASAN_OUTLINE);
    }
    toolchain::run(cmd, "compiling the end-to-end unit").map_err(|e| BuildError::of_tool(e, &plan.tree.root))?;
    let mut cmd = toolchain::cc(work)?;
    cmd.arg("tu.o").arg(support).args(["-o", RUNNER, "-lpthread", "-lurcu"]);
    if plan.sanitize {
        cmd.args(SANITIZE);
    }
    toolchain::run(cmd, "linking the end-to-end runner").map_err(|e| BuildError::of_tool(e, &plan.tree.root))?;
    let _ = std::fs::remove_file(work.join("tu.o"));
    Ok(())
}

/// The end-to-end artifact of `tree`, from the cache when it is there.
pub fn build(tree: &Tree, opts: &Options) -> Result<E2eArtifact, BuildError> {
    let plan = Plan::new(tree, &opts.cache, opts.sanitize)?;
    if let Some(reason) = not_applicable(&plan)? {
        return Err(BuildError::NotApplicable(reason));
    }
    let (text, pgt) = text(&plan)?;
    let mut manifest = unit::manifest(&plan, String::new()).map_err(|e| BuildError::of_tool(e, &tree.root))?;
    manifest.extracted.extend(pgt.places());
    // The support library's key (every header its sources reach) is part of
    // the runner's: a header only the maple tree reaches changes the runner.
    let support = support_lib(&plan, &manifest, &opts.cache)?;
    let support_key = support.parent().and_then(Path::file_name).expect("an entry").to_string_lossy();
    let unit_text = format!("e2e\0{text}\0{MAPPING_H}\0{support_key}");
    manifest.key = key(&plan, &unit_text, |r| r == Role::EndToEnd || is_support(r))?;
    let dest = cache::artifacts(&opts.cache).join(&manifest.key);
    if dest.exists() && verified(&dest).is_none() {
        cache::discard(&opts.cache, &dest);
    }
    if let Some(m) = verified(&dest) {
        cache::touch(&dest);
        manifest.files = m.files;
        return Ok(E2eArtifact { dir: dest, manifest, compiled: false });
    }
    let line = progress::step(format!("{} (end to end)", what_builds(&plan)));
    line.stage("compiling mm/vma.c, the extract and the kernel's VMA tests");
    compile(&plan, plan.work.path(), &text, &support)?;
    let Plan { work, .. } = plan;
    let compiled = install_entry(work, manifest.clone(), &[RUNNER, "tu.c"], &dest)?;
    manifest.files = verified(&dest).map(|m| m.files).unwrap_or_default();
    Ok(E2eArtifact { dir: dest, manifest, compiled })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unstatic_does_what_shared_mk_sed_does() {
        assert_eq!(
            unstatic("static inline int f(void)\nstatic __always_inline void g(void)\n"),
            "int f(void)\nvoid g(void)\n"
        );
    }

    #[test]
    fn relative_includes_are_rooted_at_the_tree() {
        let main = "#include \"shared.h\"\n#include \"../../../mm/vma.c\" /* x */\n#include <stdio.h>\n";
        assert_eq!(
            rooted(main, "tools/testing/vma/main.c"),
            "#include \"tools/testing/vma/shared.h\"\n#include \"mm/vma.c\" /* x */\n#include <stdio.h>\n"
        );
    }

    #[test]
    fn the_support_sources_are_tools_testing_vmas() {
        let names: Vec<&str> = support_sources().iter().map(|(p, _)| *p).collect();
        assert!(names.contains(&"tools/testing/shared/maple-shim.c"), "{names:?}");
        assert!(names.contains(&"tools/lib/bitmap.c"), "{names:?}");
        assert_eq!(support_sources().iter().filter(|(_, u)| *u).count(), 2);
    }
}
