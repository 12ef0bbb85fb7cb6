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
