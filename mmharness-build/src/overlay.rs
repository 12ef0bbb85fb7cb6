//! A scratch copy of a kernel tree that costs almost nothing: every entry a
//! symbolic link into the original, except the files that are replaced,
//! which are written. Mutants and patch reviews build from one; the
//! original is never written.

use std::path::{Path, PathBuf};

pub struct Overlay {
    dir: tempfile::TempDir,
}

impl Overlay {
    /// A copy of `base` in which each `(path, text)` of `replaced` has that text.
    pub fn new(base: &Path, replaced: &[(&str, &str)]) -> std::io::Result<Self> {
        Self::with_new_files(base, replaced, &[])
    }

    /// The same, with real directories (not links into `base`) above each
    /// path of `created`, so that a patch can create those files here.
    pub fn with_new_files(base: &Path, replaced: &[(&str, &str)], created: &[&str]) -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("mmharness-overlay-").tempdir()?;
        let replaced: Vec<(PathBuf, &str)> = replaced.iter().map(|(p, t)| (dir.path().join(p), *t)).collect();
        let created: Vec<PathBuf> = created.iter().map(|p| dir.path().join(p)).collect();
        link_all(base, dir.path(), &replaced, &created)?;
        for c in &created {
            if let Some(parent) = c.parent() {
                std::fs::create_dir_all(parent)?;
            }
        }
        Ok(Self { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

fn link_all(from: &Path, to: &Path, replaced: &[(PathBuf, &str)], created: &[PathBuf]) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        // A checkout's repository stays out: git run in the overlay must not
        // find the kernel's repository, and nothing may write into it.
        if e.file_name() == ".git" {
            continue;
        }
        let dst = to.join(e.file_name());
        if let Some((_, text)) = replaced.iter().find(|(p, _)| *p == dst) {
            std::fs::write(&dst, text)?;
        } else if replaced.iter().any(|(p, _)| p.starts_with(&dst))
            || created.iter().any(|p| p != &dst && p.starts_with(&dst))
        {
            link_all(&e.path(), &dst, replaced, created)?;
        } else {
            std::os::unix::fs::symlink(e.path(), &dst)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaced_files_are_written_and_the_rest_linked() {
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(base.path().join("mm")).unwrap();
        std::fs::write(base.path().join("mm/util.c"), "old").unwrap();
        std::fs::write(base.path().join("mm/memory.c"), "memory").unwrap();
        std::fs::write(base.path().join("Makefile"), "make").unwrap();
        let o = Overlay::new(base.path(), &[("mm/util.c", "new")]).unwrap();
        assert_eq!(std::fs::read_to_string(o.path().join("mm/util.c")).unwrap(), "new");
        assert_eq!(std::fs::read_to_string(o.path().join("mm/memory.c")).unwrap(), "memory");
        assert!(o.path().join("Makefile").symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(base.path().join("mm/util.c")).unwrap(), "old");
    }
}
