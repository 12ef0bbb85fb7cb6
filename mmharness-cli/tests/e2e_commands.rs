//! `diff --e2e`: the end-to-end rows of two trees, with diff(1)'s exit
//! codes, on the default tree and on a copy with a regression planted in
//! mm/vma.c.

use mmharness_build::fetch;
use mmharness_build::overlay::Overlay;
use std::path::PathBuf;
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

/// mapped() run on a merge too: __mmap_region's "if (have_mmap_prepare &&
/// allocated_new) {" before mmap_action_complete() loses its second half.
#[test]
fn diff_e2e_names_the_merge_entry_a_planted_mapped_on_merge_breaks() {
    let t = tree_7_3();
    let vma = std::fs::read_to_string(t.join("mm/vma.c")).unwrap();
    let guard = "\tif (have_mmap_prepare && allocated_new) {\n\t\terror = mmap_action_complete(";
    assert!(vma.contains(guard), "mm/vma.c's __mmap_region as 7.3 has it");
    let planted = vma.replacen(guard, "\tif (have_mmap_prepare) {\n\t\terror = mmap_action_complete(", 1);
    let overlay = Overlay::new(&t, &[("mm/vma.c", &planted)]).unwrap();
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
