//! The artifact cache on disk: build directories that a killed build
//! cannot leave behind for good, and entries verified on every use.
//!
//! `<cache>/tmp/build-*` is where a build works; it holds an exclusive lock
//! on its `.lock` while it runs, so the next build can tell a dead one's
//! directory from a live one's and remove it. `<cache>/artifacts/<key>` is
//! an entry: it appears whole (a directory renamed into place) and lists
//! the sha256 of its files, checked before it is trusted.

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    Ok(sha256(&std::fs::read(path)?))
}

/// A build's directory, locked while the build runs, removed on drop
/// unless it was renamed into the cache.
pub struct WorkDir {
    dir: tempfile::TempDir,
    _lock: File,
}

impl WorkDir {
    /// A fresh build directory under `<cache>/tmp`, or under the system's
    /// temp dir when the cache cannot be written (a read-only cache can
    /// still serve its entries). Directories of dead builds go first.
    pub fn new(cache: &Path) -> std::io::Result<Self> {
        let tmp = cache.join("tmp");
        let in_cache =
            std::fs::create_dir_all(&tmp).and_then(|_| tempfile::Builder::new().prefix("build-").tempdir_in(&tmp));
        let dir = match in_cache {
            Ok(d) => {
                remove_dead(&tmp, d.path());
                d
            }
            Err(_) => tempfile::Builder::new().prefix("mmharness-build-").tempdir()?,
        };
        let lock = File::create(dir.path().join(".lock"))?;
        lock.lock()?;
        Ok(Self { dir, _lock: lock })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Moves the directory to `dest` (same file system), whole.
    pub fn rename_to(self, dest: &Path) -> std::io::Result<()> {
        let _ = std::fs::remove_file(self.path().join(".lock"));
        let kept = self.dir.keep();
        std::fs::rename(&kept, dest).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&kept);
        })
    }
}

/// How long a build directory may exist without its lock: the moment
/// between creating it and locking it.
const UNLOCKED_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// Removes the build directories in `tmp` whose builds are dead: their
/// lock can be taken, or they never got one and are old.
fn remove_dead(tmp: &Path, own: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for e in entries.flatten() {
        let dir = e.path();
        if dir == own || !e.file_name().to_string_lossy().starts_with("build-") {
            continue;
        }
        let dead = match File::open(dir.join(".lock")) {
            Ok(f) => f.try_lock().is_ok(),
            Err(_) => {
                e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().unwrap_or_default() > UNLOCKED_GRACE)
            }
        };
        if dead {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// What an entry lists of itself: each file's sha256.
pub type Hashes = BTreeMap<String, String>;

/// Hashes of `names` in `dir`.
pub fn hash_files(dir: &Path, names: &[&str]) -> std::io::Result<Hashes> {
    names.iter().map(|n| Ok((n.to_string(), sha256_file(&dir.join(n))?))).collect()
}

/// Whether every file of `hashes` is in `dir` with its hash.
pub fn verify(dir: &Path, hashes: &Hashes) -> bool {
    !hashes.is_empty() && hashes.iter().all(|(n, h)| sha256_file(&dir.join(n)).is_ok_and(|got| &got == h))
}

/// Moves a damaged entry out of the way and deletes it.
pub fn discard(cache: &Path, entry: &Path) {
    let trash = cache.join("tmp").join(format!("trash-{}", std::process::id()));
    if std::fs::rename(entry, &trash).is_ok() {
        let _ = std::fs::remove_dir_all(&trash);
    } else {
        let _ = std::fs::remove_dir_all(entry);
    }
}

/// Writes `bytes` to `path` through a temporary file renamed into place,
/// so a reader never sees half of it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub fn artifacts(cache: &Path) -> PathBuf {
    cache.join("artifacts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_builds_directory_is_removed_by_the_next_build() {
        let cache = tempfile::tempdir().unwrap();
        let dead = cache.path().join("tmp/build-dead");
        std::fs::create_dir_all(&dead).unwrap();
        std::fs::write(dead.join(".lock"), "").unwrap();
        let live = WorkDir::new(cache.path()).unwrap();
        let next = WorkDir::new(cache.path()).unwrap();
        assert!(!dead.exists(), "a build directory whose lock is free is a dead build's");
        assert!(live.path().exists(), "a locked build directory is a live build's");
        drop(next);
    }

    #[test]
    fn verify_needs_every_file_with_its_hash() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a"), "x").unwrap();
        let h = hash_files(d.path(), &["a"]).unwrap();
        assert!(verify(d.path(), &h));
        std::fs::write(d.path().join("a"), "").unwrap();
        assert!(!verify(d.path(), &h), "a truncated file");
        std::fs::remove_file(d.path().join("a")).unwrap();
        assert!(!verify(d.path(), &h), "a deleted file");
    }
}
