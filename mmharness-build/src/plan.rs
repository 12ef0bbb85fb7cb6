//! The first stage of a build: every input of the table read and lexed
//! once, the tools headers preprocessed once, and from them the extract,
//! the capabilities, the leaves' and hooks' signatures and the check of
//! the tools headers' copies. `check-dup`, `mutants` and `review` take
//! what they need from here; nothing reads the tree again.

use crate::c::decl::Kind;
use crate::c::{items, File, Lexed};
use crate::caps::{self, Capabilities};
use crate::dupcheck::{self, Comparison, DefinitionReport, Status};
use crate::extract::{self, Extract, ExtractError, Spec};
use crate::inputs::{self, Role};
use crate::leaves::{self, Signature};
use crate::output::{io, BuildError};
use crate::tree::{self, Tree};
use crate::{cache::WorkDir, toolchain};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Our C, embedded so that an installed binary can build any tree.
pub const OWN_HEADERS: &[(&str, &str)] = &[
    ("scenario.h", include_str!("../include/scenario.h")),
    ("warn.h", include_str!("../include/warn.h")),
    ("arch.h", include_str!("../include/arch.h")),
    ("leaves.h", include_str!("../include/leaves.h")),
    ("devmem.h", include_str!("../include/devmem.h")),
];

/// Entry points, each with the file that must define it.
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

/// The headers every unit includes, preprocessed once: what they define or
/// declare (so no list has to follow them), the files they read, and their
/// text with this build's paths taken out, for the cache key.
pub struct Headers {
    pub provided: BTreeSet<String>,
    pub read: Vec<PathBuf>,
    pub normalized: String,
}

pub struct Plan {
    pub tree: Tree,
    /// The inputs read as C, by path in the tree.
    pub files: BTreeMap<&'static str, File>,
    pub work: WorkDir,
    /// Include paths and defines, in the order tools/testing/vma uses.
    pub flags: Vec<String>,
    pub headers: Headers,
    pub extract: Extract,
    pub capabilities: Capabilities,
    /// The leaves the extract reaches, with the tree's signatures.
    pub leaves: Vec<Signature>,
    pub macro_leaves: Vec<String>,
    /// Shims of the hooks, with the prototypes of the tree's members.
    pub hooks: String,
    /// The tools headers' copies against the kernel's definitions.
    pub dup: Vec<DefinitionReport>,
    pub sanitize: bool,
}

fn write(path: &Path, text: &str) -> Result<(), BuildError> {
    if let Some(dir) = path.parent() {
        io(|| format!("creating {}", dir.display()), std::fs::create_dir_all(dir))?;
    }
    io(|| format!("writing {}", path.display()), std::fs::write(path, text))
}

/// The headers every translation unit starts with: the tools headers
/// unchanged, wrapped in our renames, then the real `mm/vma.h` and our
/// shims. Quoted includes of tree files are found through `-iquote <tree>`
/// only: the build directory holds no `mm/` or `tools/` of its own.
pub fn prelude(renames: &BTreeSet<String>, caps: &str) -> String {
    let mut s = String::from("#include \"bit-length.h\"\n#include \"maple-shared.h\"\n");
    s.push_str("/* Names the tools headers stub or duplicate, and we define for real. */\n");
    for n in renames {
        s.push_str(&format!("#define {n} renamed_{n}\n"));
    }
    s.push_str("#include \"vma_internal.h\"\n");
    for n in renames {
        s.push_str(&format!("#undef {n}\n"));
    }
    s.push_str("#include \"mm/vma.h\"\n#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n");
    s.push_str(caps);
    s.push_str("#include \"scenario.h\"\n#include \"warn.h\"\n#include \"arch.h\"\n#include \"leaves.h\"\n#include \"devmem.h\"\n");
    s
}

/// Out-of-line helpers of the tools headers, as tools/testing/vma links them.
pub const TOOLS_HELPERS: &str = "#include \"tools/lib/bitmap.c\"\n";

fn flags(tree: &Tree, work: &Path, sanitize: bool) -> Result<Vec<String>, BuildError> {
    let mut f: Vec<String> = vec!["-std=gnu11".into(), "-D_LGPL_SOURCE".into()];
    f.extend(tree::vma_test_defines(&tree.read("tools/testing/vma/Makefile")?));
    f.push(format!("-I{}", work.join("generated").display()));
    f.push(format!("-I{}", work.join("mmh").display()));
    f.push(format!("-iquote{}", tree.root.display()));
    for dir in inputs::paths(Role::IncludeDir) {
        f.push("-isystem".into());
        f.push(tree.path(dir).display().to_string());
    }
    if sanitize {
        f.extend(toolchain::SANITIZE.iter().map(|s| s.to_string()));
    }
    Ok(f)
}

/// Reads and lexes every input of the roles read as C that the tree has.
fn read_files(tree: &Tree) -> Result<BTreeMap<&'static str, File>, BuildError> {
    let roles = [Role::Code, Role::Helpers, Role::Declarations, Role::KernelTypes, Role::ToolsHeader];
    let mut files = BTreeMap::new();
    for i in inputs::files().filter(|i| roles.contains(&i.role) && i.path.ends_with(['c', 'h'])) {
        if !i.required && !tree.path(i.path).is_file() {
            continue;
        }
        let text = tree.read(i.path)?;
        let file = File::new(i.path, &text).map_err(|e| BuildError::Extract(e.into()))?;
        files.insert(i.path, file);
    }
    // Where mm/vma.c, not the extracted code, releases the rmap lock or
    // unmaps after an action: read for that evidence, never compiled here.
    if tree.path(VMA_C).is_file() {
        let file = File::new(VMA_C, &tree.read(VMA_C)?).map_err(|e| BuildError::Extract(e.into()))?;
        files.insert(VMA_C, file);
    }
    Ok(files)
}

const VMA_C: &str = "mm/vma.c";

/// The prelude without renames, and the helpers the unit ends with,
/// preprocessed: every header file the unit reads, so that this text and
/// the unit's own text together determine the preprocessed unit.
fn probe_headers(tree: &Tree, work: &Path, flags: &[String]) -> Result<Headers, BuildError> {
    let probe = work.join("probe.c");
    write(&probe, &format!("{}{TOOLS_HELPERS}", prelude(&BTreeSet::new(), "")))?;
    let deps_file = work.join("probe.d");
    let mut cmd = toolchain::cc(work)?;
    cmd.args(flags).args(["-E", "-dD", "-MD", "-MF"]).arg(&deps_file).arg(&probe);
    let preprocessed = toolchain::run(cmd, "preprocessing the tools/testing/vma headers")?;
    let lexed = Lexed::new("<headers>", &preprocessed).map_err(|e| BuildError::Extract(e.into()))?;
    let mut provided = items::defined_macros(&lexed);
    provided.extend(items::items(&lexed).into_iter().map(|i| i.name));
    let deps = io(|| "reading the dependency file".into(), std::fs::read_to_string(&deps_file))?;
    for scratch in [probe, deps_file] {
        let _ = std::fs::remove_file(scratch);
    }
    let normalized = preprocessed
        .replace(&work.display().to_string(), "<build>")
        .replace(&tree.root.display().to_string(), "<tree>");
    Ok(Headers { provided, read: deps_read(&deps, &tree.root), normalized })
}

/// The tree's files named in a make-style dependency file.
pub(crate) fn deps_read(deps: &str, root: &Path) -> Vec<PathBuf> {
    deps.replace("\\\n", " ")
        .split_whitespace()
        .filter(|w| !w.ends_with(':'))
        .map(PathBuf::from)
        .filter(|p| p.starts_with(root))
        .collect()
}

/// The files of `roles`, in table order.
fn role<'a>(files: &'a BTreeMap<&'static str, File>, roles: &[Role]) -> Vec<&'a File> {
    inputs::INPUTS.iter().filter(|i| roles.contains(&i.role)).filter_map(|i| files.get(i.path)).collect()
}

/// The tools header holding the copies of the mm types: the split
/// `dup.h` where the tree has it (7.0 on), else `vma_internal.h`.
fn tools_types<'a>(files: &'a BTreeMap<&'static str, File>) -> &'a File {
    files
        .get("tools/testing/vma/include/dup.h")
        .or_else(|| files.get("tools/testing/vma/vma_internal.h"))
        .expect("vma_internal.h is required")
}

fn follow_calls(files: &BTreeMap<&'static str, File>, provided: &BTreeSet<String>) -> Result<Extract, ExtractError> {
    extract::extract(&Spec {
        entries: ENTRIES,
        optional_entries: OPTIONAL_ENTRIES,
        code: &role(files, &[Role::Code]),
        helpers: &role(files, &[Role::Helpers]),
        leaves: &leaves::names(),
        provided,
    })
}

/// The capabilities, and the hook shims, from the tools headers' types.
fn detect(files: &BTreeMap<&'static str, File>, extract: &Extract) -> (Capabilities, String) {
    let t = tools_types(files);
    let action = t.aggregate(Kind::Struct, "mmap_action");
    let vm_ops = t.aggregate(Kind::Struct, "vm_operations_struct");
    let desc = t.aggregate(Kind::Struct, "vm_area_desc");
    let types = t.aggregate(Kind::Enum, "mmap_action_type");
    let capabilities = caps::detect(&caps::Inputs {
        action: action.as_ref(),
        vm_ops: vm_ops.as_ref(),
        desc: desc.as_ref(),
        action_types: types.as_ref(),
        split_tools_headers: files.contains_key("tools/testing/vma/include/dup.h"),
        extract,
        vma_c: files.get(VMA_C),
    });
    (capabilities, leaves::hook_shims(&[action, vm_ops]))
}

/// The leaves the extract reaches, each with the signature the tree declares.
fn find_leaves(
    files: &BTreeMap<&'static str, File>,
    extract: &Extract,
) -> Result<(Vec<Signature>, Vec<String>), ExtractError> {
    let decls = role(files, &[Role::Code, Role::Helpers, Role::Declarations]);
    let reached = &extract.leaves_reached;
    let functions = leaves::LEAVES
        .iter()
        .filter(|l| reached.contains(**l))
        .map(|l| leaves::signature(l, &decls))
        .collect::<Result<_, _>>()?;
    let macros = leaves::MACRO_LEAVES.iter().filter(|l| reached.contains(**l)).map(|l| l.to_string()).collect();
    Ok((functions, macros))
}

impl Plan {
    /// Reads `tree` and plans its build in a fresh build directory of `cache`.
    pub fn new(tree: &Tree, cache: &Path, sanitize: bool) -> Result<Self, BuildError> {
        toolchain::remember_in(cache);
        let work = io(|| format!("creating a build directory in {}", cache.display()), WorkDir::new(cache))?;
        for (name, text) in OWN_HEADERS {
            write(&work.path().join("mmh").join(name), text)?;
        }
        write(
            &work.path().join("generated/bit-length.h"),
            "#define CONFIG_64BIT 1\n#define CONFIG_PHYS_ADDR_T_64BIT 1\n",
        )?;
        write(&work.path().join("generated/map-shift.h"), "#define XA_CHUNK_SHIFT 3\n")?;
        write(&work.path().join("generated/autoconf.h"), &tree.read("tools/testing/shared/autoconf.h")?)?;
        let flags = flags(tree, work.path(), sanitize)?;
        let files = read_files(tree)?;
        let headers = probe_headers(tree, work.path(), &flags)?;
        let extract = follow_calls(&files, &headers.provided)?;
        let (capabilities, hooks) = detect(&files, &extract);
        let (leaves, macro_leaves) = find_leaves(&files, &extract)?;
        let kernel = role(&files, &[Role::KernelTypes, Role::Helpers]);
        let dup = dupcheck::check(&kernel, tools_types(&files), &extract.members());
        Ok(Self {
            tree: tree.clone(),
            files,
            work,
            flags,
            headers,
            extract,
            capabilities,
            leaves,
            macro_leaves,
            hooks,
            dup,
            sanitize,
        })
    }

    /// The plan of a build that counts the lines it runs: its flags, and
    /// so its key, say so.
    pub fn with_coverage(mut self) -> Self {
        if !self.coverage() {
            self.flags.extend(toolchain::COVERAGE.iter().map(|f| f.to_string()));
        }
        self
    }

    pub fn coverage(&self) -> bool {
        toolchain::COVERAGE.iter().all(|f| self.flags.iter().any(|g| g == f))
    }

    /// The file at `path`, if the tree has it.
    pub fn file(&self, path: &str) -> Option<&File> {
        self.files.get(path)
    }

    pub fn tools_types(&self) -> &File {
        tools_types(&self.files)
    }

    /// The exactly compared copies that differ from the kernel's, in words.
    pub fn dup_differences(&self) -> Vec<&str> {
        self.dup
            .iter()
            .filter(|d| d.comparison == Comparison::Exact)
            .flat_map(|d| d.differences.iter().map(String::as_str))
            .collect()
    }

    /// The check-dup differences every result of this tree rests on.
    pub fn warnings(&self) -> Vec<String> {
        self.dup
            .iter()
            .filter(|d| d.status == Status::Differs)
            .flat_map(|d| d.differences.iter().map(|l| format!("{l}: results trust the tools headers' copy")))
            .collect()
    }

    /// Every file of the tree the build reads: what the preprocessor read,
    /// and the inputs read as text.
    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut v = self.headers.read.clone();
        v.extend(inputs::files().map(|i| self.tree.path(i.path)).filter(|p| p.is_file()));
        v.sort();
        v.dedup();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deps_keep_only_the_trees_files() {
        let d = "tu.o: /b/tu.c /k/mm/vma.h \\\n /usr/include/stdio.h /k/tools/include/linux/mm.h\n";
        assert_eq!(
            deps_read(d, Path::new("/k")),
            vec![PathBuf::from("/k/mm/vma.h"), PathBuf::from("/k/tools/include/linux/mm.h")]
        );
    }
}
