//! The C compiler and archiver, found the way cargo users expect (`CC`,
//! `AR`, through the `cc` crate), and how their failures are told apart:
//! the tree's fault (its code does not compile) or the machine's (no
//! compiler, one that was killed, no liburcu headers).

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The code given to the compiler does not build: the tree's fault.
    #[error("{what} failed:\n{output}")]
    Failed { what: String, output: String },
    #[error("the liburcu headers are missing: install them with `apt-get install liburcu-dev`")]
    NoLiburcu,
    /// The machine's fault: no compiler, or one that was killed.
    #[error("{what}: {message}")]
    Machine { what: String, message: String },
}

/// Code generation flags, the same for every object of an artifact.
/// `-fno-working-directory`: the preprocessor would otherwise write the
/// working directory into its output, and the cache key would follow it.
pub const CODEGEN: &[&str] = &[
    "-O1",
    "-g",
    "-fPIC",
    "-fno-omit-frame-pointer",
    "-ffunction-sections",
    "-fdata-sections",
    "-fno-working-directory",
];

/// Flags of the sanitizer mode, for compiling and for linking the runner.
pub const SANITIZE: &[&str] = &["-fsanitize=address,undefined", "-fno-sanitize-recover=all"];

/// Flags of the coverage mode, for compiling the unit and linking the
/// runner (libgcov). The counters follow the `#line` directives, so gcov
/// reports the extract by its kernel files and lines. `-O0` (after the
/// codegen's `-O1`, so it wins): optimised, `if (err) return err;` becomes
/// one branchless block, and the `return` a line with no code of its own.
pub const COVERAGE: &[&str] = &["--coverage", "-O0"];

/// The `cc` crate's defaults depend on cargo's environment, which differs
/// between build.rs and the command line, so only its choice of tools is
/// used, never its flags: one key for both.
fn builder() -> cc::Build {
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

/// The environment the `cc` crate reads to choose the compiler.
const COMPILER_ENV: &[&str] =
    &["CC", "CC_x86_64-unknown-linux-gnu", "CC_x86_64_unknown_linux_gnu", "TARGET_CC", "HOST_CC", "PATH"];

/// The compiler the `cc` crate found, remembered in the cache: finding it
/// runs the compiler three times (its family, its version), more than a
/// third of a cached step. Valid while the environment that chose it and
/// the binary itself (size, mtime) are the same.
#[derive(serde::Serialize, serde::Deserialize, PartialEq)]
struct Found {
    env: Vec<Option<String>>,
    path: PathBuf,
    stamp: (u64, u128),
    version: String,
}

/// The file a command name runs: itself if it has a `/`, else the first
/// in `PATH`.
fn resolve(path: &Path) -> Option<PathBuf> {
    if path.components().count() > 1 {
        return Some(path.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(path)).find(|p| p.is_file())
}

fn stamp(path: &Path) -> Option<(u64, u128)> {
    let m = std::fs::metadata(resolve(path)?).ok()?;
    Some((m.len(), m.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos()))
}

fn find_compiler() -> Result<(PathBuf, String), ToolError> {
    let tool = builder()
        .try_get_compiler()
        .map_err(|e| ToolError::Machine { what: "finding a C compiler".into(), message: e.to_string() })?;
    let mut cmd = Command::new(tool.path());
    cmd.arg("--version");
    // The path is said, and where it came from: `CC=/nonexistent` otherwise
    // reads as "No such file or directory" with nothing to fix.
    let what = format!(
        "asking the C compiler `{}` for its version (CC chooses it; set CC to a working C compiler, or install gcc)",
        tool.path().display()
    );
    let version = run(cmd, &what)?.lines().next().unwrap_or_default().to_string();
    Ok((tool.path().to_path_buf(), version))
}

static MEMO: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Remembers the compiler found in the cache of this process's first build
/// (build.rs's is in OUT_DIR, where all it writes must go).
pub fn remember_in(cache: &Path) {
    let _ = MEMO.set(cache.join("compiler.json"));
}

/// The compiler and its version, found once per process, and remembered
/// across processes in `<cache>/compiler.json`.
pub fn compiler() -> Result<&'static (PathBuf, String), ToolError> {
    static IDENTITY: std::sync::OnceLock<(PathBuf, String)> = std::sync::OnceLock::new();
    if let Some(id) = IDENTITY.get() {
        return Ok(id);
    }
    let env: Vec<Option<String>> = COMPILER_ENV.iter().map(|v| std::env::var(v).ok()).collect();
    let memo = MEMO.get();
    let remembered: Option<Found> = memo.and_then(|m| serde_json::from_slice(&std::fs::read(m).ok()?).ok());
    if let Some(f) = remembered.filter(|f| f.env == env && stamp(&f.path) == Some(f.stamp)) {
        return Ok(IDENTITY.get_or_init(|| (f.path, f.version)));
    }
    let (path, version) = find_compiler()?;
    if let (Some(memo), Some(stamp)) = (memo, stamp(&path)) {
        let found = Found { env, path: path.clone(), stamp, version: version.clone() };
        // A cache that cannot be written only costs the next process a search.
        let _ = memo
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| crate::cache::write_atomic(memo, &serde_json::to_vec(&found).expect("serializes")));
    }
    Ok(IDENTITY.get_or_init(|| (path, version)))
}

/// The compiler with the code generation flags, run in `dir`.
pub fn cc(dir: &Path) -> Result<Command, ToolError> {
    let mut cmd = Command::new(&compiler()?.0);
    cmd.args(CODEGEN).current_dir(dir);
    crate::process::dies_with_us(&mut cmd);
    Ok(cmd)
}

/// gcc's gcov, of the same version as the compiler (a counts file is read
/// only by its own version): beside the compiler's real file, named as it
/// is with `gcc` turned into `gcov` (`gcc-12`, `gcov-12`).
pub fn gcov() -> Result<PathBuf, ToolError> {
    let cc = resolve(&compiler()?.0).and_then(|p| std::fs::canonicalize(p).ok());
    let beside = cc.as_ref().and_then(|cc| {
        let name = cc.file_name()?.to_str()?;
        name.contains("gcc").then(|| cc.with_file_name(name.replacen("gcc", "gcov", 1)))
    });
    beside.filter(|g| g.is_file()).ok_or_else(|| ToolError::Machine {
        what: "finding gcov".into(),
        message: format!(
            "coverage needs gcc and its gcov, installed beside it (it ships with gcc); the compiler is {}",
            cc.map_or_else(
                || compiler().map(|c| c.0.display().to_string()).unwrap_or_default(),
                |c| c.display().to_string()
            )
        ),
    })
}

pub fn archiver() -> Result<Command, ToolError> {
    builder()
        .try_get_archiver()
        .map_err(|e| ToolError::Machine { what: "finding the archiver".into(), message: e.to_string() })
}

/// strerror() texts of write failures that are the machine's, whatever
/// the code compiled.
const MACHINE_FAULTS: &[&str] = &["No space left on device", "Disk quota exceeded", "Read-only file system"];

/// Runs `cmd` to completion, its stdout and stderr read together, and
/// returns its stdout.
pub fn run(mut cmd: Command, what: &str) -> Result<String, ToolError> {
    let out = cmd.output().map_err(|e| ToolError::Machine { what: what.to_string(), message: e.to_string() })?;
    outcome(out, what)
}

/// Runs the commands two at a time (two cores, two compiles) and returns
/// the first failure, if any.
pub fn run_parallel(jobs: Vec<(Command, String)>) -> Result<(), ToolError> {
    let mut jobs = jobs.into_iter().peekable();
    while jobs.peek().is_some() {
        let pair: Vec<_> = jobs.by_ref().take(2).collect();
        std::thread::scope(|s| {
            let running: Vec<_> = pair.into_iter().map(|(cmd, what)| s.spawn(move || run(cmd, &what))).collect();
            running.into_iter().try_for_each(|r| r.join().expect("a compile thread does not panic").map(drop))
        })?;
    }
    Ok(())
}

fn outcome(out: std::process::Output, what: &str) -> Result<String, ToolError> {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        if stderr.contains("urcu") && stderr.contains("No such file") {
            return Err(ToolError::NoLiburcu);
        }
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = out.status.signal() {
            return Err(ToolError::Machine { what: what.to_string(), message: format!("killed by signal {sig}") });
        }
        if stderr.trim().is_empty() {
            // A compiler that fails without a word (`CC=false`) is broken,
            // not refusing the tree's code.
            return Err(ToolError::Machine {
                what: what.to_string(),
                message: format!("exited with {} and no message", out.status),
            });
        }
        // The tools name the errno's text (the assembler quotes it): the
        // disk, not the code, refused.
        if let Some(fault) = MACHINE_FAULTS.iter().find(|f| stderr.contains(*f)) {
            return Err(ToolError::Machine { what: what.to_string(), message: format!("{fault}:\n{stderr}") });
        }
        return Err(ToolError::Failed { what: what.to_string(), output: stderr });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tool that says `msg` on stderr and exits 1, as gcc or ld does.
    fn failing(msg: &str) -> Result<String, ToolError> {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &format!("echo \"{msg}\" >&2; exit 1")]);
        run(cmd, "compiling")
    }

    #[test]
    fn a_full_disk_is_the_machines_fault() {
        let e = failing("/usr/bin/ld: final link failed: No space left on device").unwrap_err();
        assert!(
            matches!(e, ToolError::Machine { ref message, .. } if message.starts_with("No space left on device")),
            "{e}"
        );
    }

    #[test]
    fn a_compile_error_is_the_codes() {
        let e = failing("tu.c:1:1: error: unknown type name 'foo'").unwrap_err();
        assert!(matches!(e, ToolError::Failed { .. }), "{e}");
    }
}
