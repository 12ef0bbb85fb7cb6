//! Running the end-to-end mode: every end-to-end entry (or those whose names
//! contain a filter) and the kernel's own tools/testing/vma tests, in one
//! end-to-end runner, each a row with its own name; as a table, KTAP or JSON.

use crate::catalogue::applicable;
use crate::e2e_catalogue::{e2e_catalogue, E2eEntry};
use crate::mapping::{self, MappingOutcome};
use mmharness_build::e2e::E2eArtifact;
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    /// The fields that differ from the catalogue, in words.
    Fail {
        differences: String,
    },
    /// The runner crashed, aborted or hung: a finding about the kernel code.
    Crash {
        report: String,
    },
    /// Nothing was judged: the runner could not start, or the scenario is wrong.
    Error {
        message: String,
    },
    /// The tree cannot express the entry, or the mode does not apply to it.
    NotApplicable {
        reason: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct E2eRow {
    /// `e2e::<entry>` or `vma::<kernel test>`.
    pub name: String,
    #[serde(flatten)]
    pub verdict: Verdict,
    pub got: Option<MappingOutcome>,
}

impl E2eRow {
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    /// Not as the catalogue expects: a difference, a crash or an error.
    pub fn failed(&self) -> bool {
        !matches!(self.verdict, Verdict::Pass | Verdict::NotApplicable { .. })
    }
}

fn selected(name: &str, filters: &[String]) -> bool {
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

/// Runs the selected entries and kernel tests in the artifact's runner; an
/// entry needing what the tree lacks is not applicable, with what it lacks.
/// Two runner processes at a time, the kernel's tests first (the longest),
/// rows in catalogue order then the kernel's.
pub fn run(art: &E2eArtifact, filters: &[String]) -> Vec<E2eRow> {
    let runner = art.runner();
    let entries: Vec<E2eEntry> = e2e_catalogue().into_iter().filter(|e| selected(e.name, filters)).collect();
    let jobs: Vec<Option<&E2eEntry>> = std::iter::once(None).chain(entries.iter().map(Some)).collect();
    let mut done = two_at_a_time(&jobs, |job| match job {
        None => kernel_rows(&runner, filters),
        Some(e) => vec![entry_row(art, &runner, e)],
    });
    let kernel = done.remove(0);
    done.into_iter().flatten().chain(kernel).collect()
}

fn entry_row(art: &E2eArtifact, runner: &Path, e: &E2eEntry) -> E2eRow {
    let name = format!("e2e::{}", e.name);
    if let Err(reason) = applicable(e.requires, &art.manifest.capabilities) {
        return E2eRow { name, verdict: Verdict::NotApplicable { reason }, got: None };
    }
    match mapping::run(runner, &e.mapping) {
        Ok(got) => {
            let verdict = match e.expected.check(&got) {
                Ok(()) => Verdict::Pass,
                Err(d) => Verdict::Fail { differences: format!("{d}\nwhy: {}", e.why) },
            };
            E2eRow { name, verdict, got: Some(got) }
        }
        Err(err) => not_run(name, err),
    }
}

/// `f` of each job, on two threads (each job waits on a process), in order.
fn two_at_a_time<J: Sync, T: Send>(jobs: &[J], f: impl Fn(&J) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<T>>> = Mutex::new(jobs.iter().map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(job) = jobs.get(i) else { break };
                let done = f(job);
                out.lock().expect("no job panics holding it")[i] = Some(done);
            });
        }
    });
    out.into_inner().expect("the threads are done").into_iter().map(|t| t.expect("every job ran")).collect()
}

/// The selected entries' rows on a tree the mode does not apply to: each
/// not applicable, with the reason read from the tree.
pub fn not_applicable(reason: &str, filters: &[String]) -> Vec<E2eRow> {
    e2e_catalogue()
        .into_iter()
        .filter(|e| selected(e.name, filters))
        .map(|e| E2eRow {
            name: format!("e2e::{}", e.name),
            verdict: Verdict::NotApplicable { reason: format!("not applicable: {reason}") },
            got: None,
        })
        .collect()
}

/// A row that ran to no outcome: a crash of the kernel code is a finding,
/// anything else an error of the run.
fn not_run(name: String, err: mapping::E2eError) -> E2eRow {
    let verdict = match err {
        mapping::E2eError::Crashed { .. } => Verdict::Crash { report: err.to_string() },
        _ => Verdict::Error { message: err.to_string() },
    };
    E2eRow { name, verdict, got: None }
}

fn kernel_rows(runner: &Path, filters: &[String]) -> Vec<E2eRow> {
    match mapping::kernel_vma_tests(runner) {
        Ok(tests) => tests
            .into_iter()
            .map(|t| (format!("vma::{}", t.name), t.passed))
            .filter(|(name, _)| selected(name, filters))
            .map(|(name, passed)| {
                let verdict = if passed {
                    Verdict::Pass
                } else {
                    Verdict::Fail { differences: "tools/testing/vma's own assertion failed".into() }
                };
                E2eRow { name, verdict, got: None }
            })
            .collect(),
        Err(e) => vec![not_run("vma".into(), e)],
    }
}

/// One line per row: the verdict, the name, and for an entry what the
/// mapping returned and how many VMAs the tree holds after it.
pub fn terminal(kernel_version: &str, rows: &[E2eRow]) -> String {
    let mut out = format!("end to end, Linux {kernel_version}\n");
    for r in rows {
        let verdict = match &r.verdict {
            Verdict::Pass => "ok",
            Verdict::Fail { .. } => "FAIL",
            Verdict::Crash { .. } => "CRASH",
            Verdict::Error { .. } => "ERROR",
            Verdict::NotApplicable { .. } => "n/a",
        };
        let got = r.got.as_ref().map_or(String::new(), |o| {
            format!("  ret {} map_count {} mapped {} rmap {:?}", o.ret, o.map_count, o.mapped_calls, o.rmap.depths)
        });
        out.push_str(&format!("{verdict:5} {}{got}\n", r.name));
        if let Verdict::Fail { differences: d }
        | Verdict::Crash { report: d }
        | Verdict::Error { message: d }
        | Verdict::NotApplicable { reason: d } = &r.verdict
        {
            out.extend(d.lines().map(|l| format!("      {l}\n")));
        }
    }
    let passed = rows.iter().filter(|r| r.passed()).count();
    let na = rows.iter().filter(|r| matches!(r.verdict, Verdict::NotApplicable { .. })).count();
    out.push_str(&format!("{passed} of {} passed, {na} not applicable\n", rows.len()));
    out
}

/// KTAP version 1: a plan, a result line per row, diagnostics as `#` lines.
pub fn ktap(rows: &[E2eRow]) -> String {
    let mut out = format!("KTAP version 1\n1..{}\n", rows.len());
    for (i, r) in rows.iter().enumerate() {
        if let Verdict::Fail { differences: d } | Verdict::Crash { report: d } | Verdict::Error { message: d } =
            &r.verdict
        {
            out.extend(d.lines().map(|l| format!("# {l}\n")));
        }
        let skip = match &r.verdict {
            Verdict::NotApplicable { reason } => format!(" # SKIP {reason}"),
            _ => String::new(),
        };
        out.push_str(&format!("{} {} {}{skip}\n", if r.failed() { "not ok" } else { "ok" }, i + 1, r.name));
    }
    out
}

/// What changed from `before` to `after`, one line per row whose verdict
/// or outcome differs, or that only one side has.
pub fn differences(before: &[E2eRow], after: &[E2eRow]) -> Vec<String> {
    let show = |r: Option<&E2eRow>| match r {
        None => "absent".to_string(),
        Some(r) => {
            let got = r.got.as_ref().map_or(String::new(), |o| {
                let (ret, count, mapped) = (o.ret, o.map_count, o.mapped_calls);
                format!(" (ret {ret} map_count {count} mapped {mapped} vmas {:x?} rmap {:?})", o.vmas, o.rmap.depths)
            });
            let verdict = match &r.verdict {
                Verdict::Pass => "as the catalogue expects",
                Verdict::NotApplicable { .. } => "not applicable",
                _ => "NOT as the catalogue expects",
            };
            format!("{verdict}{got}")
        }
    };
    let mut names: Vec<&str> = before.iter().chain(after).map(|r| r.name.as_str()).collect();
    names.dedup();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| {
            let (b, a) = (before.iter().find(|r| r.name == n), after.iter().find(|r| r.name == n));
            let same = matches!((b, a), (Some(b), Some(a)) if b.verdict == a.verdict && b.got == a.got);
            (!same).then(|| format!("{n}: before: {}\n    after: {}", show(b), show(a)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ktap_numbers_rows_and_gives_the_differences_of_a_failure() {
        let rows = vec![
            E2eRow { name: "vma::merge_new".into(), verdict: Verdict::Pass, got: None },
            E2eRow {
                name: "e2e::x".into(),
                verdict: Verdict::Fail { differences: "ret: expected 0, got -11".into() },
                got: None,
            },
        ];
        assert_eq!(
            ktap(&rows),
            "KTAP version 1\n1..2\nok 1 vma::merge_new\n# ret: expected 0, got -11\nnot ok 2 e2e::x\n"
        );
    }
}
