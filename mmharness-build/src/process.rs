//! Child processes that end with us: a killed mmharness leaves no runner
//! looping in kernel code, no apt-get, dpkg-deb or tar, no compiler.

use std::os::unix::process::CommandExt;
use std::process::Command;

/// Makes the child get SIGKILL when the thread that spawned it dies
/// (`PR_SET_PDEATHSIG`): each child is waited for on that thread.
pub fn dies_with_us(cmd: &mut Command) -> &mut Command {
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs in the forked child before exec and makes only
    // async-signal-safe system calls (prctl, getppid); it neither allocates
    // nor takes locks.
    unsafe {
        cmd.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)?;
            // The parent may have died before prctl(): then no signal comes.
            if nix::unistd::getppid() != parent {
                return Err(nix::errno::Errno::ESRCH.into());
            }
            Ok(())
        })
    }
}

/// How a child ended, and what it wrote.
pub struct Finished {
    /// `None` when it ran past the deadline and was killed.
    pub status: Option<std::process::ExitStatus>,
    pub stdout: Vec<u8>,
    /// The end of its stderr, where a crash report is, however much came before.
    pub stderr_tail: String,
}

/// Runs `cmd` with `input` on its stdin: stdout and stderr are drained
/// while it runs (a child that prints much never blocks on a full pipe),
/// it dies with us, and past `deadline` it is killed and reaped.
pub fn exchange(cmd: &mut Command, input: &[u8], deadline: std::time::Duration) -> std::io::Result<Finished> {
    use std::io::{Read, Write};
    use std::process::Stdio;
    const TAIL: usize = 64 * 1024;
    let mut child = dies_with_us(cmd).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let (mut stdin, mut stdout, mut stderr) =
        (child.stdin.take().expect("piped"), child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
    let input = input.to_vec();
    // A child that dies early closes its end: its status says why.
    let writer = std::thread::spawn(move || drop(stdin.write_all(&input)));
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err = std::thread::spawn(move || {
        let (mut tail, mut buf) = (Vec::new(), [0u8; 8192]);
        while let Ok(n @ 1..) = stderr.read(&mut buf) {
            tail.extend_from_slice(&buf[..n]);
            let excess = tail.len().saturating_sub(TAIL);
            tail.drain(..excess);
        }
        String::from_utf8_lossy(&tail).into_owned()
    });
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    };
    let _ = writer.join();
    let stdout = out.join().unwrap_or_default();
    let stderr_tail = err.join().unwrap_or_default();
    Ok(Finished { status, stdout, stderr_tail })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_child_printing_megabytes_to_stderr_finishes_with_its_answer() {
        let mut sh = Command::new("sh");
        sh.args(["-c", "head -c 4000000 /dev/zero | tr '\\0' x >&2; echo last >&2; cat"]);
        let f = exchange(&mut sh, b"answer", Duration::from_secs(5)).unwrap();
        assert!(f.status.is_some_and(|s| s.success()), "killed at the deadline: the pipe filled");
        assert_eq!(f.stdout, b"answer");
        assert!(f.stderr_tail.ends_with("xlast\n") && f.stderr_tail.len() == 64 * 1024);
    }

    #[test]
    fn a_child_past_the_deadline_is_killed_and_reaped() {
        let f = exchange(Command::new("sleep").arg("30"), b"", Duration::from_millis(200)).unwrap();
        assert!(f.status.is_none());
    }
}
