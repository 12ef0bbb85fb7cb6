//! A kernel tree: where it is, which version it is, and whether it has what
//! the harness needs.

use crate::c::decl::Kind;
use crate::c::{File, LexError};
use crate::inputs;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("{0} does not exist: set KERNEL_SRC to a kernel source tree")]
    Missing(PathBuf),
    #[error("{0} is not a kernel tree (no top-level Makefile with VERSION and PATCHLEVEL): set KERNEL_SRC to the top of a Linux source tree")]
    NotAKernelTree(PathBuf),
    #[error("{tree} has no {file}: mmharness needs {why}; use a full kernel tree")]
    MissingFile { tree: PathBuf, file: &'static str, why: &'static str },
    #[error("{0} has no `struct mmap_action` in include/linux/mm_types.h: the tree is older than 6.19, the first release with mmap actions")]
    TooOld(PathBuf),
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Lex(#[from] LexError),
}

/// A kernel tree that has passed the checks the harness depends on.
#[derive(Debug, Clone)]
pub struct Tree {
    pub root: PathBuf,
    pub version: String,
}

impl Tree {
    /// Checks that `root` is a kernel tree the harness can use.
    pub fn open(root: &Path) -> Result<Self, TreeError> {
        if !root.exists() {
            return Err(TreeError::Missing(root.to_path_buf()));
        }
        let root = root.canonicalize().map_err(|source| TreeError::Io { path: root.to_path_buf(), source })?;
        let makefile = std::fs::read_to_string(root.join("Makefile")).unwrap_or_default();
        let version = kernel_version(&makefile).ok_or_else(|| TreeError::NotAKernelTree(root.clone()))?;
        for i in inputs::INPUTS.iter().filter(|i| i.required) {
            if !root.join(i.path).exists() {
                return Err(TreeError::MissingFile { tree: root.clone(), file: i.path, why: i.why });
            }
        }
        let tree = Self { root, version };
        let types = File::new("include/linux/mm_types.h", &tree.read("include/linux/mm_types.h")?)?;
        if types.aggregate(Kind::Struct, "mmap_action").is_none() {
            return Err(TreeError::TooOld(tree.root));
        }
        Ok(tree)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn read(&self, rel: &str) -> Result<String, TreeError> {
        let path = self.path(rel);
        std::fs::read_to_string(&path).map_err(|source| TreeError::Io { path, source })
    }
}

/// `VERSION.PATCHLEVEL.SUBLEVEL` plus `EXTRAVERSION` from a top-level Makefile.
pub fn kernel_version(makefile: &str) -> Option<String> {
    let field = |key: &str| {
        makefile.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    };
    let version = field("VERSION")?;
    let patchlevel = field("PATCHLEVEL")?;
    let sublevel = field("SUBLEVEL").unwrap_or_default();
    let extra = field("EXTRAVERSION").unwrap_or_default();
    let mut v = format!("{version}.{patchlevel}");
    if !sublevel.is_empty() && sublevel != "0" {
        v.push_str(&format!(".{sublevel}"));
    }
    v.push_str(&extra);
    Some(v)
}

/// The `-D` flags a tree's `tools/testing/vma/Makefile` adds to CFLAGS, such
/// as the flag-bit widths, which differ between releases.
pub fn vma_test_defines(makefile: &str) -> Vec<String> {
    makefile
        .lines()
        .filter_map(|l| l.trim().strip_prefix("CFLAGS"))
        .filter_map(|rest| rest.trim_start().strip_prefix("+="))
        .flat_map(|v| v.split_whitespace())
        .filter(|w| w.starts_with("-D"))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_from_makefile() {
        let mk = "# SPDX\nVERSION = 7\nPATCHLEVEL = 3\nSUBLEVEL = 4\nEXTRAVERSION =\nNAME = x\n";
        assert_eq!(kernel_version(mk).as_deref(), Some("7.3.4"));
        let rc = "VERSION = 7\nPATCHLEVEL = 4\nSUBLEVEL = 0\nEXTRAVERSION = -rc2\n";
        assert_eq!(kernel_version(rc).as_deref(), Some("7.4-rc2"));
        assert_eq!(kernel_version("all:\n\ttrue\n"), None);
    }

    #[test]
    fn defines_from_the_vma_test_makefile() {
        let mk = "OFILES = a.o\n# comment\nCFLAGS += -DNUM_VMA_FLAG_BITS=128 -DNUM_MM_FLAG_BITS=128 -O2\n";
        assert_eq!(vma_test_defines(mk), vec!["-DNUM_VMA_FLAG_BITS=128", "-DNUM_MM_FLAG_BITS=128"]);
    }

    fn fake_tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    const MAKEFILE: (&str, &str) = ("Makefile", "VERSION = 6\nPATCHLEVEL = 18\nSUBLEVEL = 0\n");

    #[test]
    fn a_directory_without_a_kernel_makefile_is_not_a_tree() {
        let dir = fake_tree(&[("README", "hello")]);
        let err = Tree::open(dir.path()).unwrap_err();
        assert!(matches!(err, TreeError::NotAKernelTree(_)), "{err}");
        assert!(err.to_string().contains("is not a kernel tree"));
    }

    #[test]
    fn a_tree_without_tools_testing_vma_says_so() {
        let files: Vec<_> = std::iter::once(MAKEFILE)
            .chain(
                inputs::files()
                    .filter(|i| i.required && i.path != "Makefile" && !i.path.starts_with("tools/"))
                    .map(|i| (i.path, "")),
            )
            .collect();
        let dir = fake_tree(&files);
        let err = Tree::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("has no tools/testing/vma/vma_internal.h"), "{err}");
    }

    #[test]
    fn a_tree_without_struct_mmap_action_is_too_old() {
        let files: Vec<_> = std::iter::once(MAKEFILE)
            .chain(inputs::files().filter(|i| i.required && i.path != "Makefile").map(|i| (i.path, "")))
            .collect();
        let dir = fake_tree(&files);
        let err = Tree::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("older than 6.19"), "{err}");
    }
}
