//! Which kernel lines the catalogue runs, and which scenarios run each.
//!
//! A coverage artifact (gcc `--coverage`, its own cache key) runs the
//! scenarios one by one; its runner writes each scenario's counts to a file
//! of their own (`csrc/runner.c`), and gcov reads them all in one run. gcov
//! names lines by the unit's `#line` directives, so they come out as the
//! kernel's own files and lines (`mm/util.c:1418`), with nothing to map.

use crate::backend::Runner;
use crate::catalogue::Entry;
use crate::review::{ChangedLine, Side};
use crate::suite::{self, Row};
use anyhow::{bail, Context, Result};
use mmharness_build::artifact::{self, Manifest, Options};
use mmharness_build::extract::Extracted;
use mmharness_build::plan::Plan;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Raised when a field of `coverage --json` changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

/// A line gcc made code for, and the scenarios that ran it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LineRun {
    pub line: usize,
    pub scenarios: Vec<&'static str>,
}

/// One extracted definition and its lines.
#[derive(Debug, Clone, Serialize)]
pub struct Function {
    pub name: String,
    pub file: String,
    pub start_line: usize,
    pub end_line: usize,
    pub lines_total: usize,
    pub lines_executed: usize,
    pub not_executed: Vec<usize>,
    pub lines: Vec<LineRun>,
}

/// One tree's coverage by the scenarios run.
#[derive(Debug, Serialize)]
pub struct Coverage {
    pub schema_version: u32,
    pub tree: PathBuf,
    pub kernel_version: String,
    /// The coverage artifact's cache key.
    pub artifact: String,
    /// The scenarios whose counts were read.
    pub scenarios_run: Vec<&'static str>,
    /// Scenarios that ran and left no counts: a crash ends the runner
    /// before it writes them.
    pub no_counts: Vec<&'static str>,
    /// Scenarios whose outcome in the coverage build is not what the
    /// catalogue expects (`table` says how).
    pub differ: Vec<&'static str>,
    pub functions: Vec<Function>,
    pub lines_total: usize,
    pub lines_executed: usize,
}

/// Where a kernel line stands in one tree's coverage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "scenarios", rename_all = "snake_case")]
pub enum Reach {
    /// Not in any extracted definition.
    Outside,
    /// In an extracted definition, but gcc made no code for it (a
    /// comment, a blank, a declaration, a branch of `#if` not compiled).
    NoCode,
    /// Code that the scenarios run (none: not exercised).
    Ran(Vec<&'static str>),
}

impl Coverage {
    pub fn at(&self, file: &str, line: usize) -> Reach {
        let Some(f) = self.functions.iter().find(|f| f.file == file && (f.start_line..=f.end_line).contains(&line))
        else {
            return Reach::Outside;
        };
        match f.lines.iter().find(|l| l.line == line) {
            Some(l) => Reach::Ran(l.scenarios.clone()),
            None => Reach::NoCode,
        }
    }
}

/// One document of `gcov --json-format --stdout`: one per counts file.
#[derive(Deserialize)]
struct GcovDoc {
    data_file: String,
    files: Vec<GcovFile>,
}

#[derive(Deserialize)]
struct GcovFile {
    file: String,
    lines: Vec<GcovLine>,
}

#[derive(Deserialize)]
struct GcovLine {
    line_number: usize,
    count: u64,
}

/// The lines of each counts file, by file and line: each document's
/// `data_file`, with the lines it ran (`count` above zero) and the lines
/// gcc made code for.
type Counts = BTreeMap<String, BTreeMap<(String, usize), u64>>;

/// gcov's JSON documents, one after the other as `--stdout` writes them.
fn parse_gcov(stdout: &[u8]) -> Result<Counts> {
    let mut out = Counts::new();
    for doc in serde_json::Deserializer::from_slice(stdout).into_iter::<GcovDoc>() {
        let doc = doc.context("reading gcov's JSON output")?;
        let lines = out.entry(doc.data_file).or_default();
        for f in doc.files {
            for l in f.lines {
                *lines.entry((f.file.clone(), l.line_number)).or_default() += l.count;
            }
        }
    }
    Ok(out)
}

/// Runs gcov on counts files (each beside a `tu.gcno`), in one run.
fn gcov(dir: &Path, data: &[PathBuf]) -> Result<Counts> {
    let mut cmd = std::process::Command::new(artifact::gcov()?);
    cmd.args(["--json-format", "--stdout"]).args(data).current_dir(dir);
    let done = mmharness_build::process::exchange(&mut cmd, b"", Duration::from_secs(120))
        .context("running gcov (it ships with gcc)")?;
    match done.status {
        Some(s) if s.success() => parse_gcov(&done.stdout),
        Some(s) => bail!("gcov failed ({s}): {}", done.stderr_tail.trim()),
        None => bail!("gcov did not finish within 120 s and was killed"),
    }
}

/// The extracted functions with, for each line gcc made code for, the
/// scenarios (by counts file) that ran it. `notes` is the counts-free
/// document, which lists every line with code.
fn functions(
    extracted: &[Extracted],
    counts: &Counts,
    notes: &str,
    names: &BTreeMap<String, &'static str>,
) -> Vec<Function> {
    let code: BTreeSet<&(String, usize)> = counts.get(notes).map(|m| m.keys().collect()).unwrap_or_default();
    let mut ran: BTreeMap<&(String, usize), Vec<&'static str>> = BTreeMap::new();
    for (data, lines) in counts {
        let Some(name) = names.get(data) else { continue };
        for (at, _) in lines.iter().filter(|(_, &n)| n > 0) {
            ran.entry(at).or_default().push(name);
        }
    }
    extracted
        .iter()
        .map(|x| {
            let lines: Vec<LineRun> = code
                .iter()
                .filter(|(file, line)| *file == x.file && (x.line..=x.end_line).contains(line))
                .map(|at| LineRun { line: at.1, scenarios: ran.get(at).cloned().unwrap_or_default() })
                .collect();
            let not_executed: Vec<usize> = lines.iter().filter(|l| l.scenarios.is_empty()).map(|l| l.line).collect();
            Function {
                name: x.name.clone(),
                file: x.file.clone(),
                start_line: x.line,
                end_line: x.end_line,
                lines_total: lines.len(),
                lines_executed: lines.len() - not_executed.len(),
                not_executed,
                lines,
            }
        })
        .collect()
}

/// Builds the coverage artifact of a planned tree (sanitized if the plan
/// is), runs `entries` in it one by one, and reads what each ran. Returns
/// the rows too: a scenario that crashed says so there.
pub fn run(plan: Plan, cache: &Path, entries: &[Entry]) -> Result<(Coverage, Vec<Row>)> {
    let root = plan.tree.root.clone();
    let art = artifact::from_plan(plan, &Options::runner_only(cache.to_path_buf()).covered(true))
        .with_context(|| format!("building {} for coverage", root.display()))?;
    let scratch = tempfile::tempdir().context("making a directory for the coverage counts")?;
    let dir = scratch.path();
    // The counts file's name is the unit's object, under a build directory
    // long gone: its directories are stripped and the file goes to `dir`.
    let mut runner = Runner::for_artifact(&art).with_env("GCOV_PREFIX", dir).with_env("GCOV_PREFIX_STRIP", "4096");
    let written = dir.join("tu.gcda");
    let place = |name: &str| -> Result<PathBuf> {
        let d = dir.join(name);
        std::fs::create_dir(&d)?;
        std::os::unix::fs::symlink(art.coverage_notes(), d.join("tu.gcno"))?;
        Ok(d.join("tu.gcda"))
    };
    // No counts file for it: gcov lists every line with code, none run.
    let notes = place("notes").context("placing gcc's notes")?;
    let (mut rows, mut data, mut names) = (Vec::new(), vec![notes.clone()], BTreeMap::new());
    let (mut scenarios_run, mut no_counts) = (Vec::new(), Vec::new());
    for (i, e) in entries.iter().enumerate() {
        let row = suite::run_entry(&mut runner, e)?;
        if row.outcome.is_some() {
            if written.is_file() {
                let to = place(&i.to_string()).context("keeping a scenario's counts")?;
                std::fs::rename(&written, &to).context("keeping a scenario's counts")?;
                names.insert(to.display().to_string(), e.name);
                data.push(to);
                scenarios_run.push(e.name);
            } else {
                no_counts.push(e.name);
            }
        }
        rows.push(row);
    }
    drop(runner);
    let counts = gcov(dir, &data)?;
    let functions = functions(&art.manifest.extracted, &counts, &notes.display().to_string(), &names);
    let differ = rows.iter().filter(|r| matches!(r.status, suite::Status::Fail { .. })).map(|r| r.name).collect();
    Ok((of(&art.manifest, scenarios_run, no_counts, differ, functions), rows))
}

fn of(
    m: &Manifest,
    scenarios_run: Vec<&'static str>,
    no_counts: Vec<&'static str>,
    differ: Vec<&'static str>,
    functions: Vec<Function>,
) -> Coverage {
    Coverage {
        differ,
        schema_version: SCHEMA_VERSION,
        tree: m.tree.clone(),
        kernel_version: m.kernel_version.clone(),
        artifact: m.key.clone(),
        scenarios_run,
        no_counts,
        lines_total: functions.iter().map(|f| f.lines_total).sum(),
        lines_executed: functions.iter().map(|f| f.lines_executed).sum(),
        functions,
    }
}

/// A changed line of a patch and where it stands in its side's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct PatchLine {
    #[serde(flatten)]
    pub at: ChangedLine,
    pub reach: Reach,
}

/// Which of a patch's changed lines the catalogue runs, on which side,
/// and by which scenarios.
#[derive(Debug, Serialize)]
pub struct PatchCoverage {
    pub lines: Vec<PatchLine>,
    /// Changed lines with code in the extract that no scenario ran, as `file:line`.
    pub not_exercised: Vec<String>,
    /// Scenarios that ran and left no counts, on each side.
    pub no_counts_before: Vec<&'static str>,
    pub no_counts_after: Vec<&'static str>,
}

/// Runs `entries` on the coverage artifacts of both sides and places each
/// changed line in the coverage of its side.
pub fn of_patch(
    before: Plan,
    after: Plan,
    changed: Vec<ChangedLine>,
    cache: &Path,
    entries: &[Entry],
) -> Result<PatchCoverage> {
    if changed.is_empty() {
        return Ok(PatchCoverage {
            lines: Vec::new(),
            not_exercised: Vec::new(),
            no_counts_before: Vec::new(),
            no_counts_after: Vec::new(),
        });
    }
    let (b, _) = run(before, cache, entries)?;
    let (a, _) = run(after, cache, entries)?;
    let lines: Vec<PatchLine> = changed
        .into_iter()
        .map(|at| {
            let side = if at.side == Side::Before { &b } else { &a };
            PatchLine { reach: side.at(&at.file, at.line), at }
        })
        .collect();
    // A line changed in place is one line on each side: named once.
    let not_exercised: BTreeSet<(&str, usize)> =
        lines.iter().filter(|l| l.reach == Reach::Ran(Vec::new())).map(|l| (l.at.file.as_str(), l.at.line)).collect();
    let not_exercised = not_exercised.into_iter().map(|(f, l)| format!("{f}:{l}")).collect();
    Ok(PatchCoverage { lines, not_exercised, no_counts_before: b.no_counts, no_counts_after: a.no_counts })
}

/// How many scenario names a line of text shows; `--json` has them all.
const NAMES_SHOWN: usize = 4;

fn reach_text(r: &Reach) -> String {
    match r {
        Reach::Outside => "outside the extracted code".into(),
        Reach::NoCode => "no code (gcc made none for it)".into(),
        Reach::Ran(s) if s.is_empty() => "not exercised by any scenario".into(),
        Reach::Ran(s) => {
            let more = s.len().saturating_sub(NAMES_SHOWN);
            let shown = s[..s.len().min(NAMES_SHOWN)].join(", ");
            let tail = if more > 0 { format!(", and {more} more") } else { String::new() };
            format!("ran by {} scenario{}: {shown}{tail}", s.len(), if s.len() == 1 { "" } else { "s" })
        }
    }
}

/// The changed lines, adjacent lines that stand alike as one range.
pub fn patch_terminal(p: &PatchCoverage) -> String {
    let mut s = String::from("changed lines, and the scenarios that ran them (gcc --coverage, read by gcov):\n");
    if p.lines.is_empty() {
        s.push_str("  none in the files the build reads\n");
    }
    let mut i = 0;
    while i < p.lines.len() {
        let first = &p.lines[i];
        let mut j = i;
        while let Some(next) = p.lines.get(j + 1) {
            let alike = next.at.file == first.at.file && next.at.side == first.at.side && next.reach == first.reach;
            if !alike || next.at.line != p.lines[j].at.line + 1 {
                break;
            }
            j += 1;
        }
        let lines =
            if j == i { first.at.line.to_string() } else { format!("{}-{}", first.at.line, p.lines[j].at.line) };
        let side = if first.at.side == Side::Before { "before" } else { "after" };
        s.push_str(&format!("  {side:6} {}:{lines}  {}\n", first.at.file, reach_text(&first.reach)));
        i = j + 1;
    }
    for (side, names) in [("before", &p.no_counts_before), ("after", &p.no_counts_after)] {
        if !names.is_empty() {
            s.push_str(&format!("no counts {side} the patch (the scenario ended the runner): {}\n", names.join(" ")));
        }
    }
    if !p.not_exercised.is_empty() {
        // A crash leaves no counts: the crashed scenario may have run them.
        let unless = if p.no_counts_before.is_empty() && p.no_counts_after.is_empty() {
            ""
        } else {
            " (unless by a scenario that left no counts, named above)"
        };
        s.push_str(&format!("not exercised: {}{unless}\n", p.not_exercised.join(" ")));
    }
    s
}

/// Line numbers as ranges: `1466-1468 1470`.
pub fn ranges(lines: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut j = i;
        while j + 1 < lines.len() && lines[j + 1] == lines[j] + 1 {
            j += 1;
        }
        out.push(if j == i { lines[i].to_string() } else { format!("{}-{}", lines[i], lines[j]) });
        i = j + 1;
    }
    out.join(" ")
}

fn percent(n: usize, of: usize) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * n as f64 / of as f64)
    }
}

/// Per-function line coverage, as a table.
pub fn terminal(c: &Coverage) -> String {
    let mut s = format!(
        "coverage of Linux {} at {} by {} scenario(s) (gcc --coverage, read by gcov)\n",
        c.kernel_version,
        c.tree.display(),
        c.scenarios_run.len()
    );
    if !c.differ.is_empty() {
        s.push_str(&format!("not as the catalogue expects (see `mmharness table`): {}\n", c.differ.join(" ")));
    }
    if !c.no_counts.is_empty() {
        s.push_str(&format!("no counts (the scenario ended the runner): {}\n", c.no_counts.join(" ")));
    }
    let place = |f: &Function| format!("{}:{}-{}", f.file, f.start_line, f.end_line);
    let name_w = c.functions.iter().map(|f| f.name.len()).max().unwrap_or(0).max(8);
    let place_w = c.functions.iter().map(|f| place(f).len()).max().unwrap_or(0).max(5);
    s.push_str(&format!("{:name_w$}  {:place_w$}  {:>9}  not executed\n", "function", "lines", "executed"));
    for f in &c.functions {
        s.push_str(&format!(
            "{:name_w$}  {:place_w$}  {:>9}  {}\n",
            f.name,
            place(f),
            format!("{}/{}", f.lines_executed, f.lines_total),
            ranges(&f.not_executed)
        ));
    }
    s.push_str(&format!(
        "total: {} of {} lines executed ({}) in {} functions\n",
        c.lines_executed,
        c.lines_total,
        percent(c.lines_executed, c.lines_total),
        c.functions.len()
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_numbers_are_shown_as_ranges() {
        assert_eq!(ranges(&[1466, 1467, 1468, 1470, 1480, 1481]), "1466-1468 1470 1480-1481");
        assert_eq!(ranges(&[]), "");
    }

    /// The premise of the whole module: code after `#line N "mm/util.c"`
    /// is counted by gcc, and named by gcov, as `mm/util.c` from line N.
    #[test]
    fn gcov_names_lines_by_the_line_directives() {
        let dir = tempfile::tempdir().unwrap();
        let unit = "int g;\n#line 1400 \"mm/util.c\"\nint f(int err)\n{\n\tif (err)\n\t\treturn err;\n\treturn g;\n}\n\
                    #line 1 \"mmharness/main.c\"\nint main(void) { return f(0); }\n";
        std::fs::write(dir.path().join("tu.c"), unit).unwrap();
        let cc = |args: &[&str]| {
            let ok = std::process::Command::new("cc").args(args).current_dir(dir.path()).status().unwrap();
            assert!(ok.success(), "cc {args:?}");
        };
        cc(&["-O0", "--coverage", "-c", "tu.c", "-o", "tu.o"]);
        cc(&["--coverage", "tu.o", "-o", "tu"]);
        let ran = std::process::Command::new(dir.path().join("tu"))
            .env("GCOV_PREFIX", dir.path())
            .env("GCOV_PREFIX_STRIP", "4096")
            .status()
            .unwrap();
        assert!(ran.success());
        let counts = gcov(dir.path(), &[dir.path().join("tu.gcda")]).unwrap();
        let lines = &counts[&dir.path().join("tu.gcda").display().to_string()];
        let util: Vec<(usize, bool)> =
            lines.iter().filter(|((f, _), _)| f == "mm/util.c").map(|((_, l), n)| (*l, *n > 0)).collect();
        // `int f(int err)` is line 1400; `return err;` (1403) is not run by f(0).
        assert_eq!(util, vec![(1400, true), (1402, true), (1403, false), (1404, true)]);
        assert!(lines.keys().any(|(f, l)| f == "mmharness/main.c" && *l == 1));
    }
}
