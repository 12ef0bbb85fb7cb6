//! The behaviour catalogue on the linked tree (`KERNEL_SRC`, or the default
//! tree): each entry is its own test, `catalogue::<entry name>`, run in the
//! tree's runner, so a crash of the kernel code fails only its entry. With
//! `MMHARNESS_SANITIZE=1` the runner is built with AddressSanitizer and
//! UBSan. An entry the tree cannot express is ignored with what it lacks.

mod harness;
mod linked_runner;

use libtest_mimic::{Failed, Trial};
use mmharness::catalogue::{catalogue, Entry};
use mmharness::expect::Difference;
use mmharness::linked::linked_manifest;

/// What a failing entry prints: its why, the kernel code that decides it,
/// and the fields that differ.
fn failure(e: &Entry, diffs: &[Difference]) -> String {
    let m = linked_manifest();
    let code = m.extracted.iter().find(|x| x.name == e.function()).map_or_else(
        || format!("{}, not among the extracted functions", e.function()),
        |x| format!("{}:{} ({})", x.file, x.line, x.name),
    );
    let fw = diffs.iter().map(|d| d.field.len()).max().unwrap_or(0);
    let ew = diffs.iter().map(|d| d.expected.len()).max().unwrap_or(0);
    let mut lines = vec![format!("why:  {}", e.why), format!("code: {code} of Linux {}", m.kernel_version)];
    lines.extend(diffs.iter().map(|d| format!("{:fw$}  expected {:ew$}  got {}", d.field, d.expected, d.got)));
    lines.join("\n")
}

fn check(e: &Entry) -> Result<(), Failed> {
    let o = linked_runner::run(&e.scenario)?;
    match e.expected.differences(&o) {
        d if d.is_empty() => match e.expected.unpinned(&o) {
            u if u.is_empty() => Ok(()),
            u => {
                Err(format!("the entry calls {} and must pin the arguments in its expected Details", u.join(", "))
                    .into())
            }
        },
        d => Err(failure(e, &d).into()),
    }
}

/// A failure names the kernel code that decides the entry: each why starts
/// with a function extracted from the tree.
fn every_why_starts_with_an_extracted_function() {
    let m = linked_manifest();
    let unknown: Vec<(&str, &str)> = catalogue()
        .iter()
        .filter(|e| e.applicable(&m.capabilities).is_ok())
        .filter(|e| !m.extracted.iter().any(|x| x.name == e.function()))
        .map(|e| (e.name, e.function()))
        .collect();
    assert_eq!(unknown, []);
}

fn main() {
    let mut trials: Vec<Trial> = catalogue()
        .into_iter()
        .map(|e| harness::trial(format!("catalogue::{}", e.name), e.requires, move || check(&e)))
        .collect();
    trials.extend(harness::tests![every_why_starts_with_an_extracted_function]);
    harness::main(trials)
}
