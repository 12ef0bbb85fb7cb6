//! The end-to-end artifact: the real mmap path in userland. One unit holds
//! the extract (the mmap-action code, its leaves and hooks, as in the
//! ordinary unit), the tree's `do_munmap` (mm/mmap.c), `driver.c` (the
//! leaves' recorders and per-thread state), then `mm/vma_init.c`,
//! `mm/vma_exec.c`, `mm/vma.c` and the kernel's own VMA tests, included
//! through `tools/testing/vma/main.c` as its own build does, and last
//! `csrc/e2e.c`. The tools headers' stubs of `mmap_action_prepare`,
//! `mmap_action_complete`, `do_munmap` and `i_mmap_lock_write` are renamed
//! away, so `__mmap_region()` calls the real code and our recorders. The
//! maple tree and `tools/lib` are compiled beside it, as
//! `tools/testing/vma/Makefile` links them, and liburcu is linked.
//!
//! The entry is `<cache>/artifacts/<key>` like the ordinary artifact's, with
//! its own key (the unit's text differs, and an `e2e` part starts the key),
//! holding `e2e-runner`, `tu.c` and `manifest.json`.

use crate::c::File;
use crate::cache;
use crate::inputs::{self, Role};
use crate::install::{install_entry, verified, what_builds};
use crate::output::{io, BuildError, Manifest, Options};
use crate::plan::Plan;
use crate::progress;
use crate::toolchain::{self, SANITIZE};
use crate::tree::Tree;
use crate::unit::{self, DRIVER_C};
use std::path::{Path, PathBuf};

pub const E2E_C: &str = include_str!("../csrc/e2e.c");
pub const MAPPING_H: &str = include_str!("../include/mapping.h");
pub const RUNNER: &str = "e2e-runner";

/// Names the end-to-end unit defines that the tools headers stub: the rmap
/// lock, recorded so its depth can be followed over a call.
const ALSO_OURS: &[&str] = &["i_mmap_lock_write"];

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

/// The end-to-end unit's text.
pub fn text(plan: &Plan) -> Result<String, BuildError> {
    Ok(format!(
        "{}{}#line 1 \"mmharness/csrc/driver.c\"\n{DRIVER_C}{KERNEL_TESTS}\
         #define get_current mmh_tools_get_current\n{}#undef get_current\n\
         #define main mmh_kernel_vma_main\n{}#undef main\n\
         #line 1 \"mmharness/csrc/e2e.c\"\n{E2E_C}",
        unit::extracted_text(plan, ALSO_OURS, REDIRECTS),
        kernel_do_munmap(&plan.tree)?,
        included(&plan.tree, "tools/testing/vma/shared.c")?,
        included(&plan.tree, "tools/testing/vma/main.c")?,
    ))
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
/// into objects in `work`, and names them.
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
        cmd.arg("-o").arg(format!("{name}.o"));
        jobs.push((cmd, format!("compiling {path} for the end-to-end runner"), format!("{name}.o")));
    }
    let objects = jobs.iter().map(|(_, _, o)| o.clone()).collect();
    let jobs = jobs.into_iter().map(|(cmd, what, _)| (cmd, what)).collect();
    toolchain::run_parallel(jobs).map_err(|e| BuildError::of_tool(e, &plan.tree.root))?;
    Ok(objects)
}

/// The support library's cache entry, built in a work dir of its own when
/// the cache lacks it.
fn support_lib(plan: &Plan, manifest: &Manifest, cache_dir: &Path) -> Result<PathBuf, BuildError> {
    let key = key(plan, "e2e-support", is_support)?;
    let dest = cache::artifacts(cache_dir).join(&key);
    if verified(&dest).is_some() {
        cache::touch(&dest);
        return Ok(dest.join(SUPPORT_LIB));
    }
    let work = io(|| "creating a build directory".into(), cache::WorkDir::new(cache_dir))?;
    // The plan's directory holds the generated headers the sources include.
    let objects = compile_support(plan, plan.work.path())?;
    let mut ar = toolchain::archiver()?;
    ar.current_dir(plan.work.path()).arg("crs").arg(work.path().join(SUPPORT_LIB)).args(&objects);
    toolchain::run(ar, "archiving the end-to-end support library")?;
    for o in &objects {
        // The objects and their sources' copies stay out of the unit's entry.
        let _ = std::fs::remove_file(plan.work.path().join(o));
        let _ = std::fs::remove_file(plan.work.path().join(o.replace(".o", ".c")));
    }
    install_entry(work, Manifest { key, ..manifest.clone() }, &[SUPPORT_LIB], &dest)?;
    Ok(dest.join(SUPPORT_LIB))
}

/// Compiles the unit and links the runner with the support library.
fn compile(plan: &Plan, work: &Path, text: &str, support: &Path) -> Result<(), BuildError> {
    io(|| "writing the end-to-end unit".into(), std::fs::write(work.join("tu.c"), text))?;
    io(|| "writing mapping.h".into(), std::fs::write(work.join("mmh/mapping.h"), MAPPING_H))?;
    let mut cmd = toolchain::cc(work)?;
    // The kernel's VMA code is not ours to warn about: its errors still fail.
    cmd.args(&plan.flags).arg(format!("-I{}", work.display())).args(["-w", "-c", "tu.c", "-o", "tu.o"]);
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
    let text = text(&plan)?;
    let key = key(&plan, &format!("e2e\0{text}"), |r| r == Role::EndToEnd || is_support(r))?;
    let mut manifest = unit::manifest(&plan, key).map_err(|e| BuildError::of_tool(e, &tree.root))?;
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
    line.stage("the maple tree and tools/lib");
    let support = support_lib(&plan, &manifest, &opts.cache)?;
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
