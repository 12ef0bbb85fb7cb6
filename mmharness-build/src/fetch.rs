//! The default kernel tree: Debian's `linux-source-<series>` package, fetched
//! with a private apt configuration (the system's is never changed), checked
//! against the system's Debian keyring, unpacked into the cache with a record
//! of every file, and checked against that record whenever it is used.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::progress;

/// Bytes of the files directly in `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries.filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum()
}

/// Runs `cmd` (apt-get download into `dir`) while a progress line shows
/// how much `dir` grew, and how fast. apt reads its package lists for
/// seconds before the first byte arrives: until then the line says so, and
/// the count and rate start with the first byte.
fn run_watching(cmd: Command, what: &str, tool: &'static str, dir: &Path) -> Result<String, FetchError> {
    let line = progress::step(format!("{what}: apt reads its package lists"));
    let before = dir_bytes(dir);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut started = false;
            while !done.load(Ordering::Relaxed) {
                let grown = dir_bytes(dir).saturating_sub(before);
                if grown > 0 && !started {
                    line.counting(what);
                    started = true;
                }
                if started {
                    line.bytes(grown);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let out = run(cmd, what, tool);
        done.store(true, Ordering::Relaxed);
        out
    })
}

/// The series the harness tests by default.
pub const DEFAULT_SERIES: &str = "7.3";

/// The suites that carry `linux-source-7.x` for a Debian 12 machine; apt
/// picks the newest version among them.
const SUITES: &[&str] = &["trixie-backports", "unstable"];
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

/// The parts of the tree the harness reads, from the inputs table.
/// Changing them re-unpacks the cached package; nothing is downloaded again.
pub fn unpacked_paths() -> Vec<String> {
    crate::inputs::unpacked_paths()
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d: set KERNEL_SRC to a kernel tree instead")]
    NoMirror,
    #[error("{0} is missing: the default tree is fetched with Debian's apt, or set KERNEL_SRC to a kernel tree")]
    NoTool(&'static str),
    #[error("no version of {package} is available from {suites}: set KERNEL_SRC to a kernel tree instead")]
    NotAvailable { package: String, suites: String },
    #[error("{what} failed: {output}")]
    Command { what: String, output: String },
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    /// Only from [`cached`], which repairs nothing.
    #[error("{tree} differs from its package: {problem}")]
    Damaged { tree: PathBuf, problem: String },
}

fn io<T>(context: impl FnOnce() -> String, r: std::io::Result<T>) -> Result<T, FetchError> {
    r.map_err(|source| FetchError::Io { context: context(), source })
}

/// One file as it came out of the package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub size: u64,
    pub sha256: String,
}

/// What was unpacked, and from which package: `build.rs` watches this file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeManifest {
    pub package: String,
    pub version: String,
    pub sha256: String,
    /// Where the package was downloaded to: removed once it is unpacked.
    pub deb: PathBuf,
    pub paths: Vec<String>,
    /// Every regular file unpacked, by its path in the tree. The few
    /// symbolic links (perf's event tables) are not recorded: nothing reads
    /// them. Manifests written before this record have none, and their
    /// trees are unpacked again.
    #[serde(default)]
    pub files: BTreeMap<String, FileRecord>,
}

#[derive(Debug, Clone)]
pub struct FetchedTree {
    pub root: PathBuf,
    pub manifest: TreeManifest,
    pub manifest_path: PathBuf,
    /// False when the cache already held the tree as wanted.
    pub changed: bool,
    /// What was wrong with the cached tree that was replaced.
    pub damage: Option<String>,
}

/// How much of a cached tree is checked before it is used.
#[derive(Debug, Clone, Copy)]
pub enum Verify<'a> {
    /// Every recorded file's presence and size (a stat each), and the hash
    /// of the files under these tree paths: those a build reads, on every use.
    Inputs(&'a [&'a str]),
    /// Every file's hash, for `mmharness fetch`.
    Everything,
}

impl Verify<'_> {
    fn hashes(self, path: &str) -> bool {
        match self {
            Verify::Everything => true,
            Verify::Inputs(inputs) => {
                inputs.iter().any(|i| path.strip_prefix(i).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
            }
        }
    }
}

/// What is wrong with the tree at `root` against its manifest, if anything.
fn damage(root: &Path, m: &TreeManifest, verify: Verify) -> Option<String> {
    if m.paths != unpacked_paths() {
        return Some("unpacked with another list of paths".into());
    }
    if m.files.is_empty() {
        return Some("no record of its files (unpacked by an older mmharness)".into());
    }
    let problems: Vec<String> = m
        .files
        .iter()
        .filter_map(|(path, record)| {
            let file = root.join(path);
            match std::fs::symlink_metadata(&file) {
                Err(_) => Some(format!("{path} is missing")),
                Ok(meta) if !meta.is_file() => Some(format!("{path} is not a file")),
                Ok(meta) if meta.len() != record.size => {
                    Some(format!("{path} has {} bytes, not {}", meta.len(), record.size))
                }
                Ok(_) if verify.hashes(path) && sha256_file(&file).ok().as_ref() != Some(&record.sha256) => {
                    Some(format!("{path} has other contents"))
                }
                Ok(_) => None,
            }
        })
        .collect();
    match problems.len() {
        0 => None,
        1..=3 => Some(problems.join("; ")),
        n => Some(format!("{}; and {} more", problems[..2].join("; "), n - 2)),
    }
}

/// Every regular file under `root`, with its size and hash.
fn record(root: &Path) -> Result<BTreeMap<String, FileRecord>, FetchError> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in io(|| format!("listing {}", dir.display()), std::fs::read_dir(&dir))? {
            let entry = io(|| format!("listing {}", dir.display()), entry)?;
            let path = entry.path();
            let kind = io(|| format!("reading {}", path.display()), entry.file_type())?;
            if kind.is_dir() {
                dirs.push(path);
            } else if kind.is_file() {
                let size = io(|| format!("reading {}", path.display()), entry.metadata())?.len();
                let name = path.strip_prefix(root).expect("listed under root").to_string_lossy().into_owned();
                files.insert(name, FileRecord { size, sha256: sha256_file(&path)? });
            }
        }
    }
    Ok(files)
}

/// The first Debian archive URI in the machine's apt sources, one-line or
/// deb822 format; security archives are skipped.
pub fn mirror_from_sources(files: &[String]) -> Option<String> {
    for text in files {
        // deb822: stanzas of "Key: value" lines.
        for stanza in text.split("\n\n") {
            let field = |k: &str| {
                stanza
                    .lines()
                    .find_map(|l| l.strip_prefix(k).and_then(|v| v.strip_prefix(':')).map(|v| v.trim().to_string()))
            };
            if let (Some(types), Some(uris), Some(suites)) = (field("Types"), field("URIs"), field("Suites")) {
                let uri = uris.split_whitespace().next().unwrap_or_default();
                if types.split_whitespace().any(|t| t == "deb")
                    && !suites.contains("-security")
                    && uri.ends_with("/debian")
                {
                    return Some(uri.to_string());
                }
            }
        }
        for line in text.lines().map(str::trim).filter(|l| l.starts_with("deb ")) {
            let words: Vec<&str> =
                line.split_whitespace().filter(|w| !w.starts_with('[') && !w.ends_with(']')).collect();
            if let [_, uri, suite, ..] = words.as_slice() {
                if !suite.contains("-security") && uri.trim_end_matches('/').ends_with("/debian") {
                    return Some(uri.trim_end_matches('/').to_string());
                }
            }
        }
    }
    None
}

fn system_sources() -> Vec<String> {
    let mut paths = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(dir) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = dir
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "list" || e == "sources"))
            .collect();
        more.sort();
        paths.extend(more);
    }
    paths.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
}

/// The newest version in `apt-cache policy` output's version table.
pub fn newest_version(policy: &str) -> Option<String> {
    let table = policy.split("Version table:").nth(1)?;
    // Versions are listed newest first, at a deeper indent than their sources.
    table
        .lines()
        .map(|l| l.trim_start_matches([' ', '*']).trim())
        .find(|l| l.split_whitespace().count() == 2)
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_string)
}

/// A private apt configuration in a temp dir: our sources only, our lists
/// and cache, no lock on the system's.
struct PrivateApt {
    dir: tempfile::TempDir,
}

impl PrivateApt {
    fn new(mirror: &str) -> Result<Self, FetchError> {
        let dir = io(|| "creating a temp dir for apt".into(), tempfile::tempdir())?;
        let sources: String = SUITES.iter().map(|s| format!("deb [signed-by={KEYRING}] {mirror} {s} main\n")).collect();
        for sub in ["lists/partial", "cache/archives/partial"] {
            io(|| "creating apt's directories".into(), std::fs::create_dir_all(dir.path().join(sub)))?;
        }
        io(|| "writing the apt sources".into(), std::fs::write(dir.path().join("sources.list"), sources))?;
        Ok(Self { dir })
    }

    fn command(&self, tool: &'static str) -> Command {
        let d = self.dir.path();
        let mut c = Command::new(tool);
        crate::process::dies_with_us(&mut c)
            .arg("-o")
            .arg(format!("Dir::Etc::SourceList={}", d.join("sources.list").display()))
            .args(["-o", "Dir::Etc::SourceParts=/dev/null"])
            .arg("-o")
            .arg(format!("Dir::State::Lists={}", d.join("lists").display()))
            .arg("-o")
            .arg(format!("Dir::Cache={}", d.join("cache").display()))
            .args(["-o", "Debug::NoLocking=1"]);
        c
    }
}

fn spawn_error(e: std::io::Error, what: &str, tool: &'static str) -> FetchError {
    match e.kind() {
        std::io::ErrorKind::NotFound => FetchError::NoTool(tool),
        _ => FetchError::Io { context: what.to_string(), source: e },
    }
}

fn run(mut cmd: Command, what: &str, tool: &'static str) -> Result<String, FetchError> {
    let out = cmd.output().map_err(|e| spawn_error(e, what, tool))?;
    if !out.status.success() {
        return Err(FetchError::Command {
            what: what.to_string(),
            output: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn sha256_file(path: &Path) -> Result<String, FetchError> {
    let mut f = io(|| format!("opening {}", path.display()), std::fs::File::open(path))?;
    let mut h = Sha256::new();
    io(|| format!("reading {}", path.display()), std::io::copy(&mut f, &mut h))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Downloads the newest `package` into `debs`, returning its version and path.
fn download(package: &str, debs: &Path) -> Result<(String, PathBuf), FetchError> {
    let mirror = mirror_from_sources(&system_sources()).ok_or(FetchError::NoMirror)?;
    let apt = PrivateApt::new(&mirror)?;
    let mut update = apt.command("apt-get");
    update.args(["-q", "update"]);
    let updating = progress::step(format!("fetching {package}: apt-get update (private configuration)"));
    run(update, "apt-get update (private configuration)", "apt-get")?;
    drop(updating);
    let mut policy = apt.command("apt-cache");
    policy.args(["policy", package]);
    let version = newest_version(&run(policy, "apt-cache policy", "apt-cache")?)
        .ok_or_else(|| FetchError::NotAvailable { package: package.to_string(), suites: SUITES.join(", ") })?;
    io(|| format!("creating {}", debs.display()), std::fs::create_dir_all(debs))?;
    let mut dl = apt.command("apt-get");
    dl.args(["-q", "download"]).arg(format!("{package}={version}")).current_dir(debs);
    run_watching(dl, &format!("downloading {package} {version}"), "apt-get", debs)?;
    // apt names the file with the version's epoch colon escaped.
    let file = io(|| format!("listing {}", debs.display()), std::fs::read_dir(debs))?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let n = p.file_name().unwrap_or_default().to_string_lossy();
            n.starts_with(&format!("{package}_")) && n.contains(&version.replace(':', "%3a")) && n.ends_with(".deb")
        })
        .ok_or_else(|| FetchError::Command {
            what: "apt-get download".into(),
            output: format!("no {package} .deb in {}", debs.display()),
        })?;
    Ok((version, file))
}

/// Runs `stages` as a shell pipeline with `pipefail` would, each one's
/// output into the next one's input, every process dying with us.
fn pipeline(stages: Vec<(&'static str, Command)>, what: &str) -> Result<(), FetchError> {
    let last = stages.len() - 1;
    let mut running: Vec<(&'static str, Child, std::fs::File)> = Vec::new();
    let mut input = None;
    for (i, (tool, mut cmd)) in stages.into_iter().enumerate() {
        // A file, not a pipe: a full pipe that nobody reads would stall the pipeline.
        let errors = io(|| "creating a temp file".into(), tempfile::tempfile())?;
        cmd.stderr(io(|| "creating a temp file".into(), errors.try_clone())?);
        if let Some(previous) = input.take() {
            cmd.stdin(Stdio::from(previous));
        }
        if i < last {
            cmd.stdout(Stdio::piped());
        }
        match crate::process::dies_with_us(&mut cmd).spawn() {
            Ok(mut child) => {
                input = child.stdout.take();
                running.push((tool, child, errors));
            }
            Err(e) => {
                for (_, mut child, _) in running {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                return Err(spawn_error(e, what, tool));
            }
        }
    }
    let mut failures = Vec::new();
    for (tool, mut child, mut errors) in running {
        let status = io(|| format!("waiting for {tool}"), child.wait())?;
        if !status.success() {
            let mut text = String::new();
            let _ = errors.rewind().and_then(|()| errors.read_to_string(&mut text));
            failures.push(format!("{tool} ({status}): {}", text.trim()));
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(FetchError::Command { what: what.to_string(), output: failures.join("\n") })
    }
}

/// Unpacks the kernel tarball inside `deb` into `dest`, only `paths`, with
/// fresh mtimes (`--touch`): the package's own would hide a newer point
/// release from cargo's change detection.
fn unpack(deb: &Path, package: &str, dest: &Path, paths: &[&str]) -> Result<(), FetchError> {
    io(|| format!("creating {}", dest.display()), std::fs::create_dir_all(dest))?;
    let mut data = Command::new("dpkg-deb");
    data.arg("--fsys-tarfile").arg(deb);
    let mut tarball = Command::new("tar");
    tarball.args(["-xOf", "-"]).arg(format!("./usr/src/{package}.tar.xz"));
    let mut tree = Command::new("tar");
    tree.args(["-xJf", "-", "--touch", "--strip-components=1", "-C"])
        .arg(dest)
        .args(paths.iter().map(|p| format!("{package}/{p}")));
    let _line = progress::step(format!("unpacking {package}"));
    pipeline(vec![("dpkg-deb", data), ("tar", tarball), ("tar", tree)], "unpacking the kernel source")
}

/// Where the cache keeps a package's tree, and the lock that guards it.
struct Place {
    package: String,
    trees: PathBuf,
    dir: PathBuf,
    lock: PathBuf,
}

impl Place {
    fn new(series: &str, cache: &Path) -> Self {
        let package = format!("linux-source-{series}");
        let trees = cache.join("trees");
        Self { dir: trees.join(&package), lock: trees.join(format!(".{package}.lock")), trees, package }
    }

    fn manifest(&self) -> Option<TreeManifest> {
        manifest_in(&self.dir)
    }

    fn fetched(&self, manifest: TreeManifest, changed: bool, damage: Option<String>) -> FetchedTree {
        FetchedTree {
            root: self.dir.join("tree"),
            manifest,
            manifest_path: self.dir.join("manifest.json"),
            changed,
            damage,
        }
    }

    /// Staging dirs are named after their package (Debian's names have no
    /// `_`), so that a fetch of one series never removes another's.
    fn staging_prefix(&self) -> String {
        format!("unpack-{}_", self.package)
    }
}

fn manifest_in(dir: &Path) -> Option<TreeManifest> {
    std::fs::read_to_string(dir.join("manifest.json")).ok().and_then(|t| serde_json::from_str(&t).ok())
}

/// The record of `root` when it is a tree this module unpacked from a
/// package: it holds only the record's `paths` of the kernel source.
pub fn unpacked_record(root: &Path) -> Option<TreeManifest> {
    (root.file_name()? == "tree").then(|| manifest_in(root.parent()?)).flatten()
}

/// The tree of `linux-source-<series>` if the cache holds it intact, by
/// [`Verify::Inputs`]. Fetches and repairs nothing and writes nothing, as a
/// build script must: `Ok(None)` when the cache has no such tree.
pub fn cached(series: &str, cache: &Path, inputs: &[&str]) -> Result<Option<FetchedTree>, FetchError> {
    let place = Place::new(series, cache);
    // Shared: readers wait for a fetch in progress, not for each other.
    let _lock = match std::fs::File::open(&place.lock) {
        Ok(lock) => {
            io(|| format!("locking {}", place.lock.display()), lock.lock_shared())?;
            Some(lock)
        }
        Err(_) => None,
    };
    let Some(manifest) = place.manifest() else { return Ok(None) };
    let root = place.dir.join("tree");
    if let Some(problem) = damage(&root, &manifest, Verify::Inputs(inputs)) {
        return Err(FetchError::Damaged { tree: root, problem });
    }
    Ok(Some(place.fetched(manifest, false, None)))
}

/// The tree of `linux-source-<series>` in the cache, checked by `verify`,
/// and fetched when it is missing or damaged (unpacked again without a
/// download only from an intact package an older mmharness kept). The
/// package is removed after the unpack.
pub fn ensure(series: &str, cache: &Path, verify: Verify) -> Result<FetchedTree, FetchError> {
    let place = Place::new(series, cache);
    let (package, trees) = (&place.package, &place.trees);

    // One fetch at a time per package, across processes (parallel tests).
    io(|| format!("creating {}", trees.display()), std::fs::create_dir_all(trees))?;
    let lock = io(|| format!("opening {}", place.lock.display()), std::fs::File::create(&place.lock))?;
    io(|| format!("locking {}", place.lock.display()), lock.lock())?;

    // Under the lock no other fetch of the package runs: a staging dir is
    // what a killed one left.
    let prefix = place.staging_prefix();
    for entry in io(|| format!("listing {}", trees.display()), std::fs::read_dir(trees))?.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let path = entry.path();
            io(|| format!("removing {}", path.display()), std::fs::remove_dir_all(&path))?;
        }
    }

    let existing = place.manifest();
    let root = place.dir.join("tree");
    let damage = match &existing {
        Some(m) => match damage(&root, m, verify) {
            None => return Ok(place.fetched(m.clone(), false, None)),
            found => found,
        },
        None => None,
    };
    // Re-unpack from the cached package when it is still there and intact.
    let cached = existing.and_then(|m| {
        let sha = m.deb.is_file().then(|| sha256_file(&m.deb).ok()).flatten()?;
        (sha == m.sha256).then_some((m.version, m.deb, sha))
    });
    let (version, deb, sha256) = match cached {
        Some(c) => c,
        None => {
            let (version, deb) = download(package, &cache.join("debs"))?;
            let sha = sha256_file(&deb)?;
            (version, deb, sha)
        }
    };

    let staging = io(|| "creating a staging dir".into(), tempfile::Builder::new().prefix(&prefix).tempdir_in(trees))?;
    let staged_tree = staging.path().join("tree");
    let paths = unpacked_paths();
    unpack(&deb, package, &staged_tree, &paths.iter().map(String::as_str).collect::<Vec<_>>())?;
    let manifest = TreeManifest { package: package.clone(), version, sha256, deb, paths, files: record(&staged_tree)? };
    io(
        || "writing the tree manifest".into(),
        std::fs::write(
            staging.path().join("manifest.json"),
            serde_json::to_string_pretty(&manifest).expect("serializes"),
        ),
    )?;
    // Swap the new tree in whole, in one step: a reader sees the old tree or
    // the new one. The old one is left in the staging dir, which goes away.
    if place.dir.exists() {
        use nix::fcntl::{renameat2, RenameFlags, AT_FDCWD};
        renameat2(AT_FDCWD, staging.path(), AT_FDCWD, &place.dir, RenameFlags::RENAME_EXCHANGE).map_err(|e| {
            FetchError::Io { context: format!("swapping the new tree into {}", place.dir.display()), source: e.into() }
        })?;
    } else {
        io(|| format!("moving the tree into {}", place.dir.display()), std::fs::rename(staging.keep(), &place.dir))?;
    }
    // Every file of the tree is recorded and checked on use: the package is
    // 165 MB kept for a repair that downloads it again in seconds. Only the
    // cache's own download goes; a package elsewhere is not ours.
    if manifest.deb.parent() == Some(&cache.join("debs")) {
        io(|| format!("removing {}", manifest.deb.display()), std::fs::remove_file(&manifest.deb))?;
    }
    Ok(place.fetched(manifest, true, damage))
}

/// Downloads Debian's `linux-source-<series>` into `dir` (not the cache,
/// which keeps no package), for what the unpacked tree leaves out, such as
/// `tools/testing/kunit`.
pub fn download_package(series: &str, dir: &Path) -> Result<PathBuf, FetchError> {
    Ok(download(&format!("linux-source-{series}"), dir)?.1)
}

/// The package a repair of `series`' tree would unpack without
/// downloading: one kept by an older mmharness, or not in the cache.
pub fn kept_package(series: &str, cache: &Path) -> Option<PathBuf> {
    Place::new(series, cache).manifest().map(|m| m.deb).filter(|deb| deb.is_file())
}

/// Removes the packages in `<cache>/debs` (an older mmharness kept them
/// after unpacking), but not one a fetch running now is downloading.
/// Returns the bytes freed.
pub fn remove_packages(cache: &Path) -> u64 {
    let debs = std::fs::read_dir(cache.join("debs")).into_iter().flatten().flatten();
    let mut freed = 0;
    for entry in debs {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(series) = name.split('_').next().and_then(|p| p.strip_prefix("linux-source-")) else { continue };
        let lock = std::fs::File::open(Place::new(series, cache).lock);
        if lock.is_ok_and(|l| l.try_lock().is_err()) {
            continue;
        }
        let bytes = entry.metadata().map_or(0, |m| m.len());
        if std::fs::remove_file(entry.path()).is_ok() {
            freed += bytes;
        }
    }
    freed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_from_deb822_sources_skips_security() {
        let sec =
            "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n"
                .to_string();
        let main =
            "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n"
                .to_string();
        assert_eq!(mirror_from_sources(&[sec, main]).as_deref(), Some("http://mirror.example/debian"));
    }

    #[test]
    fn mirror_from_one_line_sources() {
        let text = "# comment\ndeb [arch=amd64] http://mirror.example/debian/ bookworm main\n".to_string();
        assert_eq!(mirror_from_sources(&[text]).as_deref(), Some("http://mirror.example/debian"));
        assert_eq!(mirror_from_sources(&["deb http://other.example/ubuntu jammy main\n".into()]), None);
    }

    #[test]
    fn newest_version_is_the_first_in_the_table() {
        let policy = "linux-source-7.3:\n  Installed: (none)\n  Candidate: 7.3.2-1~bpo13+1\n  Version table:\n     7.3.4-1 500\n        500 http://mirror.example/debian unstable/main amd64 Packages\n     7.3.2-1~bpo13+1 100\n        100 http://mirror.example/debian trixie-backports/main amd64 Packages\n";
        assert_eq!(newest_version(policy).as_deref(), Some("7.3.4-1"));
        assert_eq!(newest_version("linux-source-9.9:\n  Installed: (none)\n  Candidate: (none)\n"), None);
    }

    #[test]
    fn an_intact_cached_tree_is_used_without_network() {
        let cache = tempfile::tempdir().unwrap();
        let place = cache.path().join("trees/linux-source-7.3");
        std::fs::create_dir_all(place.join("tree")).unwrap();
        std::fs::write(place.join("tree/Makefile"), "VERSION = 7\n").unwrap();
        let m = TreeManifest {
            package: "linux-source-7.3".into(),
            version: "7.3.4-1".into(),
            sha256: "00".into(),
            deb: "/nonexistent.deb".into(),
            paths: unpacked_paths(),
            files: record(&place.join("tree")).unwrap(),
        };
        std::fs::write(place.join("manifest.json"), serde_json::to_string(&m).unwrap()).unwrap();
        let t = ensure("7.3", cache.path(), Verify::Everything).unwrap();
        assert!(!t.changed);
        assert_eq!(t.manifest, m);
        assert_eq!(t.root, place.join("tree"));
        assert_eq!(cached("7.3", cache.path(), &[]).unwrap().unwrap().manifest, m);
    }

    #[test]
    fn looking_for_a_cached_tree_in_an_empty_cache_writes_nothing() {
        let cache = tempfile::tempdir().unwrap();
        assert!(cached("7.3", cache.path(), &["mm"]).unwrap().is_none());
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
    }

    /// A package like Debian's: `./usr/src/linux-source-<series>.tar.xz`
    /// holding `linux-source-<series>/...`, built with dpkg-deb.
    fn fake_package(dir: &Path, series: &str) -> PathBuf {
        let src = dir.join(format!("src/linux-source-{series}"));
        for p in unpacked_paths().iter().filter(|p| *p != "Makefile") {
            std::fs::create_dir_all(src.join(p)).unwrap();
            std::fs::write(src.join(p).join("x"), "x\n").unwrap();
        }
        std::fs::write(src.join("Makefile"), "VERSION = 9\n").unwrap();
        std::fs::write(src.join("mm/util.c"), "int x;\n").unwrap();
        std::fs::write(src.join("README"), "not unpacked\n").unwrap();
        let pkg = dir.join("pkg");
        std::fs::create_dir_all(pkg.join("usr/src")).unwrap();
        std::fs::create_dir_all(pkg.join("DEBIAN")).unwrap();
        std::fs::write(
            pkg.join("DEBIAN/control"),
            format!("Package: linux-source-{series}\nVersion: 1\nArchitecture: all\nMaintainer: t <t@example.org>\nDescription: t\n"),
        )
        .unwrap();
        let tar = pkg.join(format!("usr/src/linux-source-{series}.tar.xz"));
        let ok = Command::new("tar")
            .arg("-cJf")
            .arg(&tar)
            .arg("-C")
            .arg(dir.join("src"))
            .arg(format!("linux-source-{series}"))
            .status()
            .unwrap();
        assert!(ok.success());
        let deb = dir.join("fake.deb");
        assert!(Command::new("dpkg-deb").arg("-b").arg(&pkg).arg(&deb).output().unwrap().status.success());
        deb
    }

    /// A cache holding `deb` as the package of series 9.9, with a manifest
    /// whose path list is not ours: the next `ensure` unpacks it.
    fn cache_with_package(dir: &Path, deb: &Path) -> PathBuf {
        let cache = dir.join("cache");
        let place = cache.join("trees/linux-source-9.9");
        std::fs::create_dir_all(place.join("tree")).unwrap();
        std::fs::write(place.join("tree/Makefile"), "old\n").unwrap();
        let old = TreeManifest {
            package: "linux-source-9.9".into(),
            version: "1".into(),
            sha256: sha256_file(deb).unwrap(),
            deb: deb.to_path_buf(),
            paths: vec!["Makefile".into()],
            files: BTreeMap::new(),
        };
        std::fs::write(place.join("manifest.json"), serde_json::to_string(&old).unwrap()).unwrap();
        cache
    }

    #[test]
    fn a_changed_path_list_re_unpacks_the_cached_package_without_downloading() {
        let dir = tempfile::tempdir().unwrap();
        let deb = fake_package(dir.path(), "9.9");
        let cache = cache_with_package(dir.path(), &deb);

        // The unpack list differs from ["Makefile"]: re-unpack from the .deb
        // (a download would fail here: the package is not in any archive).
        let t = ensure("9.9", &cache, Verify::Inputs(&[])).unwrap();
        assert!(t.changed);
        assert_eq!(t.damage.as_deref(), Some("unpacked with another list of paths"));
        assert_eq!(t.manifest.paths, unpacked_paths());
        assert_eq!(t.manifest.deb, deb);
        assert_eq!(std::fs::read_to_string(t.root.join("Makefile")).unwrap(), "VERSION = 9\n");
        assert!(t.root.join("mm/util.c").is_file());
        assert!(!t.root.join("README").exists(), "only the listed paths are unpacked");
        // Unpacked with --touch: fresh mtimes, so cargo sees a new release.
        let age = t.root.join("mm/util.c").metadata().unwrap().modified().unwrap().elapsed().unwrap();
        assert!(age.as_secs() < 60);
        // Nothing changed now: nothing is done.
        assert!(!ensure("9.9", &cache, Verify::Everything).unwrap().changed);
    }

    #[test]
    fn a_truncated_and_a_deleted_file_are_found_and_unpacked_again() {
        let dir = tempfile::tempdir().unwrap();
        let deb = fake_package(dir.path(), "9.9");
        let cache = cache_with_package(dir.path(), &deb);
        let root = ensure("9.9", &cache, Verify::Inputs(&[])).unwrap().root;
        std::fs::write(root.join("mm/util.c"), "").unwrap();
        std::fs::remove_file(root.join("lib/x")).unwrap();

        let found = "lib/x is missing; mm/util.c has 0 bytes, not 7";
        match cached("9.9", &cache, &[]) {
            Err(FetchError::Damaged { problem, .. }) => assert_eq!(problem, found),
            other => panic!("{other:?}"),
        }
        let t = ensure("9.9", &cache, Verify::Inputs(&[])).unwrap();
        assert!(t.changed);
        assert_eq!(t.damage.as_deref(), Some(found));
        assert_eq!(std::fs::read_to_string(root.join("mm/util.c")).unwrap(), "int x;\n");
        assert_eq!(std::fs::read_to_string(root.join("lib/x")).unwrap(), "x\n");
        assert!(cached("9.9", &cache, &[]).unwrap().is_some());
    }

    #[test]
    fn a_same_size_edit_is_found_by_the_hash_of_an_input_or_of_everything() {
        let dir = tempfile::tempdir().unwrap();
        let deb = fake_package(dir.path(), "9.9");
        let cache = cache_with_package(dir.path(), &deb);
        let root = ensure("9.9", &cache, Verify::Inputs(&[])).unwrap().root;
        std::fs::write(root.join("mm/util.c"), "int y;\n").unwrap();

        // Not an input: the size is all that is checked.
        assert!(!ensure("9.9", &cache, Verify::Inputs(&["mm/x", "lib"])).unwrap().changed);
        let t = ensure("9.9", &cache, Verify::Inputs(&["mm"])).unwrap();
        assert_eq!(t.damage.as_deref(), Some("mm/util.c has other contents"));
        assert_eq!(std::fs::read_to_string(root.join("mm/util.c")).unwrap(), "int x;\n");

        std::fs::write(root.join("drivers/char/x"), "y\n").unwrap();
        assert!(!ensure("9.9", &cache, Verify::Inputs(&["mm/util.c"])).unwrap().changed);
        let t = ensure("9.9", &cache, Verify::Everything).unwrap();
        assert_eq!(t.damage.as_deref(), Some("drivers/char/x has other contents"));
    }

    #[test]
    fn the_caches_own_package_is_removed_after_the_unpack() {
        let dir = tempfile::tempdir().unwrap();
        let fake = fake_package(dir.path(), "9.9");
        let cache = cache_with_package(dir.path(), &fake);
        let deb = cache.join("debs/linux-source-9.9_1_all.deb");
        std::fs::create_dir_all(deb.parent().unwrap()).unwrap();
        std::fs::copy(&fake, &deb).unwrap();
        let place = cache.join("trees/linux-source-9.9/manifest.json");
        let old: TreeManifest = serde_json::from_str(&std::fs::read_to_string(&place).unwrap()).unwrap();
        std::fs::write(&place, serde_json::to_string(&TreeManifest { deb: deb.clone(), ..old }).unwrap()).unwrap();
        assert_eq!(kept_package("9.9", &cache), Some(deb.clone()));

        let t = ensure("9.9", &cache, Verify::Everything).unwrap();
        assert_eq!(std::fs::read_to_string(t.root.join("mm/util.c")).unwrap(), "int x;\n");
        assert!(!deb.exists(), "the package is removed once its tree is recorded");
        // A repair has no package to unpack: it downloads one.
        assert_eq!(kept_package("9.9", &cache), None);
    }

    #[test]
    fn gc_removes_kept_packages_but_not_one_being_downloaded() {
        let cache = tempfile::tempdir().unwrap();
        let debs = cache.path().join("debs");
        std::fs::create_dir_all(&debs).unwrap();
        std::fs::write(debs.join("linux-source-7.2_7.2.13-1_all.deb"), "old package").unwrap();
        std::fs::write(debs.join("linux-source-7.3_7.3.4-1_all.deb"), "half a download").unwrap();
        let place = Place::new("7.3", cache.path());
        std::fs::create_dir_all(&place.trees).unwrap();
        let fetching = std::fs::File::create(&place.lock).unwrap();
        fetching.lock().unwrap();

        assert_eq!(remove_packages(cache.path()), "old package".len() as u64);
        assert!(!debs.join("linux-source-7.2_7.2.13-1_all.deb").exists());
        assert!(debs.join("linux-source-7.3_7.3.4-1_all.deb").exists(), "a fetch of 7.3 holds its lock");
        drop(fetching);
        assert_eq!(remove_packages(cache.path()), "half a download".len() as u64);
    }

    #[test]
    fn a_staging_dir_left_by_a_killed_fetch_is_removed_by_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let deb = fake_package(dir.path(), "9.9");
        let cache = cache_with_package(dir.path(), &deb);
        ensure("9.9", &cache, Verify::Inputs(&[])).unwrap();
        let trees = cache.join("trees");
        let left = trees.join("unpack-linux-source-9.9_a1b2c3/tree/mm");
        std::fs::create_dir_all(&left).unwrap();
        std::fs::write(left.join("util.c"), "half").unwrap();
        // Another series' staging dir may belong to a fetch running now.
        let other = trees.join("unpack-linux-source-9.8_d4e5f6");
        std::fs::create_dir_all(&other).unwrap();

        assert!(!ensure("9.9", &cache, Verify::Inputs(&[])).unwrap().changed);
        assert!(!trees.join("unpack-linux-source-9.9_a1b2c3").exists());
        assert!(other.exists());
    }
}
