//! Two ways to run a scenario, with the same meaning: in this process on the
//! linked tree, or in a tree's runner executable as a child process, which
//! also contains crashes of the code under test.

use crate::outcome::{Crash, Outcome};
use crate::raw;
use crate::scenario::{Need, Scenario};
use mmharness_build::abi as sys;
use mmharness_build::artifact::Manifest;
use mmharness_build::caps::Capabilities;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("starting the runner {path}: {source}")]
    Spawn { path: PathBuf, source: std::io::Error },
    #[error("the runner {path} speaks another encoding (scenario {scenario} bytes, outcome {outcome} bytes): rebuild its artifact")]
    Encoding { path: PathBuf, scenario: u32, outcome: u32 },
    #[error("talking to the runner {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the injection site `{0}` is not a function extracted from this tree")]
    UnknownSite(String),
    /// The tree's API cannot express the scenario; nothing ran.
    #[error("the tree cannot express this scenario: it lacks {0}")]
    Unsupported(Need),
    #[error("the driver refused the scenario for a reason this build does not know ({0}): rebuild the artifact")]
    UnknownMissing(u32),
}

/// Something that runs scenarios on one tree.
pub trait Backend {
    fn run(&mut self, s: &Scenario) -> Result<Outcome, RunError>;
    fn manifest(&self) -> &Manifest;
    fn capabilities(&self) -> &Capabilities {
        &self.manifest().capabilities
    }
}

struct Child_ {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

/// A tree's runner executable, started on first use and restarted after a
/// crash.
pub struct Runner {
    path: PathBuf,
    manifest: Manifest,
    child: Option<Child_>,
    timeout: std::time::Duration,
}

const HELLO_MAGIC: u32 = 0x3148_4d4d;
/// A scenario takes microseconds; ten seconds is a hang.
const DEFAULT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits until `fd` has data (or is closed), or `timeout` passes: false then.
fn readable_within(fd: std::os::fd::BorrowedFd, timeout: std::time::Duration) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let ms = PollTimeout::try_from(timeout.as_millis().min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX);
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    loop {
        match poll(&mut fds, ms) {
            Err(nix::errno::Errno::EINTR) => continue,
            Ok(0) => return false,
            _ => return true,
        }
    }
}

impl Runner {
    pub fn new(path: &Path, manifest: Manifest) -> Self {
        Self { path: path.to_path_buf(), manifest, child: None, timeout: DEFAULT_TIMEOUT }
    }

    /// How long one scenario may take before the runner is killed: a
    /// revision or a mutant that never returns must not hang a bisect.
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The runner of an artifact.
    pub fn for_artifact(a: &mmharness_build::artifact::Artifact) -> Self {
        Self::new(&a.runner(), a.manifest.clone())
    }

    fn io_err(&self, source: std::io::Error) -> RunError {
        RunError::Io { path: self.path.clone(), source }
    }

    fn start(&mut self) -> Result<&mut Child_, RunError> {
        if self.child.is_none() {
            let mut child = Command::new(&self.path)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|source| RunError::Spawn { path: self.path.clone(), source })?;
            let stdin = child.stdin.take().expect("piped");
            let mut stdout = child.stdout.take().expect("piped");
            let mut hello = [0u8; 16];
            stdout.read_exact(&mut hello).map_err(|e| self.io_err(e))?;
            let word = |i: usize| u32::from_ne_bytes(hello[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
            let (scenario, outcome) = (word(1), word(2));
            if word(0) != HELLO_MAGIC
                || scenario as usize != std::mem::size_of::<sys::mmh_scenario>()
                || outcome as usize != std::mem::size_of::<sys::mmh_outcome>()
            {
                let _ = child.kill();
                return Err(RunError::Encoding { path: self.path.clone(), scenario, outcome });
            }
            self.child = Some(Child_ { child, stdin, stdout });
        }
        Ok(self.child.as_mut().expect("started above"))
    }

    /// The runner died in the middle of a scenario: report how, and start a
    /// fresh one next time.
    fn crashed(&mut self) -> Outcome {
        let mut c = self.child.take().expect("a running child");
        drop(c.stdin);
        let status = c.child.wait().ok();
        let mut stderr = String::new();
        if let Some(mut e) = c.child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        use std::os::unix::process::ExitStatusExt;
        let signal = status.and_then(|s| s.signal());
        let description = match (signal, status.and_then(|s| s.code())) {
            (Some(sig), _) => format!("killed by signal {sig} ({})", signal_name(sig)),
            (None, Some(code)) => format!("exited with status {code}"),
            _ => "ended".to_string(),
        };
        let description =
            if stderr.trim().is_empty() { description } else { format!("{description}: {}", stderr.trim()) };
        Outcome { crash: Some(Crash { signal, description }), ..Outcome::default() }
    }
}

fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig).map_or_else(|_| sig.to_string(), |s| s.as_str().to_string())
}

impl Backend for Runner {
    fn run(&mut self, s: &Scenario) -> Result<Outcome, RunError> {
        use std::os::fd::AsFd;
        let input = raw::scenario(s, &self.manifest)?;
        let timeout = self.timeout;
        let child = self.start()?;
        let mut buf = vec![0u8; std::mem::size_of::<sys::mmh_outcome>()];
        let sent = child.stdin.write_all(raw::scenario_bytes(&input)).and_then(|_| child.stdin.flush()).is_ok();
        if sent && !readable_within(child.stdout.as_fd(), timeout) {
            let _ = child.child.kill();
            let mut o = self.crashed();
            if let Some(c) = &mut o.crash {
                c.description = format!("timed out after {} s, killed", timeout.as_secs_f64());
            }
            return Ok(o);
        }
        if !sent || child.stdout.read_exact(&mut buf).is_err() {
            return Ok(self.crashed());
        }
        raw::outcome(&raw::outcome_from_bytes(&buf))
    }
    fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            drop(c.stdin);
            let _ = c.child.wait();
        }
    }
}
