//! `mmharness review`: what a posted patch changes in behaviour. The patch
//! is applied with `git apply` to a scratch overlay of the tree, never to the
//! tree itself, and both sides are built and run.

use anyhow::{bail, Context, Result};
use mailparse::MailHeaderMap;
use mmharness_build::overlay::Overlay;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One patch taken out of the input: its text, ready for `git apply`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub subject: String,
    pub text: String,
    /// For each line of `text`, the line of the input (1-based) it was
    /// read from; none where the mail carried it encoded (quoted-printable,
    /// base64), whose lines are not the input's.
    pub input_lines: Vec<Option<usize>>,
}

impl Patch {
    /// Where line `n` (1-based) of the patch is, in the reader's terms.
    pub fn where_is(&self, n: usize) -> String {
        match self.input_lines.get(n.wrapping_sub(1)).copied().flatten() {
            Some(at) => format!("line {at} of the input"),
            None => format!("line {n} of the patch as decoded from the mail"),
        }
    }
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

/// An mbox's `From ` line: `From <sha> Mon Sep 17 00:00:00 2001` (git),
/// `From git@z Thu Jan  1 00:00:00 1970` (b4), `From someone at host  Tue
/// Mar  3 10:00:00 2026` (mailman): a sender and a date ending in a year.
fn is_mbox_separator(line: &str) -> bool {
    let mut words = line.strip_prefix("From ").map(str::split_whitespace).into_iter().flatten();
    let year = words.clone().last();
    words.nth(4).is_some() && year.is_some_and(|y| y.len() == 4 && y.bytes().all(|c| c.is_ascii_digit()))
}

/// The messages of an mbox, or the whole input when it is one, each with
/// the number of input lines before it. Bytes, not text: each message says
/// its own charset.
fn messages(input: &[u8]) -> Vec<(usize, Vec<u8>)> {
    let mut out = vec![(0, Vec::new())];
    for (i, line) in input.split_inclusive(|&b| b == b'\n').enumerate() {
        if is_mbox_separator(String::from_utf8_lossy(line).trim_end()) {
            out.push((i + 1, Vec::new()));
            continue;
        }
        out.last_mut().expect("one message at least").1.extend_from_slice(line);
    }
    out.retain(|(_, m)| !m.iter().all(u8::is_ascii_whitespace));
    out
}

/// A message's subject, its text, and whether any of that text was
/// encoded: every text part (a patch attached as `text/x-patch` included),
/// decoded from quoted-printable or base64 and from its charset. Input that
/// does not start with mail headers is a bare patch.
fn subject_and_text(message: &[u8]) -> (String, String, bool) {
    let first = message.split(|&b| b == b'\n').next().map(String::from_utf8_lossy).unwrap_or_default();
    let header = first.split_once(':').is_some_and(|(k, _)| !k.is_empty() && !k.contains(' '));
    let parsed = if header { mailparse::parse_mail(message).ok() } else { None };
    let Some(mail) = parsed else { return (String::new(), String::from_utf8_lossy(message).into_owned(), false) };
    let subject = mail.headers.get_first_value("Subject").unwrap_or_default();
    let mut text = String::new();
    let mut encoded = false;
    for part in mail.parts() {
        let mime = part.ctype.mimetype.as_str();
        let textual = mime.starts_with("text/") || mime == "application/octet-stream" || mime.ends_with("patch");
        if part.subparts.is_empty() && textual {
            let body = part.get_body().unwrap_or_default();
            let cte = part.headers.get_first_value("Content-Transfer-Encoding").unwrap_or_default();
            encoded |= ["quoted-printable", "base64"].iter().any(|e| cte.trim().eq_ignore_ascii_case(e));
            let flowed = part.ctype.params.get("format").is_some_and(|f| f.eq_ignore_ascii_case("flowed"));
            text.push_str(&if flowed { unstuffed(&body) } else { body });
            text.push('\n');
        }
    }
    (subject.split_whitespace().collect::<Vec<_>>().join(" "), text, encoded)
}

/// The input line of each line of a patch taken from `message` (which
/// starts after `before` input lines): each found in order among the
/// message's own lines, as it is or quoted, stuffed or with no-break spaces.
fn input_lines(patch: &str, message: &str, before: usize) -> Vec<Option<usize>> {
    let raw: Vec<&str> = message.lines().collect();
    let same = |r: &str, l: &str| {
        let r = unquote(r, quote_depth(r));
        [r, r.strip_prefix(' ').unwrap_or(r)].iter().any(|r| r.replace('\u{a0}', " ") == l)
    };
    let mut next = 0;
    patch
        .lines()
        .map(|l| {
            let found = (next..raw.len()).find(|&i| same(raw[i], l))?;
            next = found + 1;
            Some(before + found + 1)
        })
        .collect()
}

/// A `format=flowed` body without its space-stuffing (RFC 3676, 4.4): the
/// mailer (Thunderbird's default) added a space before every line that
/// began with one, so each diff context line has one too many. Soft line
/// breaks are not joined: a wrapped diff line cannot be told from one that
/// ends in a space, and `git apply` then names the hunk.
fn unstuffed(body: &str) -> String {
    body.split_inclusive('\n').map(|l| l.strip_prefix(' ').unwrap_or(l)).collect()
}

/// Where a patch starts: a `diff --git` line, or a traditional `--- ` line
/// followed by `+++ ` (quilt, as mm-commits and the stable queue send).
fn patch_start(lines: &[&str]) -> Option<usize> {
    let plain = |i: usize| lines.get(i).map(|l| unquote(l, quote_depth(l)));
    (0..lines.len()).find(|&i| {
        let l = plain(i).unwrap_or("");
        l.starts_with("diff --git ") || (l.starts_with("--- ") && plain(i + 1).is_some_and(|n| n.starts_with("+++ ")))
    })
}

/// The patch in a message's text: from its first diff line, at the quote
/// depth of that line; lines quoted less deeply (a reviewer's comments)
/// are left out, and a signature ends it.
fn patch_in(text: &str) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let first = patch_start(&lines)?;
    let depth = quote_depth(lines[first]);
    let mut out = String::new();
    for l in &lines[first..] {
        if quote_depth(l) < depth {
            continue;
        }
        let l = unquote(l, depth);
        if l == "-- " || l == "--" {
            break;
        }
        // Mailers (Evolution, Outlook) send spaces as no-break spaces, the
        // one that marks a context line included; kernel C has none.
        out.push_str(&l.replace('\u{a0}', " "));
        out.push('\n');
    }
    Some(out)
}

/// `[PATCH v2 3/7]`: the 3, which orders a series.
fn series_number(subject: &str) -> Option<u32> {
    let tag = subject.split('[').nth(1)?.split(']').next()?;
    let nm = tag.split_whitespace().find(|w| w.contains('/'))?;
    nm.split('/').next()?.parse().ok()
}

/// The patches in a git-format patch, a git or b4 mbox of a series, a
/// quilt mail (mm-commits, stable), a MIME mail with the patch inline or
/// attached, or a mail that quotes one with `> `. A series is put in
/// `[PATCH n/m]` order; a message without a patch (a cover letter) is left
/// out.
pub fn patches(input: &str) -> Vec<Patch> {
    patches_of(input.as_bytes())
}

/// The same, from the bytes of the input.
pub fn patches_of(input: &[u8]) -> Vec<Patch> {
    let mut out: Vec<Patch> = messages(input)
        .iter()
        .filter_map(|(before, m)| {
            let (subject, text, encoded) = subject_and_text(m);
            let text = patch_in(&text)?;
            let input_lines = if encoded {
                vec![None; text.lines().count()]
            } else {
                input_lines(&text, &String::from_utf8_lossy(m), *before)
            };
            Some(Patch { subject, text, input_lines })
        })
        .collect();
    // A stable sort: messages without a number keep their mbox order.
    out.sort_by_key(|p| series_number(&p.subject).unwrap_or(0));
    out
}

/// The patches of the file at `path`, or of standard input for `-`, read
/// as bytes: a raw 8-bit mail in Latin-1 is not UTF-8, and says so itself.
pub fn read(path: &Path) -> Result<Vec<Patch>> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).context("reading the patch from stdin")?;
        return Ok(patches_of(&bytes));
    }
    Ok(patches_of(&std::fs::read(path).with_context(|| format!("reading {}", path.display()))?))
}

/// A path as git writes it: bare, or in double quotes with C escapes.
fn git_path(s: &str) -> (String, &str) {
    let Some(rest) = s.strip_prefix('"') else {
        return match s.split_once(' ') {
            Some((p, r)) => (p.to_string(), r),
            None => (s.to_string(), ""),
        };
    };
    let mut bytes = Vec::new();
    let mut it = rest.char_indices();
    while let Some((i, c)) = it.next() {
        match c {
            '"' => return (String::from_utf8_lossy(&bytes).into_owned(), rest[i + 1..].trim_start()),
            '\\' => match it.next().map(|(_, e)| e) {
                Some('n') => bytes.push(b'\n'),
                Some('t') => bytes.push(b'\t'),
                Some(d @ '0'..='7') => {
                    let digits: String = std::iter::once(d).chain(it.clone().take(2).map(|(_, c)| c)).collect();
                    it.nth(1);
                    bytes.push(u8::from_str_radix(&digits, 8).unwrap_or(b'?'));
                }
                Some(e) => bytes.extend(e.to_string().as_bytes()),
                None => {}
            },
            c => bytes.extend(c.to_string().as_bytes()),
        }
    }
    (String::from_utf8_lossy(&bytes).into_owned(), "")
}

/// A path without its one-letter side prefix (`a/ b/ i/ w/ c/ o/`) and,
/// for quilt's old side, its `~name` suffix. Any other path is kept whole,
/// so that an absolute one is refused by the overlay, not dropped.
fn strip_side(p: &str) -> Option<String> {
    match p.split_once('/') {
        _ if p == "/dev/null" => None,
        Some((side, rest)) if side.len() == 1 => Some(rest.split('~').next().unwrap_or(rest).to_string()),
        _ => Some(p.to_string()),
    }
}

/// Paths a patch reads or writes: both sides of each `diff --git` line,
/// and of each `---`/`+++` pair (`/dev/null` left out).
pub fn touched(patch: &str) -> Vec<String> {
    let mut v = Vec::new();
    for l in patch.lines() {
        if let Some(rest) = l.strip_prefix("diff --git ") {
            let (a, rest) = git_path(rest);
            let (b, _) = git_path(rest);
            v.extend([a, b].iter().filter_map(|p| strip_side(p)));
        } else if let Some(rest) = l.strip_prefix("--- ").or_else(|| l.strip_prefix("+++ ")) {
            v.extend(side_path(rest));
        }
    }
    v.sort();
    v.dedup();
    v
}

/// The file a `--- ` or `+++ ` line names after its marker, without its
/// side prefix or the timestamp a tab may bring.
fn side_path(rest: &str) -> Option<String> {
    strip_side(&git_path(rest.split('\t').next().unwrap_or(rest)).0)
}

/// The file a `+++ ` line names.
fn new_side(line: &str) -> Option<String> {
    side_path(line.strip_prefix("+++ ")?)
}

/// A hunk header as it is shown: `@@ -3,3 +3,3 @@`.
fn hunk_header(l: &str) -> String {
    l.split("@@").nth(1).map_or(l.to_string(), |h| format!("@@{h}@@"))
}

/// The hunk header at or before `line` (1-based) of a patch, with its file.
fn hunk_at(patch: &str, line: usize) -> Option<(String, String)> {
    let mut file = String::new();
    let mut hunk = None;
    for (i, l) in patch.lines().enumerate() {
        if let Some(f) = new_side(l) {
            file = f;
        }
        if l.starts_with("@@") {
            hunk = Some((file.clone(), hunk_header(l)));
        }
        if i + 1 >= line {
            break;
        }
    }
    hunk
}

/// The old and new ranges of a hunk header, `@@ -a[,b] +c[,d] @@`, as
/// (first line, count) each.
fn hunk_ranges(header: &str) -> Option<((usize, usize), (usize, usize))> {
    let mut words = header.strip_prefix("@@ ")?.split(' ');
    let range = |w: Option<&str>, sign: char| -> Option<(usize, usize)> {
        let w = w?.strip_prefix(sign)?;
        Some(match w.split_once(',') {
            Some((start, n)) => (start.parse().ok()?, n.parse().ok()?),
            None => (w.parse().ok()?, 1),
        })
    };
    Some((range(words.next(), '-')?, range(words.next(), '+')?))
}

/// The hunk of `file` whose old range holds `line`, and its patch line.
fn hunk_for_file_line(patch: &str, file: &str, line: usize) -> Option<(String, usize)> {
    let mut in_file = false;
    for (i, l) in patch.lines().enumerate() {
        if let Some(f) = new_side(l) {
            in_file = f == file;
        }
        if in_file && l.starts_with("@@ -") {
            let start = hunk_ranges(l)?.0 .0;
            if start <= line + 3 && line <= start + 3 {
                return Some((hunk_header(l), i + 1));
            }
        }
    }
    None
}

/// git's complaint, turned into one sentence naming the hunk, where it is
/// in the input, and why.
pub fn explain_failure(patch: &Patch, git_stderr: &str) -> String {
    let first = git_stderr.lines().find(|l| l.starts_with("error:")).unwrap_or(git_stderr.trim());
    let why = first.trim_start_matches("error: ");
    if let Some(n) = why.strip_prefix("corrupt patch at line ").and_then(|n| n.trim().parse::<usize>().ok()) {
        let at = hunk_at(&patch.text, n).map_or("its first hunk".into(), |(f, h)| format!("hunk `{h}` of {f}"));
        return format!(
            "the patch does not apply: {at} is corrupt at {} (its line counts do not match its lines: \
             a quoted or partial hunk, or lines lost to the mailer)",
            patch.where_is(n)
        );
    }
    if let Some(rest) = why.strip_prefix("patch failed: ") {
        if let Some((file, line)) = rest.rsplit_once(':') {
            let hunk = line.trim().parse().ok().and_then(|l| hunk_for_file_line(&patch.text, file, l));
            let at = hunk.map_or(format!("{file} at line {line}"), |(h, n)| {
                format!("hunk `{h}` of {file} ({})", patch.where_is(n))
            });
            return format!("the patch does not apply: {at}: its context is not in this tree");
        }
    }
    format!("the patch does not apply: {why}")
}

/// A tree unpacked in part from a package (the default tree), and the
/// files a patch touches that it does not hold.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct PartialTree {
    pub package: String,
    pub version: String,
    /// What the tree holds of the kernel source.
    pub holds: Vec<String>,
    /// Touched by the patch, not held: their hunks cannot be judged here.
    pub missing: Vec<String>,
}

/// Where `tree` is a tree unpacked in part and the patches touch files it
/// does not hold: which. None for a whole tree, or a patch within it.
pub fn partial_tree(tree: &Path, patches: &[Patch]) -> Option<PartialTree> {
    let record = mmharness_build::fetch::unpacked_record(tree)?;
    let held =
        |f: &str| record.paths.iter().any(|p| f == p || f.strip_prefix(p.as_str()).is_some_and(|r| r.starts_with('/')));
    let mut missing: Vec<String> = patches.iter().flat_map(|p| touched(&p.text)).filter(|f| !held(f)).collect();
    missing.sort();
    missing.dedup();
    (!missing.is_empty()).then_some(PartialTree {
        package: record.package,
        version: record.version,
        holds: record.paths,
        missing,
    })
}

/// An error of the overlay's side, in the reader's terms: the side and the
/// kernel files, not the temporary path, which is gone when it is read.
pub fn on_side(e: anyhow::Error, overlay: &Path, side: &str) -> anyhow::Error {
    let p = overlay.display().to_string();
    let text = format!("{e:#}")
        .replace(&format!("building {p}: "), "")
        .replace(&format!(" for {p}"), "")
        .replace(&format!("{p}/"), "")
        .replace(&p, side);
    anyhow::anyhow!("{side}: {text}")
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

/// The side of a patch a line is on: a removed line is on the side
/// before it, an added line on the side after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Before,
    After,
}

/// A line a patch changes, as the kernel file and line of its side.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct ChangedLine {
    pub file: String,
    pub side: Side,
    pub line: usize,
}

/// The lines of `files` that differ between the trees `before` and
/// `after`, as `git diff` finds them: what the two builds read, whatever
/// form the patch came in (a series, quilt, applied with whitespace
/// collapsed, or reverted).
pub fn changed_lines(before: &Path, after: &Path, files: &[String]) -> Result<Vec<ChangedLine>> {
    let mut out = Vec::new();
    for f in files {
        let side = |root: &Path| {
            let p = root.join(f);
            if p.is_file() {
                p
            } else {
                PathBuf::from("/dev/null")
            }
        };
        let diff = Command::new("git")
            .args(["diff", "--no-index", "--no-color", "--no-ext-diff", "--unified=0", "--"])
            .args([side(before), side(after)])
            .env("GIT_CEILING_DIRECTORIES", "/")
            .output()
            .context("running git diff (is git installed?)")?;
        // 0: the same, 1: they differ; anything else is git's error.
        if !matches!(diff.status.code(), Some(0 | 1)) {
            bail!(
                "git diff of {f} before and after the patch failed: {}",
                String::from_utf8_lossy(&diff.stderr).trim()
            );
        }
        for ((old, n_old), (new, n_new)) in String::from_utf8_lossy(&diff.stdout).lines().filter_map(hunk_ranges) {
            let lines = |side, first: usize, n: usize| (first..first + n).map(move |line| (side, line));
            for (side, line) in lines(Side::Before, old, n_old).chain(lines(Side::After, new, n_new)) {
                out.push(ChangedLine { file: f.clone(), side, line });
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The changed lines of the files whose definitions are extracted (kernel
/// code, and the helpers of include/linux/mm.h) that fall in no extracted
/// definition on their side: the build never compiles them, so no verdict
/// speaks for them. A helper the tools headers define themselves (mm.h's
/// `vma_pages`) is one: the build uses the tools headers' copy. As
/// `file:first-last` runs, each line once.
pub fn not_compiled(
    changed: &[ChangedLine],
    before: &[mmharness_build::extract::Extracted],
    after: &[mmharness_build::extract::Extracted],
) -> Vec<String> {
    use mmharness_build::inputs::Role;
    let extracted_from =
        |f: &str| mmharness_build::inputs::files().any(|i| i.path == f && matches!(i.role, Role::Code | Role::Helpers));
    let mut lines: Vec<(&str, usize)> = changed
        .iter()
        .filter(|c| extracted_from(&c.file))
        .filter(|c| {
            let places = if c.side == Side::Before { before } else { after };
            !places.iter().any(|p| p.file == c.file && (p.line..=p.end_line).contains(&c.line))
        })
        .map(|c| (c.file.as_str(), c.line))
        .collect();
    lines.sort();
    lines.dedup();
    let mut runs: Vec<(&str, usize, usize)> = Vec::new();
    for (f, l) in lines {
        match runs.last_mut() {
            Some((rf, _, last)) if *rf == f && *last + 1 == l => *last = l,
            _ => runs.push((f, l, l)),
        }
    }
    runs.into_iter().map(|(f, a, b)| if a == b { format!("{f}:{a}") } else { format!("{f}:{a}-{b}") }).collect()
}

/// Which side of the patch the overlay holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// The overlay is the tree with the patch: before = tree, after = overlay.
    Forward { whitespace_fallback: bool },
    /// The tree already has the patch: before = overlay (reverted), after = tree.
    Reverted { whitespace_fallback: bool },
}

impl Applied {
    /// How the overlay's side differs from the tree, in the reader's words.
    pub fn side(&self) -> &'static str {
        match self {
            Applied::Forward { .. } => "with the patch applied",
            Applied::Reverted { .. } => "with the patch reverted",
        }
    }
}

/// An overlay of `tree` in which the files `patches` touch and the files
/// the build reads (`read`) are real copies, and the directories of files
/// they create are real directories.
fn overlay_for(tmp: &Path, tree: &Path, patches: &[Patch], read: &[PathBuf]) -> Result<Overlay> {
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
    Overlay::for_build_in(tmp, tree, &replaced, &created, read).context("making a scratch copy of the tree")
}

/// Applies `patches` in order to an overlay of `tree`: forward, or, when the
/// tree already contains them, in reverse. Whitespace is the one fallback.
/// Each attempt starts from a fresh overlay and applies the patches one by
/// one, so a patch may build on the one before it. `read` is what a build
/// of `tree` reads (`Plan::inputs`): real files in the overlay.
pub fn apply(tree: &Path, patches: &[Patch], read: &[PathBuf]) -> Result<(Overlay, Applied)> {
    apply_in(&std::env::temp_dir(), tree, patches, read)
}

/// The files `patches` touch that a build of `tree` does not read (`read`,
/// as `Plan::inputs` gives it): their hunks are not applied. None when
/// `read` is empty, which stands for no build to scope to.
pub fn out_of_scope(tree: &Path, patches: &[Patch], read: &[PathBuf]) -> Vec<String> {
    if read.is_empty() {
        return Vec::new();
    }
    let mut v: Vec<String> = patches
        .iter()
        .flat_map(|p| touched(&p.text))
        .filter(|f| !read.iter().any(|r| r.strip_prefix(tree).is_ok_and(|r| r == Path::new(f))))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The same, with the overlay made in `tmp`.
pub fn apply_in(tmp: &Path, tree: &Path, patches: &[Patch], read: &[PathBuf]) -> Result<(Overlay, Applied)> {
    if patches.is_empty() {
        bail!(
            "the input holds no patch: no `diff --git` line, and no `--- `/`+++ ` pair, in any message or part of it"
        );
    }
    let scratch = tempfile::tempdir()?;
    for (i, p) in patches.iter().enumerate() {
        std::fs::write(scratch.path().join(format!("{i}.patch")), &p.text)?;
    }
    let excluded: Vec<String> = out_of_scope(tree, patches, read).iter().map(|f| format!("--exclude={f}")).collect();
    let (mut forward_error, mut reverse_error) = (None, None);
    for ws in [false, true] {
        for reverse in [false, true] {
            let mut args: Vec<&str> = excluded.iter().map(String::as_str).collect();
            if ws {
                args.push("--ignore-whitespace");
            }
            if reverse {
                args.push("--reverse");
            }
            let mut order: Vec<usize> = (0..patches.len()).collect();
            if reverse {
                order.reverse();
            }
            let overlay = overlay_for(tmp, tree, patches, read)?;
            let mut failed = false;
            for i in order {
                let (ok, err) = git_apply(overlay.path(), &scratch.path().join(format!("{i}.patch")), &args)?;
                if !ok {
                    let first = if reverse { &mut reverse_error } else { &mut forward_error };
                    first.get_or_insert_with(|| explain_failure(&patches[i], &err));
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
    bail!(
        "{}; nor is it already in the tree: reverted, {}",
        forward_error.expect("a failed forward attempt records its error"),
        reverse_error.expect("a failed reverse attempt records its error").replacen(
            "the patch does not apply: ",
            "",
            1
        )
    )
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

    /// mm.h's `vma_pages` is the tools headers' own: a patch to the
    /// kernel's copy changes nothing the build compiles, and says so.
    #[test]
    fn changed_lines_outside_the_extracted_definitions_are_named() {
        let place = |file: &str, line, end_line| mmharness_build::extract::Extracted {
            name: "f".into(),
            file: file.into(),
            line,
            end_line,
        };
        let at = |file: &str, side, line| ChangedLine { file: file.into(), side, line };
        let changed = [
            at("include/linux/mm.h", Side::Before, 4395),
            at("include/linux/mm.h", Side::After, 4395),
            at("mm/util.c", Side::Before, 1415),
            at("mm/util.c", Side::After, 1415),
            at("mm/util.c", Side::After, 20),
            at("mm/util.c", Side::After, 21),
            at("tools/testing/vma/include/dup.h", Side::After, 1325),
        ];
        let extracted = [place("mm/util.c", 1392, 1419), place("include/linux/mm.h", 100, 120)];
        assert_eq!(not_compiled(&changed, &extracted, &extracted), ["include/linux/mm.h:4395", "mm/util.c:20-21"]);
    }

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

    /// Thunderbird sends `format=flowed` and stuffs a space before every
    /// line that starts with one: each context line of the patch.
    #[test]
    fn a_format_flowed_mail_is_unstuffed() {
        let stuffed: String =
            PATCH.lines().map(|l| if l.starts_with(' ') { format!(" {l}\n") } else { format!("{l}\n") }).collect();
        let mail = format!(
            "Subject: [PATCH] x\nContent-Type: text/plain; charset=UTF-8; format=flowed\n\
             Content-Transfer-Encoding: 7bit\n\n{stuffed}-- \n2.50.1\n"
        );
        assert_eq!(patches(&mail)[0].text, PATCH);
    }

    /// Evolution's quoted-printable `=C2=A0` in place of a context line's space.
    #[test]
    fn no_break_spaces_of_a_mailer_are_spaces_again() {
        let nbsp: String =
            PATCH.lines().map(|l| l.strip_prefix(' ').map_or(format!("{l}\n"), |r| format!("=C2=A0{r}\n"))).collect();
        let mail = format!(
            "Subject: [PATCH] x\nContent-Type: text/plain; charset=UTF-8\n\
             Content-Transfer-Encoding: quoted-printable\n\n{nbsp}-- \n2.50.1\n"
        );
        assert_eq!(patches(&mail)[0].text, PATCH);
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

    /// A b4 mbox: `From git@z` separators, a cover letter, patches out of order.
    #[test]
    fn a_b4_mbox_gives_every_patch_in_series_order_without_the_cover_letter() {
        let msg = |n: &str, body: &str| {
            format!("From git@z Thu Jan  1 00:00:00 1970\nSubject: [PATCH v2 {n}] mm: a change\n\n{body}\n")
        };
        let second = PATCH.replace("mm/util.c", "mm/memory.c");
        let mbox = msg("0/2", "The cover letter.\n")
            + &msg("2/2", &format!("---\n{second}"))
            + &msg("1/2", &format!("---\n{PATCH}"));
        let p = patches(&mbox);
        assert_eq!(
            p.iter().map(|p| p.subject.as_str()).collect::<Vec<_>>(),
            vec!["[PATCH v2 1/2] mm: a change", "[PATCH v2 2/2] mm: a change"]
        );
        // The blank lines that end a message are left for git apply, which ignores them.
        assert_eq!((p[0].text.trim_end(), p[1].text.trim_end()), (PATCH.trim_end(), second.trim_end()));
    }

    /// mm-commits and the stable queue send quilt diffs: `--- a/f~name`, `+++ a/f`.
    #[test]
    fn a_quilt_mail_is_a_patch_of_the_file_it_names() {
        let quilt = PATCH
            .replace("diff --git a/mm/util.c b/mm/util.c\nindex 1111111..2222222 100644\n", "")
            .replace("--- a/mm/util.c", "--- a/mm/util.c~mm-fix-pgoff")
            .replace("+++ b/mm/util.c", "+++ a/mm/util.c");
        let mail = format!("Subject: + mm-fix-pgoff.patch added to mm-hotfixes-unstable branch\n\n------------------------------------------------------\nFrom: A <a@b>\n\n{quilt}_\n");
        let p = patches(&mail);
        assert_eq!(p.len(), 1);
        assert!(p[0].text.starts_with("--- a/mm/util.c~mm-fix-pgoff\n+++ a/mm/util.c\n@@"), "{}", p[0].text);
        assert_eq!(touched(&p[0].text), vec!["mm/util.c"]);
    }

    #[test]
    fn a_quoted_printable_latin1_mail_with_a_folded_subject_is_decoded() {
        let qp = PATCH.replace("return b;", "return b; /* caf=E9 =3D */");
        let mail = format!(
            "Subject: [PATCH] mm: a subject long enough\n to be folded\nContent-Type: text/plain; charset=ISO-8859-1\n\
             Content-Transfer-Encoding: quoted-printable\n\n---\n{qp}"
        );
        let p = patches(&mail);
        assert_eq!(p[0].subject, "[PATCH] mm: a subject long enough to be folded");
        assert!(p[0].text.contains("+\treturn b; /* caf\u{e9} = */\n"), "{}", p[0].text);
    }

    /// A raw 8-bit mail in Latin-1 is not UTF-8: its bytes are decoded by
    /// the charset it declares, not refused.
    #[test]
    fn a_raw_8bit_latin1_mail_is_decoded_by_its_charset() {
        let mail = format!(
            "Subject: [PATCH] x\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: 8bit\n\n\
             Signed-off-by: J\u{e9}r\u{f4}me\n---\n{}",
            PATCH.replace("return b;", "return b; /* caf\u{e9} */")
        );
        let latin1: Vec<u8> = mail.chars().map(|c| u8::try_from(u32::from(c)).unwrap()).collect();
        assert!(std::str::from_utf8(&latin1).is_err(), "the mail is not UTF-8");
        let p = patches_of(&latin1);
        assert_eq!(p.len(), 1);
        assert!(p[0].text.contains("+\treturn b; /* caf\u{e9} */\n"), "{}", p[0].text);
    }

    #[test]
    fn a_patch_attached_in_base64_to_a_multipart_mail_is_found() {
        let b64: String = {
            // RFC 2045 base64, written out so the test needs no encoder.
            const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
            PATCH
                .as_bytes()
                .chunks(3)
                .map(|c| {
                    let n =
                        (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
                    (0..4)
                        .map(|i| if i <= c.len() { A[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' })
                        .collect::<String>()
                })
                .collect()
        };
        let mail = format!(
            "Subject: [PATCH] x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"\n\n--b\n\
             Content-Type: text/plain\n\nSee the attachment.\n--b\nContent-Type: text/x-patch\n\
             Content-Transfer-Encoding: base64\n\n{b64}\n--b--\n"
        );
        assert_eq!(patches(&mail)[0].text.trim_end(), PATCH.trim_end());
    }

    #[test]
    fn mnemonic_prefixes_and_quoted_paths_name_the_files() {
        let p = "diff --git i/mm/util.c w/mm/util.c\n--- i/mm/util.c\n+++ w/mm/util.c\n\
                 diff --git \"a/mm/a b.c\" \"b/mm/a b.c\"\n--- \"a/mm/a b.c\"\n+++ /dev/null\n";
        assert_eq!(touched(p), vec!["mm/a b.c", "mm/util.c"]);
    }

    #[test]
    fn a_mail_without_a_patch_says_so() {
        let Err(err) = apply(Path::new("/nonexistent"), &patches("Subject: Re: [PATCH] x\n\nLooks good.\n"), &[])
        else {
            panic!("a mail without a patch applied");
        };
        assert!(err.to_string().starts_with("the input holds no patch"), "{err}");
    }

    #[test]
    fn hunks_on_files_the_build_does_not_read_are_listed_and_not_applied() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join("mm")).unwrap();
        std::fs::write(tree.path().join("mm/util.c"), "a\nb\nint f(void)\n{\n\treturn a;\n}\n").unwrap();
        // Documentation/x.rst is not in the tree: its hunk could not apply.
        let doc = "diff --git a/Documentation/x.rst b/Documentation/x.rst\n--- a/Documentation/x.rst\n\
                   +++ b/Documentation/x.rst\n@@ -1 +1 @@\n-old\n+new\n";
        let p = patches(&format!("{PATCH}{doc}"));
        let read = [tree.path().join("mm/util.c")];
        assert_eq!(out_of_scope(tree.path(), &p, &read), vec!["Documentation/x.rst"]);
        let (overlay, how) = apply(tree.path(), &p, &read).unwrap();
        assert_eq!(how, Applied::Forward { whitespace_fallback: false });
        assert!(std::fs::read_to_string(overlay.path().join("mm/util.c")).unwrap().contains("return b;"));
    }

    #[test]
    fn a_patch_that_neither_applies_nor_reverses_says_both() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join("mm")).unwrap();
        std::fs::write(tree.path().join("mm/util.c"), "a\nb\nint f(void)\n{\n\treturn z;\n}\n").unwrap();
        let Err(e) = apply(tree.path(), &patches(PATCH), &[]) else { panic!("applied") };
        assert_eq!(
            e.to_string(),
            "the patch does not apply: hunk `@@ -3,3 +3,3 @@` of mm/util.c (line 5 of the input): its context is \
             not in this tree; nor is it already in the tree: reverted, hunk `@@ -3,3 +3,3 @@` of mm/util.c \
             (line 5 of the input): its context is not in this tree"
        );
    }

    /// git counts lines of the patch it was given; the reader has the mail.
    #[test]
    fn a_corrupt_hunk_is_named_by_its_line_in_the_mail() {
        let mail = format!("Subject: [PATCH] x\n\nSome words.\n\n---\n{PATCH}");
        let p = &patches(&mail)[0];
        // Patch line 8 is ` }`: line 13 of the mail, after 5 lines of it.
        let msg = explain_failure(p, "error: corrupt patch at line 8\n");
        assert!(msg.contains("hunk `@@ -3,3 +3,3 @@` of mm/util.c is corrupt at line 13 of the input"), "{msg}");
    }

    #[test]
    fn a_quoted_printable_mail_names_the_line_of_the_decoded_patch() {
        let mail = format!(
            "Subject: [PATCH] x\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n{}",
            PATCH.replace("return b;", "return b; /* =3D */")
        );
        let msg = explain_failure(&patches(&mail)[0], "error: corrupt patch at line 8\n");
        assert!(msg.contains("is corrupt at line 8 of the patch as decoded from the mail"), "{msg}");
    }

    #[test]
    fn hunk_headers_give_both_ranges_with_counts_of_one_left_out() {
        assert_eq!(hunk_ranges("@@ -1418 +1418 @@ static int f"), Some(((1418, 1), (1418, 1))));
        assert_eq!(hunk_ranges("@@ -3,0 +4,2 @@"), Some(((3, 0), (4, 2))));
        assert_eq!(hunk_ranges("@@@ -1 -1 +1 @@@"), None);
    }

    #[test]
    fn changed_lines_are_the_removed_ones_before_and_the_added_ones_after() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for (dir, text) in [(&a, "a\nb\nc\n"), (&b, "a\nB\nc\nd\n")] {
            std::fs::create_dir_all(dir.path().join("mm")).unwrap();
            std::fs::write(dir.path().join("mm/util.c"), text).unwrap();
        }
        let at = |side, line| ChangedLine { file: "mm/util.c".into(), side, line };
        assert_eq!(
            changed_lines(a.path(), b.path(), &["mm/util.c".into()]).unwrap(),
            vec![at(Side::Before, 2), at(Side::After, 2), at(Side::After, 4)]
        );
    }

    #[test]
    fn a_hunk_whose_context_is_missing_is_named() {
        let p = &patches(PATCH)[0];
        let msg = explain_failure(p, "error: patch failed: mm/util.c:3\nerror: mm/util.c: patch does not apply\n");
        assert_eq!(
            msg,
            "the patch does not apply: hunk `@@ -3,3 +3,3 @@` of mm/util.c (line 5 of the input): \
             its context is not in this tree"
        );
    }

    /// A quilt diff names its file on a `+++ a/` line.
    #[test]
    fn a_quilt_hunk_whose_context_is_missing_is_named() {
        let quilt =
            "--- a/mm/util.c~fix\n+++ a/mm/util.c\n@@ -3,3 +3,3 @@ int f(void)\n {\n-\treturn a;\n+\treturn b;\n }\n";
        let msg = explain_failure(&patches(quilt)[0], "error: patch failed: mm/util.c:3\n");
        assert!(msg.contains("hunk `@@ -3,3 +3,3 @@` of mm/util.c (line 3 of the input)"), "{msg}");
    }

    #[test]
    fn an_error_of_the_patched_side_names_the_side_and_the_kernel_file_not_the_overlay() {
        let overlay = Path::new("/tmp/mmharness-overlay-Ab12Cd");
        let e = anyhow::anyhow!(
            "compiling the extracted code failed for /tmp/mmharness-overlay-Ab12Cd:\n\
             /tmp/mmharness-overlay-Ab12Cd/mm/util.c:1400:2: error: #error planted"
        )
        .context("building /tmp/mmharness-overlay-Ab12Cd");
        assert_eq!(
            on_side(e, overlay, "the tree with the patch applied").to_string(),
            "the tree with the patch applied: compiling the extracted code failed:\n\
             mm/util.c:1400:2: error: #error planted"
        );
    }

    /// The default tree is a package unpacked in part: a patch to a file it
    /// leaves out cannot be judged there, and the reader is told.
    #[test]
    fn a_patch_touching_files_a_partial_tree_lacks_is_told_so() {
        let place = tempfile::tempdir().unwrap();
        let root = place.path().join("tree");
        std::fs::create_dir_all(root.join("mm")).unwrap();
        let record = serde_json::json!({
            "package": "linux-source-7.3", "version": "7.3.4-1", "sha256": "", "deb": "",
            "paths": ["Makefile", "include", "mm"], "files": {}
        });
        std::fs::write(place.path().join("manifest.json"), record.to_string()).unwrap();
        let doc = PATCH.replace("mm/util.c", "Documentation/mm/x.rst");
        let p = patches(&format!("{PATCH}{doc}"));
        let partial = partial_tree(&root, &p).unwrap();
        assert_eq!(
            (partial.package.as_str(), partial.missing),
            ("linux-source-7.3", vec!["Documentation/mm/x.rst".to_string()])
        );
        assert_eq!(partial_tree(&root, &patches(PATCH)), None, "a patch within the tree");
        assert_eq!(partial_tree(place.path(), &p), None, "not a tree unpacked from a package");
    }

    #[test]
    fn a_series_whose_second_patch_builds_on_the_first_applies() {
        let tree = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tree.path().join("mm")).unwrap();
        std::fs::write(tree.path().join("mm/util.c"), "a\nb\nint f(void)\n{\n\treturn a;\n}\n").unwrap();
        let second = PATCH.replace("-\treturn a;\n+\treturn b;", "-\treturn b;\n+\treturn c;");
        let p: Vec<Patch> = patches(PATCH).into_iter().chain(patches(&second)).collect();
        let (overlay, how) = apply(tree.path(), &p, &[]).unwrap();
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
        let (overlay, _) = apply(tree.path(), &patches(new_file), &[]).unwrap();
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
        let (overlay, how) = apply(tree.path(), &p, &[]).unwrap();
        assert_eq!(how, Applied::Forward { whitespace_fallback: false });
        assert!(std::fs::read_to_string(overlay.path().join("mm/util.c")).unwrap().contains("return b;"));
        assert!(std::fs::read_to_string(tree.path().join("mm/util.c")).unwrap().contains("return a;"));
        // The same patch on the patched file: it is already there.
        let (_, how) = apply(overlay.path(), &p, &[]).unwrap();
        assert_eq!(how, Applied::Reverted { whitespace_fallback: false });
    }
}
