//! `mmharness review`: what a posted patch changes in behaviour. The patch
//! is applied with `git apply` to a scratch overlay of the tree, never to the
//! tree itself, and both sides are built and run.

use anyhow::{bail, Context, Result};
use mmharness_build::overlay::Overlay;
use std::path::Path;
use std::process::Command;

/// One patch taken out of the input: its text, ready for `git apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub subject: String,
    pub text: String,
}

/// The number of `>` quote levels at the start of a line (`> > diff`).
fn quote_depth(line: &str) -> usize {
    let mut depth = 0;
    let mut rest = line;
    while let Some(r) = rest.strip_prefix('>') {
        depth += 1;
        rest = r.strip_prefix(' ').unwrap_or(r);
    }
    depth
}

/// `line` without `depth` levels of quoting.
fn unquote(line: &str, depth: usize) -> &str {
    let mut rest = line;
    for _ in 0..depth {
        rest = rest.strip_prefix('>').unwrap_or(rest);
        // The space after `>` belongs to the quoting, except before an empty
        // diff context line, which mailers often strip to nothing.
        rest = rest.strip_prefix(' ').unwrap_or(rest);
    }
    rest
}

/// The patches in a git-format patch, an mbox of a series (in order), or a
/// mail that quotes a patch with `> ` prefixes. Lines quoted less deeply
/// than the patch (a reviewer's comments) are left out.
pub fn patches(input: &str) -> Vec<Patch> {
    let mut out = Vec::new();
    // An mbox separates messages with "From <sha> <date>" lines.
    let mut messages: Vec<Vec<&str>> = vec![Vec::new()];
    for line in input.lines() {
        if line.starts_with("From ") && line.split_whitespace().nth(1).is_some_and(|w| w.len() >= 12) {
            messages.push(Vec::new());
        }
        messages.last_mut().expect("one message at least").push(line);
    }
    for msg in messages {
        let Some(first) = msg.iter().position(|l| unquote(l, quote_depth(l)).starts_with("diff --git ")) else {
            continue;
        };
        let depth = quote_depth(msg[first]);
        let subject = msg
            .iter()
            .map(|l| unquote(l, quote_depth(l)))
            .find_map(|l| l.strip_prefix("Subject: ").or_else(|| l.strip_prefix("Re: ")))
            .unwrap_or("")
            .to_string();
        let mut text = String::new();
        for l in &msg[first..] {
            if quote_depth(l) < depth {
                continue;
            }
            let l = unquote(l, depth);
            // A signature ends the patch.
            if l == "-- " || l == "--" {
                break;
            }
            text.push_str(l);
            text.push('\n');
        }
        out.push(Patch { subject, text });
    }
    out
}

/// Paths a patch reads or writes: both sides of its `diff --git a/X b/Y` lines.
pub fn touched(patch: &str) -> Vec<String> {
    let mut v: Vec<String> = patch
        .lines()
        .filter_map(|l| l.strip_prefix("diff --git a/"))
        .filter_map(|l| l.split_once(" b/"))
        .flat_map(|(a, b)| [a.to_string(), b.to_string()])
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The hunk header at or before `line` (1-based) of a patch, with its file.
fn hunk_at(patch: &str, line: usize) -> Option<(String, String)> {
    let mut file = String::new();
    let mut hunk = None;
    for (i, l) in patch.lines().enumerate() {
        if let Some(f) = l.strip_prefix("+++ b/") {
            file = f.to_string();
        }
        if l.starts_with("@@") {
            hunk = Some((file.clone(), l.split("@@").nth(1).map_or(l.to_string(), |h| format!("@@{h}@@"))));
        }
        if i + 1 >= line {
            break;
        }
    }
    hunk
}

/// The hunk of `file` whose old range holds `line`.
fn hunk_for_file_line(patch: &str, file: &str, line: usize) -> Option<String> {
    let mut in_file = false;
    for l in patch.lines() {
        if let Some(f) = l.strip_prefix("+++ b/") {
            in_file = f == file;
        }
        if in_file && l.starts_with("@@ -") {
            let start: usize = l[4..].split([',', ' ']).next()?.parse().ok()?;
            if start <= line + 3 && line <= start + 3 {
                return Some(l.split("@@").nth(1).map_or(l.to_string(), |h| format!("@@{h}@@")));
            }
        }
    }
    None
}

/// git's complaint, turned into one sentence naming the hunk and why.
pub fn explain_failure(patch: &Patch, git_stderr: &str) -> String {
    let first = git_stderr.lines().find(|l| l.starts_with("error:")).unwrap_or(git_stderr.trim());
    let why = first.trim_start_matches("error: ");
    if let Some(n) = why.strip_prefix("corrupt patch at line ").and_then(|n| n.trim().parse::<usize>().ok()) {
        let at = hunk_at(&patch.text, n).map_or("its first hunk".into(), |(f, h)| format!("hunk `{h}` of {f}"));
        return format!(
            "the patch does not apply: {at} is corrupt at patch line {n} (its line counts do not match its lines: \
             a quoted or partial hunk, or lines lost to the mailer)"
        );
    }
    if let Some(rest) = why.strip_prefix("patch failed: ") {
        if let Some((file, line)) = rest.rsplit_once(':') {
            let hunk = line.trim().parse().ok().and_then(|l| hunk_for_file_line(&patch.text, file, l));
            let at = hunk.map_or(format!("{file} at line {line}"), |h| format!("hunk `{h}` of {file}"));
            return format!("the patch does not apply: {at}: its context is not in this tree");
        }
    }
    format!("the patch does not apply: {why}")
}

fn git_apply(dir: &Path, patch: &Path, args: &[&str]) -> Result<(bool, String)> {
    let out = Command::new("git")
        .arg("apply")
        .args(args)
        .arg(patch)
        .current_dir(dir)
        // The overlay leaves out the tree's .git, and git must not look
        // above it: only the overlay's files are touched.
        .env("GIT_CEILING_DIRECTORIES", dir.parent().unwrap_or(dir))
        .output()
        .context("running git apply (is git installed?)")?;
    Ok((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// Which side of the patch the overlay holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// The overlay is the tree with the patch: before = tree, after = overlay.
    Forward { whitespace_fallback: bool },
    /// The tree already has the patch: before = overlay (reverted), after = tree.
    Reverted { whitespace_fallback: bool },
}

/// An overlay of `tree` in which the files `patches` touch are real copies,
/// and the directories of files they create are real directories.
fn overlay_for(tree: &Path, patches: &[Patch]) -> Result<Overlay> {
    let files: Vec<String> = {
        let mut f: Vec<String> = patches.iter().flat_map(|p| touched(&p.text)).collect();
        f.sort();
        f.dedup();
        f
    };
    let copies: Vec<(String, String)> =
        files.iter().filter_map(|f| std::fs::read_to_string(tree.join(f)).ok().map(|t| (f.clone(), t))).collect();
    let replaced: Vec<(&str, &str)> = copies.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
    let created: Vec<&str> = files.iter().map(String::as_str).filter(|f| !tree.join(f).exists()).collect();
    Overlay::with_new_files(tree, &replaced, &created).context("making a scratch copy of the tree")
}

/// Applies `patches` in order to an overlay of `tree`: forward, or, when the
/// tree already contains them, in reverse. Whitespace is the one fallback.
/// Each attempt starts from a fresh overlay and applies the patches one by
/// one, so a patch may build on the one before it.
pub fn apply(tree: &Path, patches: &[Patch]) -> Result<(Overlay, Applied)> {
    if patches.is_empty() {
        bail!("the input holds no patch (no `diff --git` line)");
    }
    let scratch = tempfile::tempdir()?;
    for (i, p) in patches.iter().enumerate() {
        std::fs::write(scratch.path().join(format!("{i}.patch")), &p.text)?;
    }
    let mut first_error = None;
    for ws in [false, true] {
        for reverse in [false, true] {
            let mut args = if ws { vec!["--ignore-whitespace"] } else { vec![] };
            if reverse {
                args.push("--reverse");
            }
            let mut order: Vec<usize> = (0..patches.len()).collect();
            if reverse {
                order.reverse();
            }
            let overlay = overlay_for(tree, patches)?;
            let mut failed = false;
            for i in order {
                let (ok, err) = git_apply(overlay.path(), &scratch.path().join(format!("{i}.patch")), &args)?;
                if !ok {
                    first_error.get_or_insert_with(|| explain_failure(&patches[i], &err));
                    failed = true;
                    break;
                }
            }
            if !failed {
                let applied = if reverse {
                    Applied::Reverted { whitespace_fallback: ws }
                } else {
                    Applied::Forward { whitespace_fallback: ws }
                };
                return Ok((overlay, applied));
            }
        }
    }
    bail!("{}", first_error.expect("a failed attempt records its error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATCH: &str = "\
diff --git a/mm/util.c b/mm/util.c
index 1111111..2222222 100644
--- a/mm/util.c
+++ b/mm/util.c
@@ -3,3 +3,3 @@ int f(void)
 {
-\treturn a;
+\treturn b;
 }
";

    #[test]
    fn a_mail_quoting_a_patch_is_unquoted_and_comments_left_out() {
        let quoted: String = PATCH
            .lines()
            .enumerate()
            .map(|(i, l)| if i == 6 { format!("> > {l}\n> a reviewer's comment\n") } else { format!("> > {l}\n") })
            .collect();
        let mail = format!("Subject: Re: [PATCH] x\n\n{quoted}\nCheers\n");
        let p = patches(&mail);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].text, PATCH);
    }

    #[test]
    fn an_mbox_series_gives_its_patches_in_order() {
        let mbox = format!(
            "From 0123456789abcdef Mon Sep 17 00:00:00 2001\nSubject: [PATCH 1/2] one\n\n---\n{PATCH}-- \n2.40\n\n\
             From fedcba9876543210 Mon Sep 17 00:00:00 2001\nSubject: [PATCH 2/2] two\n\n---\n{}",
            PATCH.replace("mm/util.c", "mm/memory.c")
        );
        let p = patches(&mbox);
        assert_eq!(
            p.iter().map(|p| p.subject.as_str()).collect::<Vec<_>>(),
            vec!["[PATCH 1/2] one", "[PATCH 2/2] two"]
        );
        assert_eq!(touched(&p[1].text), vec!["mm/memory.c"]);
        assert_eq!(p[0].text, PATCH);
    }

    #[test]
    fn a_corrupt_hunk_is_named() {
        let p = Patch { subject: String::new(), text: PATCH.to_string() };
        let msg = explain_failure(&p, "error: corrupt patch at line 8\n");
        assert!(msg.contains("hunk `@@ -3,3 +3,3 @@` of mm/util.c is corrupt"), "{msg}");
    }

    #[test]
    fn a_hunk_whose_context_is_missing_is_named() {
        let p = Patch { subject: String::new(), text: PATCH.to_string() };
        let msg = explain_failure(&p, "error: patch failed: mm/util.c:3\nerror: mm/util.c: patch does not apply\n");
        assert_eq!(
            msg,
            "the patch does not apply: hunk `@@ -3,3 +3,3 @@` of mm/util.c: its context is not in this tree"
        );
    }

    #[test]
    fn a_series_whose_second_patch_builds_on_the_first_applies() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join("mm")).unwrap();
        std::fs::write(tree.path().join("mm/util.c"), "a\nb\nint f(void)\n{\n\treturn a;\n}\n").unwrap();
        let second = PATCH.replace("-\treturn a;\n+\treturn b;", "-\treturn b;\n+\treturn c;");
        let p: Vec<Patch> = patches(PATCH).into_iter().chain(patches(&second)).collect();
        let (overlay, how) = apply(tree.path(), &p).unwrap();
        assert_eq!(how, Applied::Forward { whitespace_fallback: false });
        assert!(std::fs::read_to_string(overlay.path().join("mm/util.c")).unwrap().contains("return c;"));
    }

    #[test]
    fn a_patch_creating_a_file_in_a_git_checkout_leaves_the_checkout_alone() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join("mm")).unwrap();
        std::fs::create_dir_all(tree.path().join(".git")).unwrap();
        std::fs::write(tree.path().join("mm/util.c"), "x\n").unwrap();
        let new_file = "diff --git a/mm/new.c b/mm/new.c\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n+++ b/mm/new.c\n@@ -0,0 +1 @@\n+int y;\n";
        let (overlay, _) = apply(tree.path(), &patches(new_file)).unwrap();
        assert_eq!(std::fs::read_to_string(overlay.path().join("mm/new.c")).unwrap(), "int y;\n");
        assert!(!tree.path().join("mm/new.c").exists());
        assert!(!overlay.path().join(".git").exists());
    }

    #[test]
    fn applying_never_writes_the_tree_and_detects_an_applied_patch() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join("mm")).unwrap();
        std::fs::write(tree.path().join("mm/util.c"), "a\nb\nint f(void)\n{\n\treturn a;\n}\n").unwrap();
        let p = patches(PATCH);
        let (overlay, how) = apply(tree.path(), &p).unwrap();
        assert_eq!(how, Applied::Forward { whitespace_fallback: false });
        assert!(std::fs::read_to_string(overlay.path().join("mm/util.c")).unwrap().contains("return b;"));
        assert!(std::fs::read_to_string(tree.path().join("mm/util.c")).unwrap().contains("return a;"));
        // The same patch on the patched file: it is already there.
        let (_, how) = apply(overlay.path(), &p).unwrap();
        assert_eq!(how, Applied::Reverted { whitespace_fallback: false });
    }
}
