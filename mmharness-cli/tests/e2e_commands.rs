//! The end-to-end mode of `diff`, `bisect-run` and `review`, with their exit
//! codes, on the default tree and on a copy with a regression planted in
//! mm/vma.c: mapped() run on a merge too.

use mmharness_build::fetch;
use mmharness_build::overlay::Overlay;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

fn tree_7_3() -> PathBuf {
    mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root
}

fn mmharness(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn diff_e2e_of_a_tree_with_itself_exits_0() {
    let t = tree_7_3();
    let t = t.to_str().unwrap();
    let o = mmharness(&["diff", "--e2e", t, t]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("no end-to-end row differs ("), "{}", text(&o));
}

/// __mmap_region's guard of mmap_action_complete(), and the planted one
/// without its second half: mapped() then runs on a merge too.
const GUARD: &str = "\tif (have_mmap_prepare && allocated_new) {";
const PLANTED: &str = "\tif (have_mmap_prepare) {";

fn planted(t: &Path) -> Overlay {
    let vma = std::fs::read_to_string(t.join("mm/vma.c")).unwrap();
    let guard = format!("{GUARD}\n\t\terror = mmap_action_complete(");
    assert!(vma.contains(&guard), "mm/vma.c's __mmap_region as 7.3 has it");
    let planted = vma.replacen(&guard, &format!("{PLANTED}\n\t\terror = mmap_action_complete("), 1);
    Overlay::new(t, &[("mm/vma.c", &planted)]).unwrap()
}

#[test]
fn diff_e2e_names_the_merge_entry_a_planted_mapped_on_merge_breaks() {
    let t = tree_7_3();
    let overlay = planted(&t);
    let o = mmharness(&["diff", "--e2e", "-k", "merge", t.to_str().unwrap(), overlay.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("e2e::e2e_merge_into_the_previous_vma_skips_mapped: before: as the catalogue expects"),
        "{out}"
    );
    assert!(out.contains("after: NOT as the catalogue expects (ret 4202496 map_count 1 mapped 1"), "{out}");
}

#[test]
fn diff_e2e_with_a_filter_that_names_no_row_is_an_error() {
    let t = tree_7_3();
    let t = t.to_str().unwrap();
    let o = mmharness(&["diff", "--e2e", "-k", "no-such-row", t, t]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("-k/--filter \"no-such-row\" names no end-to-end row"), "{}", text(&o));
}

#[test]
fn bisect_run_e2e_is_good_on_the_tree_and_bad_on_the_planted_copy() {
    let t = tree_7_3();
    let overlay = planted(&t);
    let step = |tree: &Path| Command::new(BIN).args(["bisect-run", "--e2e"]).env("KERNEL_SRC", tree).output().unwrap();
    let good = step(&t);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good));
    let bad = step(overlay.path());
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    let out = String::from_utf8_lossy(&bad.stderr);
    let verdict = out.lines().find(|l| l.starts_with("bisect-run: bad: Linux ")).unwrap_or_else(|| panic!("{out}"));
    assert!(verdict.ends_with(": e2e::e2e_merge_into_the_previous_vma_skips_mapped"), "{out}");
}

/// A unified diff of one changed line of `path`, three lines of context.
fn one_line_patch(path: &str, text: &str, old: &str, new: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let k = lines.iter().position(|l| *l == old).expect("the line to change");
    let ctx = |r: std::ops::Range<usize>| lines[r].iter().map(|l| format!(" {l}\n")).collect::<String>();
    format!(
        "From: A Tester <tester@example.org>\nSubject: [PATCH] mm/vma: call mmap_action_complete() on a merge\n\n---\n\
         diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -{n},7 +{n},7 @@\n{}-{old}\n+{new}\n{}",
        ctx(k - 3..k),
        ctx(k + 1..k + 4),
        n = k - 2,
    )
}

#[test]
fn review_e2e_of_a_patch_planting_mapped_on_merge_exits_1_and_names_the_entry() {
    let t = tree_7_3();
    let vma = std::fs::read_to_string(t.join("mm/vma.c")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let patch = dir.path().join("plant.patch");
    std::fs::write(&patch, one_line_patch("mm/vma.c", &vma, GUARD, PLANTED)).unwrap();
    let o =
        mmharness(&["review", "--e2e", "-k", "merge_into", patch.to_str().unwrap(), "--kernel", t.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.starts_with("e2e::e2e_merge_into_the_previous_vma_skips_mapped: before: as the catalogue expects"),
        "{out}"
    );
}
