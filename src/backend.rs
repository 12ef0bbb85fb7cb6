//! Two ways to run a scenario, with the same meaning: in this process on the
//! linked tree, or in a tree's runner executable as a child process, which
//! also contains crashes of the code under test.

use crate::outcome::{Crash, Outcome};
use crate::raw;
use crate::scenario::Scenario;
use mmharness_build::abi as sys;
use mmharness_build::artifact::Manifest;
use mmharness_build::caps::Capabilities;
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub use crate::error::RunError;

/// Something that runs scenarios on one tree.
pub trait Backend {
    fn run(&mut self, s: &Scenario) -> Result<Outcome, RunError>;
    fn manifest(&self) -> &Manifest;
    fn capabilities(&self) -> &Capabilities {
        &self.manifest().capabilities
    }
}

/// How much of a runner's stderr a crash report keeps: the end, where the
/// fault is, however much the kernel code printed before it.
const STDERR_KEPT: usize = 64 * 1024;

/// Why an exchange with the runner stopped before its answer.
enum Cut {
    TimedOut,
    /// The runner closed its outcome stream: it ended.
    Closed,
    Io(std::io::Error),
}

/// A running runner. Its outcome stream and stderr are read together, so
/// kernel code that prints (printk is printf in the tools headers, and the
/// runner sends stdout to stderr) can never block it on a full pipe.
struct Child_ {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    /// `None` once the runner closed it.
    stderr: Option<ChildStderr>,
    /// The end of what the runner wrote to stderr since the current scenario
    /// was sent, at most `STDERR_KEPT` bytes.
    stderr_tail: Vec<u8>,
}

impl Child_ {
    /// Reads exactly `buf` of the outcome stream by `deadline`, keeping the
    /// tail of stderr meanwhile.
    fn read_exact_by(&mut self, buf: &mut [u8], deadline: Instant) -> Result<(), Cut> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let mut got = 0;
        while got < buf.len() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Cut::TimedOut);
            }
            // Rounded up, so that a wait of less than a millisecond still waits.
            let ms = i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX);
            let ready = PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR;
            let mut fds = vec![PollFd::new(self.stdout.as_fd(), PollFlags::POLLIN)];
            if let Some(e) = &self.stderr {
                fds.push(PollFd::new(e.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)) {
                Err(nix::errno::Errno::EINTR) | Ok(0) => continue,
                Err(e) => return Err(Cut::Io(e.into())),
                Ok(_) => {}
            }
            let is_ready = |f: &PollFd| f.revents().is_some_and(|r| r.intersects(ready));
            let (out_ready, err_ready) = (is_ready(&fds[0]), fds.get(1).is_some_and(is_ready));
            drop(fds);
            if err_ready {
                self.read_stderr();
            }
            if out_ready {
                match self.stdout.read(&mut buf[got..]) {
                    Ok(0) => return Err(Cut::Closed),
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(Cut::Io(e)),
                }
            }
        }
        Ok(())
    }

    /// One read of stderr, which poll said will not block.
    fn read_stderr(&mut self) {
        let Some(e) = &mut self.stderr else { return };
        let mut chunk = [0u8; 16 * 1024];
        match e.read(&mut chunk) {
            Ok(0) => self.stderr = None,
            Ok(n) => {
                self.stderr_tail.extend_from_slice(&chunk[..n]);
                // Trimmed by halves, so that keeping the tail costs O(1) a byte.
                if self.stderr_tail.len() > 2 * STDERR_KEPT {
                    self.stderr_tail.drain(..self.stderr_tail.len() - STDERR_KEPT);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => self.stderr = None,
        }
    }

    /// Kills and reaps the runner, then reads what it left in the stderr
    /// pipe: its exit status and the tail of its stderr.
    fn end(mut self) -> (Option<ExitStatus>, String) {
        // Killed first, so that it cannot block on a pipe while we wait.
        let _ = self.child.kill();
        let status = self.child.wait().ok();
        // Bounded: a process the runner started may hold the pipe and write on.
        for _ in 0..64 {
            let Some(e) = &self.stderr else { break };
            let mut fds = [nix::poll::PollFd::new(e.as_fd(), nix::poll::PollFlags::POLLIN)];
            if !matches!(nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO), Ok(1)) {
                break;
            }
            self.read_stderr();
        }
        let tail = &self.stderr_tail[self.stderr_tail.len().saturating_sub(STDERR_KEPT)..];
        (status, String::from_utf8_lossy(tail).trim().to_string())
    }
}

/// A tree's runner executable, started on first use and restarted after a
/// crash. It is killed and reaped on every error, when it times out, and
/// when the `Runner` is dropped; it also dies with the thread that started
/// it (`PR_SET_PDEATHSIG`), so a killed caller leaves no runner looping in
/// kernel code. Use a `Runner` on the thread that first runs it.
pub struct Runner {
    path: PathBuf,
    manifest: Manifest,
    child: Option<Child_>,
    timeout: Duration,
    /// Set in each runner's environment (where a coverage runner writes its counts).
    env: Vec<(String, std::ffi::OsString)>,
}

const HELLO_MAGIC: u32 = 0x3148_4d4d;
/// A scenario takes microseconds; ten seconds is a hang.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

impl Runner {
    pub fn new(path: &Path, manifest: Manifest) -> Self {
        Self { path: path.to_path_buf(), manifest, child: None, timeout: DEFAULT_TIMEOUT, env: Vec::new() }
    }

    /// How long one exchange (the greeting of a fresh runner, a scenario and
    /// its outcome) may take before the runner is killed: a revision or a
    /// mutant that never returns must not hang a bisect.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `name=value` in the environment of every runner this starts.
    pub fn with_env(mut self, name: &str, value: impl Into<std::ffi::OsString>) -> Self {
        self.env.push((name.to_string(), value.into()));
        self
    }

    /// The runner of an artifact.
    pub fn for_artifact(a: &mmharness_build::artifact::Artifact) -> Self {
        Self::new(&a.runner(), a.manifest.clone())
    }

    fn spawn(&self) -> Result<Child, RunError> {
        let mut cmd = Command::new(&self.path);
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        // Set here rather than in runner.c: it holds for every runner (those
        // of artifacts built before, stand-ins in tests) and from before
        // exec, so no instant of kernel code runs without it.
        mmharness_build::process::dies_with_us(&mut cmd);
        cmd.spawn().map_err(|source| RunError::Spawn { path: self.path.clone(), source })
    }

    /// The running runner, started and greeted by `deadline` if there is none.
    fn start(&mut self, deadline: Instant) -> Result<&mut Child_, RunError> {
        if self.child.is_none() {
            let mut child = self.spawn()?;
            let (Some(stdin), Some(stdout), Some(stderr)) =
                (child.stdin.take(), child.stdout.take(), child.stderr.take())
            else {
                unreachable!("all three are piped");
            };
            let mut c = Child_ { child, stdin, stdout, stderr: Some(stderr), stderr_tail: Vec::new() };
            let mut hello = [0u8; 16];
            if let Err(cut) = c.read_exact_by(&mut hello, deadline) {
                let (status, stderr) = c.end();
                let why = match cut {
                    Cut::TimedOut => format!("none within {} s, killed", self.timeout.as_secs_f64()),
                    Cut::Closed => ended(status),
                    Cut::Io(e) => e.to_string(),
                };
                let why = if stderr.is_empty() { why } else { format!("{why}: {stderr}") };
                return Err(RunError::NoHello { path: self.path.clone(), why });
            }
            let word =
                |i: usize| u32::from_ne_bytes([hello[i * 4], hello[i * 4 + 1], hello[i * 4 + 2], hello[i * 4 + 3]]);
            let (scenario, outcome) = (word(1), word(2));
            if word(0) != HELLO_MAGIC
                || scenario as usize != std::mem::size_of::<sys::mmh_scenario>()
                || outcome as usize != std::mem::size_of::<sys::mmh_outcome>()
            {
                c.end();
                return Err(RunError::Encoding { path: self.path.clone(), scenario, outcome });
            }
            self.child = Some(c);
        }
        Ok(self.child.as_mut().expect("started above"))
    }

    /// The runner died or hung in the middle of a scenario: kill and reap it,
    /// report how, and start a fresh one next time.
    fn crashed(&mut self, timed_out: bool) -> Outcome {
        use std::os::unix::process::ExitStatusExt;
        let (status, stderr) = self.child.take().expect("a running child").end();
        let signal = status.and_then(|s| s.signal());
        let description =
            if timed_out { format!("timed out after {} s, killed", self.timeout.as_secs_f64()) } else { ended(status) };
        let description = if stderr.is_empty() { description } else { format!("{description}: {stderr}") };
        Outcome { crash: Some(Crash { signal, description }), ..Outcome::default() }
    }
}

/// How a runner ended, in words.
fn ended(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.and_then(|s| s.signal()), status.and_then(|s| s.code())) {
        (Some(sig), _) => format!("killed by signal {sig} ({})", signal_name(sig)),
        (None, Some(code)) => format!("exited with status {code}"),
        _ => "ended".to_string(),
    }
}

fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig).map_or_else(|_| sig.to_string(), |s| s.as_str().to_string())
}

impl Backend for Runner {
    fn run(&mut self, s: &Scenario) -> Result<Outcome, RunError> {
        let input = raw::scenario(s, &self.manifest)?;
        let deadline = Instant::now() + self.timeout;
        let child = self.start(deadline)?;
        child.stderr_tail.clear();
        let mut buf = vec![0u8; std::mem::size_of::<sys::mmh_outcome>()];
        // A scenario is smaller than PIPE_BUF and the runner has read the one
        // before: this write cannot block. It fails if the runner has died.
        let cut = match child.stdin.write_all(raw::scenario_bytes(&input)) {
            Err(_) => Some(Cut::Closed),
            Ok(()) => child.read_exact_by(&mut buf, deadline).err(),
        };
        match cut {
            None => raw::outcome(&raw::outcome_from_bytes(&buf)),
            Some(Cut::TimedOut) => Ok(self.crashed(true)),
            Some(Cut::Closed) => Ok(self.crashed(false)),
            Some(Cut::Io(source)) => {
                self.child.take().expect("a running child").end();
                Err(RunError::Io { path: self.path.clone(), source })
            }
        }
    }
    fn manifest(&self) -> &Manifest {
        &self.manifest
    }
}

impl Drop for Runner {
    /// Killed, not asked to finish: it may be looping in kernel code.
    fn drop(&mut self) {
        if let Some(c) = self.child.take() {
            c.end();
        }
    }
}
