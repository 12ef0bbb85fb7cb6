//! `mmharness review` on patches whose lines the build never compiles.

use mmharness_build::fetch;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

/// include/linux/mm.h's `vma_pages` is one of the helpers tools/testing/vma
/// defines itself (include/dup.h): the build compiles that copy, so a patch
/// to the kernel's changes no row. "No difference" alone would read as the
/// patch changing nothing the kernel's `mmap_action_finish` does
/// (`len = vma_pages(vma) << PAGE_SHIFT;`); the review names the line.
#[test]
fn a_patch_to_a_helper_the_tools_headers_define_names_its_line_as_not_compiled() {
    let tree = mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root;
    let text = std::fs::read_to_string(tree.join("include/linux/mm.h")).unwrap();
    let line = text.lines().position(|l| l.starts_with("static inline unsigned long vma_pages(")).unwrap() + 1;
    let body = "\treturn (vma->vm_end - vma->vm_start) >> PAGE_SHIFT;";
    assert_eq!(text.lines().nth(line + 1), Some(body), "vma_pages' body, two lines after its name");
    let patch = format!(
        "diff --git a/include/linux/mm.h b/include/linux/mm.h\n--- a/include/linux/mm.h\n+++ b/include/linux/mm.h\n\
         @@ -{l},4 +{l},4 @@\n {}\n {}\n-{body}\n+\treturn 1;\n }}\n",
        text.lines().nth(line - 1).unwrap(),
        text.lines().nth(line).unwrap(),
        l = line
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.patch"), patch).unwrap();
    let out =
        Command::new(BIN).arg("review").arg(dir.path().join("p.patch")).arg("--kernel").arg(&tree).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.contains("the build does not compile, so no verdict below speaks for them")
            && stdout.contains(&format!("include/linux/mm.h:{}\n", line + 2)),
        "{stdout}"
    );
}

/// mm/mremap.c is not read by the build: a patch only to it has nothing to
/// apply here. "applied", then a tree compared with itself, would read as a
/// verdict on the patch.
#[test]
fn a_patch_to_files_the_build_does_not_read_says_nothing_was_compared() {
    let tree = mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root;
    let text = std::fs::read_to_string(tree.join("mm/mremap.c")).unwrap();
    let first: Vec<&str> = text.lines().take(3).collect();
    let patch = format!(
        "diff --git a/mm/mremap.c b/mm/mremap.c\n--- a/mm/mremap.c\n+++ b/mm/mremap.c\n\
         @@ -1,3 +1,4 @@\n {}\n {}\n {}\n+/* a comment */\n",
        first[0], first[1], first[2]
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.patch"), patch).unwrap();
    let out =
        Command::new(BIN).arg("review").arg(dir.path().join("p.patch")).arg("--kernel").arg(&tree).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "no hunk is on a file the build reads (mm/mremap.c): nothing applied, nothing to compare\n"
    );
}
