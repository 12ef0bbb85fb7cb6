//! A reviewer's check of a one-patch mail on a tree already in the cache:
//! `mmharness review MAIL`, both sides' artifacts built once beforehand, so
//! what is timed is what a reviewer waits for on a second look (reading the
//! mail, the overlay, planning both sides, running the catalogue twice,
//! comparing). `cargo bench --bench review`; the goal is at most 2 s on
//! 2 cores. The patch is made from the default tree's own text at run time.

use mmharness_build::fetch;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const REPEAT: usize = 5;
const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

/// A mail with one git-format patch that passes `vm_ops->mapped()` the
/// VMA's start as its end: a change of behaviour the review must report.
fn mail(tree: &Path) -> String {
    let text = std::fs::read_to_string(tree.join("mm/util.c")).unwrap();
    let (at, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("->mapped(vma->vm_start, vma->vm_end"))
        .expect("the call of mapped()");
    let context: Vec<&str> = text.lines().skip(at - 3).take(7).collect();
    let mut hunk = format!("@@ -{},7 +{},7 @@\n", at - 2, at - 2);
    for (i, l) in context.iter().enumerate() {
        if i == 3 {
            hunk.push_str(&format!("-{l}\n+{}\n", line.replacen("vma->vm_end", "vma->vm_start", 1)));
        } else {
            hunk.push_str(&format!(" {l}\n"));
        }
    }
    format!(
        "From: A Reviewer <r@example.org>\nSubject: [PATCH] mm: a page offset one too high\n\n---\n\
         diff --git a/mm/util.c b/mm/util.c\n--- a/mm/util.c\n+++ b/mm/util.c\n{hunk}-- \n2.47.0\n"
    )
}

fn review(mail: &Path, tree: &Path, cache: &Path) -> Duration {
    let t = Instant::now();
    let out = Command::new(BIN)
        .arg("review")
        .arg(mail)
        .arg("--kernel")
        .arg(tree)
        .env("MMHARNESS_CACHE", cache)
        .env_remove("MMHARNESS_SANITIZE")
        .output()
        .expect("spawn");
    let d = t.elapsed();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the review must report the change: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

fn main() {
    let tree = mmharness_build::fetched(fetch::DEFAULT_SERIES).expect("the default tree").root;
    let scratch = tempfile::tempdir().unwrap();
    let cache = scratch.path().join("cache");
    let path = scratch.path().join("one-patch.mbox");
    std::fs::write(&path, mail(&tree)).unwrap();
    let first = review(&path, &tree, &cache);
    let mut times: Vec<Duration> = (0..REPEAT).map(|_| review(&path, &tree, &cache)).collect();
    times.sort();
    println!("## `mmharness review` of a one-patch mail (Linux default tree)\n");
    println!("| first (both sides built) | cached (median of {REPEAT}) |\n|---|---|");
    println!("| {:.3} s | {:.3} s |", first.as_secs_f64(), times[REPEAT / 2].as_secs_f64());
}
