//! A scratch copy of a kernel tree that costs almost nothing: every entry a
//! symbolic link into the original, except the files that are replaced,
//! which are written. Mutants and patch reviews build from one; the
//! original is never written.

use std::path::{Component, Path, PathBuf};

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
    /// A path that is absolute, has a `..`, or goes through a symbolic
    /// link of `base` is refused before anything is created.
    pub fn with_new_files(base: &Path, replaced: &[(&str, &str)], created: &[&str]) -> std::io::Result<Self> {
        Self::for_build(base, replaced, created, &[])
    }

    /// The same, in which each file of `base` in `read` (what a build of
    /// `base` reads: `Plan::inputs`) is a real copy in real directories,
    /// so that no include, however the compiler resolves it (`..` from a
    /// header, a system header's canonical path), reaches `base`.
    pub fn for_build(
        base: &Path,
        replaced: &[(&str, &str)],
        created: &[&str],
        read: &[PathBuf],
    ) -> std::io::Result<Self> {
        Self::for_build_in(&std::env::temp_dir(), base, replaced, created, read)
    }

    /// The same, made in `tmp`.
    pub fn for_build_in(
        tmp: &Path,
        base: &Path,
        replaced: &[(&str, &str)],
        created: &[&str],
        read: &[PathBuf],
    ) -> std::io::Result<Self> {
        for p in replaced.iter().map(|(p, _)| *p).chain(created.iter().copied()) {
            inside(base, p)?;
        }
        let dir = tempfile::Builder::new().prefix("mmharness-overlay-").tempdir_in(tmp)?;
        let mut real: Vec<(PathBuf, Content)> =
            replaced.iter().map(|(p, t)| (dir.path().join(p), Content::Text(t))).collect();
        for r in read.iter().filter_map(|r| r.strip_prefix(base).ok()) {
            let dst = dir.path().join(r);
            if !real.iter().any(|(p, _)| *p == dst) {
                real.push((dst, Content::CopyOf(base.join(r))));
            }
        }
        let created: Vec<PathBuf> = created.iter().map(|p| dir.path().join(p)).collect();
        link_all(base, dir.path(), &real, &created)?;
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

/// `Ok` when `path` names a place inside `base`: relative, only plain
/// components, and no symbolic link of `base` on the way.
fn inside(base: &Path, path: &str) -> std::io::Result<()> {
    let refuse = |why: &str| {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("refusing the path `{path}`: {why}; a patch may only name files inside the tree"),
        ))
    };
    let mut at = base.to_path_buf();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(name) => at.push(name),
            Component::CurDir => {}
            Component::ParentDir => return refuse("it contains `..`"),
            Component::RootDir | Component::Prefix(_) => return refuse("it is absolute"),
        }
        if at.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
            return refuse(&format!("{} is a symbolic link", at.display()));
        }
    }
    Ok(())
}

/// What a real file of an overlay holds.
enum Content<'a> {
    Text(&'a str),
    CopyOf(PathBuf),
}

fn link_all(from: &Path, to: &Path, replaced: &[(PathBuf, Content)], created: &[PathBuf]) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        // A checkout's repository stays out: git run in the overlay must not
        // find the kernel's repository, and nothing may write into it.
        if e.file_name() == ".git" {
            continue;
        }
        let dst = to.join(e.file_name());
        if let Some((_, content)) = replaced.iter().find(|(p, _)| *p == dst) {
            match content {
                Content::Text(text) => std::fs::write(&dst, text)?,
                Content::CopyOf(src) => std::fs::copy(src, &dst).map(drop)?,
            }
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

    /// What `find` would list under `dir`.
    fn find(dir: &Path) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        for d in v.clone().iter().filter(|p| p.is_dir() && !p.is_symlink()) {
            v.extend(find(d));
        }
        v.sort();
        v
    }

    #[test]
    fn a_path_out_of_the_tree_is_refused_before_anything_is_created() {
        let top = tempfile::tempdir().unwrap();
        let (base, elsewhere) = (top.path().join("tree"), top.path().join("elsewhere"));
        std::fs::create_dir_all(base.join("mm")).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, base.join("link")).unwrap();
        let before = find(top.path());
        let absolute = format!("{}/x/new.c", top.path().display());
        for (path, why) in [
            ("../outside/new.c", "it contains `..`"),
            ("mm/../../outside/new.c", "it contains `..`"),
            (absolute.as_str(), "it is absolute"),
            ("link/new.c", "is a symbolic link"),
        ] {
            let Err(e) = Overlay::with_new_files(&base, &[], &[path]) else { panic!("{path} accepted") };
            assert!(e.to_string().contains(why), "{path}: {e}");
            let Err(e) = Overlay::new(&base, &[(path, "text")]) else { panic!("{path} accepted") };
            assert!(e.to_string().contains(why), "{path}: {e}");
        }
        assert_eq!(find(top.path()), before);
    }
}
