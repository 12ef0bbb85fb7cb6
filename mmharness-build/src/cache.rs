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

/// Marks an entry used now, so that `gc` keeps the most recently used; a
/// read-only cache keeps its old marks.
pub fn touch(entry: &Path) {
    let now = std::time::SystemTime::now();
    let _ = File::options().write(true).open(entry.join("manifest.json")).and_then(|f| f.set_modified(now));
}

fn size_of(path: &Path) -> u64 {
    let Ok(meta) = path.symlink_metadata() else { return 0 };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(path).map_or(0, |d| d.flatten().map(|e| size_of(&e.path())).sum())
}

/// One artifact entry: its key, size, when it was last used, and the tree
/// its manifest names.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub bytes: u64,
    pub used: std::time::SystemTime,
    pub tree: Option<PathBuf>,
}

/// What the cache holds, by part.
#[derive(Debug, Clone)]
pub struct Usage {
    pub root: PathBuf,
    /// Newest first.
    pub artifacts: Vec<Entry>,
    /// Each fetched tree's directory and size.
    pub trees: Vec<(PathBuf, u64)>,
    pub debs: u64,
    pub tmp: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.artifacts.iter().map(|e| e.bytes).sum::<u64>()
            + self.trees.iter().map(|t| t.1).sum::<u64>()
            + self.debs
            + self.tmp
    }
}

fn entry(dir: &Path) -> Entry {
    let manifest = dir.join("manifest.json");
    let tree = std::fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["tree"].as_str().map(PathBuf::from));
    Entry {
        key: dir.file_name().unwrap_or_default().to_string_lossy().into_owned(),
        bytes: size_of(dir),
        used: manifest.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH),
        tree,
    }
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_or_else(|_| Vec::new(), |d| d.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect());
    v.sort();
    v
}

pub fn usage(cache: &Path) -> Usage {
    let mut artifacts: Vec<Entry> = subdirs(&artifacts(cache)).iter().map(|d| entry(d)).collect();
    artifacts.sort_by_key(|e| std::cmp::Reverse(e.used));
    Usage {
        root: cache.to_path_buf(),
        artifacts,
        trees: subdirs(&cache.join("trees")).into_iter().map(|d| (d.clone(), size_of(&d))).collect(),
        debs: size_of(&cache.join("debs")),
        tmp: size_of(&cache.join("tmp")),
    }
}

/// Removes all but the `keep` most recently used artifacts, what dead
/// builds left in `tmp`, and the packages older fetches kept; fetched trees
/// are kept. Returns the bytes freed.
pub fn gc(cache: &Path, keep: usize) -> u64 {
    let before = usage(cache);
    crate::fetch::remove_packages(cache);
    for e in before.artifacts.iter().skip(keep) {
        discard(cache, &artifacts(cache).join(&e.key));
    }
    for dir in subdirs(&cache.join("tmp")) {
        let alive = File::open(dir.join(".lock")).is_ok_and(|f| f.try_lock().is_err());
        if !alive {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
    before.total().saturating_sub(usage(cache).total())
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
    fn gc_keeps_the_most_recently_used_entries() {
        let cache = tempfile::tempdir().unwrap();
        for (key, age) in [("old", 300), ("new", 0), ("mid", 100)] {
            let dir = artifacts(cache.path()).join(key);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("manifest.json"), "{}").unwrap();
            let when = std::time::SystemTime::now() - std::time::Duration::from_secs(age);
            File::options().write(true).open(dir.join("manifest.json")).unwrap().set_modified(when).unwrap();
        }
        let keys = |u: &Usage| u.artifacts.iter().map(|e| e.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(&usage(cache.path())), vec!["new", "mid", "old"]);
        assert!(gc(cache.path(), 2) > 0);
        assert_eq!(keys(&usage(cache.path())), vec!["new", "mid"]);
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
