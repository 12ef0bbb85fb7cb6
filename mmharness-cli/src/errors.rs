//! Errors as the user reads them: one line of what failed and why, each
//! cause once.

/// `e` and its causes joined by `: `. A cause the text already holds is
/// left out: an error whose message names its source (`{context}:
/// {source}`) would otherwise end in `X: X`.
pub fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain().map(ToString::to_string) {
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

/// Prints `e` on stderr as `error: ...` and exits 2: never a verdict's code.
pub fn exit(e: &anyhow::Error) -> ! {
    eprintln!("error: {}{}", message(e), cache_hint(e, &mmharness_build::cache_dir()));
    std::process::exit(2)
}

/// What to do when the cache itself failed (a file, a read-only or full
/// disk): "creating /x/artifacts: Not a directory" does not say that the
/// path came from MMHARNESS_CACHE, or what to set.
fn cache_hint(e: &anyhow::Error, cache: &std::path::Path) -> String {
    let io = e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some());
    if io && message(e).contains(&cache.display().to_string()) {
        format!(
            " (the cache is {}: MMHARNESS_CACHE, else $XDG_CACHE_HOME/mmharness or ~/.cache/mmharness; set MMHARNESS_CACHE to a writable directory)",
            cache.display()
        )
    } else {
        String::new()
    }
}

/// The status a shell gives a command that SIGPIPE ended: 128 + 13.
const CLOSED_PIPE: i32 = 141;

/// A reader that has seen enough (`mmharness table | head`) closes the
/// pipe, and println! panics with "failed printing to stdout: Broken pipe"
/// and a backtrace. That panic ends us quietly instead, with the status
/// SIGPIPE gives cat. SIGPIPE itself stays ignored: a write to a runner that
/// died must fail, to be reported as its crash, not kill us.
pub fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload.downcast_ref::<String>().map(String::as_str).or(payload.downcast_ref::<&str>().copied());
        let message = message.unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(CLOSED_PIPE);
        }
        default(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::message;
    use anyhow::Context;

    #[derive(Debug, thiserror::Error)]
    #[error("{context}: {source}")]
    struct Io {
        context: String,
        source: std::io::Error,
    }

    fn not_a_directory() -> std::io::Error {
        std::io::Error::from_raw_os_error(20)
    }

    #[test]
    fn a_cause_the_message_names_is_said_once() {
        let e = anyhow::Error::new(Io { context: "creating /etc/passwd/artifacts".into(), source: not_a_directory() });
        assert_eq!(message(&e), "creating /etc/passwd/artifacts: Not a directory (os error 20)");
    }

    #[test]
    fn a_cause_the_message_does_not_name_is_added() {
        let e = Err::<(), _>(not_a_directory()).context("reading series.mbox").unwrap_err();
        assert_eq!(message(&e), "reading series.mbox: Not a directory (os error 20)");
    }
}
