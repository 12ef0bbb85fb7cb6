//! What a user at a terminal meets: `--sanitize` catching what the plain
//! build cannot, `--failed`, `list` and `-k`, KTAP that the kernel's own
//! `kunit.py parse` reads without errors, even around a multi-line crash,
//! and colour and progress on a terminal only (a pseudo-terminal here).

use mmharness_build::overlay::Overlay;
use mmharness_build::tree::Tree;
use mmharness_build::{cache_dir, fetch};
use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_mmharness");

fn tree_7_3() -> Tree {
    Tree::open(&mmharness_build::fetched(fetch::DEFAULT_SERIES).unwrap().root).unwrap()
}

/// A scratch copy of 7.3 whose `call_vma_mapped()` reads the byte past the
/// VMA: harmless to the plain build, a heap-buffer-overflow to ASan.
fn read_past_the_vma(tree: &Tree) -> Overlay {
    let text = std::fs::read_to_string(tree.path("mm/util.c")).unwrap();
    let from = "\tif (!vm_ops || !vm_ops->mapped)\n\t\treturn 0;\n";
    assert_eq!(text.matches(from).count(), 1, "{from:?} once in mm/util.c");
    let to = format!("\terr = *(volatile char *)(vma + 1);\n{from}");
    Overlay::new(&tree.root, &[("mm/util.c", &text.replace(from, &to))]).unwrap()
}

fn mmharness(args: &[&str], kernel: &Path) -> Output {
    Command::new(BIN).args(args).arg("--kernel").arg(kernel).env_remove("MMHARNESS_SANITIZE").output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_read_past_the_vma_in_call_vma_mapped_fails_the_sanitized_table_only() {
    let overlay = read_past_the_vma(&tree_7_3());
    let (plain, sanitized) = (
        mmharness(&["table"], overlay.path()),
        mmharness(&["--sanitize", "table", "--failed", "--wide"], overlay.path()),
    );
    assert_eq!(plain.status.code(), Some(0), "{}", stdout(&plain));
    assert!(stdout(&plain).contains("sanitizers: off"), "{}", stdout(&plain));
    assert!(!stdout(&plain).contains("AddressSanitizer"), "{}", stdout(&plain));
    assert_eq!(sanitized.status.code(), Some(1), "{}", stdout(&sanitized));
    let text = stdout(&sanitized);
    assert!(text.contains("sanitizers: AddressSanitizer and UBSan"), "{text}");
    assert!(text.contains("AddressSanitizer: heap-buffer-overflow"), "{text}");
    // --failed: no row as expected.
    assert!(!text.contains("as expected  "), "{text}");
}

#[test]
fn a_filter_that_names_no_scenario_is_an_error_naming_the_flag() {
    let out = mmharness(&["table", "-k", "no_such_scenario"], &tree_7_3().root);
    assert_eq!(out.status.code(), Some(2), "an error, not a difference");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: -k/--filter \"no_such_scenario\" names no scenario: `mmharness list` prints their names\n"
    );
}

#[test]
fn list_gives_each_selected_scenario_its_deciding_function_and_requirements() {
    let out = Command::new(BIN).args(["list", "-k", "compat_success_still_calls_mapped"]).output().unwrap();
    assert_eq!(
        stdout(&out),
        "compat_success_still_calls_mapped  [requires is_compat, vm_ops_mapped or success_hook]\n    mmap_action_finish: \
         call_vma_mapped() runs on success whether or not the call is compat\n1 scenario\n"
    );
}

/// 7.3 has `vm_ops->mapped` and no hooks: the success check runs there,
/// the entry about the hook itself does not, and `list` says why.
#[test]
fn list_with_a_kernel_says_which_scenarios_run_on_it_and_why_the_others_do_not() {
    let out = mmharness(&["list", "-k", "compat_success", "-k", "success_hook"], &tree_7_3().root);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = stdout(&out);
    let body: Vec<&str> = text.lines().skip_while(|l| !l.starts_with("sanitizers:")).skip(1).collect();
    assert_eq!(
        body,
        [
            "compat_success_still_calls_mapped  [requires is_compat, vm_ops_mapped or success_hook]",
            "    mmap_action_finish: call_vma_mapped() runs on success whether or not the call is compat",
            "failing_success_hook_unmaps_the_vma  [requires success_hook]",
            "    mmap_action_finish (7.1): a success_hook error takes the error path and unmaps; before 7.1 it \
             returned without unmapping",
            "    not applicable: the tree lacks success_hook",
            "2 scenarios: 1 run on this tree, 1 not applicable",
        ]
    );
}

/// tools/testing/kunit of the 7.3 package, unpacked into `dir`: a package
/// an older mmharness kept in the cache, else one downloaded into `dir`
/// (the cache keeps none).
fn kunit_py(dir: &Path) -> Result<std::path::PathBuf, String> {
    if Command::new("python3").arg("--version").output().is_err() {
        return Err("python3 is missing".into());
    }
    let deb = match fetch::kept_package(fetch::DEFAULT_SERIES, &cache_dir()) {
        Some(deb) => deb,
        None => fetch::download_package(fetch::DEFAULT_SERIES, dir).map_err(|e| e.to_string())?,
    };
    let script = "dpkg-deb --fsys-tarfile \"$1\" | tar -xO ./usr/src/linux-source-7.3.tar.xz \
                  | tar -xJ -C \"$2\" linux-source-7.3/tools/testing/kunit";
    let ok = Command::new("sh").args(["-c", script, "sh"]).arg(&deb).arg(dir).status().map_err(|e| e.to_string())?;
    let kunit = dir.join("linux-source-7.3/tools/testing/kunit/kunit.py");
    if !ok.success() || !kunit.exists() {
        return Err(format!("could not unpack tools/testing/kunit from {}", deb.display()));
    }
    Ok(kunit)
}

#[test]
fn ktap_of_a_run_with_multi_line_crash_reports_parses_in_kunit_py_with_no_errors() {
    let scratch = tempfile::tempdir().unwrap();
    let kunit = match kunit_py(scratch.path()) {
        Ok(k) => k,
        Err(why) => return eprintln!("skipped: {why}"),
    };
    let overlay = read_past_the_vma(&tree_7_3());
    let out = mmharness(&["--sanitize", "table", "--ktap"], overlay.path());
    let ktap = scratch.path().join("run.ktap");
    std::fs::write(&ktap, &out.stdout).unwrap();
    assert!(stdout(&out).lines().filter(|l| l.contains("==ERROR: AddressSanitizer")).count() > 1, "{}", stdout(&out));
    let parsed = Command::new("python3").arg(&kunit).arg("parse").arg(&ktap).output().unwrap();
    let text = stdout(&parsed);
    let summary = text.lines().find(|l| l.contains("Testing complete.")).unwrap_or_else(|| panic!("{text}"));
    // kunit.py's count, with no `errors: N`, is the one the KTAP states.
    let totals = stdout(&out).lines().find_map(|l| l.strip_prefix("# Totals: ").map(str::to_string)).unwrap();
    let n = |key: &str| totals.split(' ').find_map(|kv| kv.strip_prefix(key)).unwrap().to_string();
    let expected =
        format!("Ran {} tests: passed: {}, failed: {}, skipped: {}", n("total:"), n("pass:"), n("fail:"), n("skip:"));
    assert!(summary.ends_with(&expected), "{summary} (expected {expected})");
    assert_ne!(n("fail:"), "0", "the planted read fails scenarios");
}

/// What a terminal shows of `mmharness args`, run with its stdout and
/// stderr on a pseudo-terminal of 120 columns, and its exit code.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> (String, Option<i32>) {
    let size = nix::pty::Winsize { ws_row: 40, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0 };
    let pty = nix::pty::openpty(Some(&size), None).unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("NO_COLOR")
        .env_remove("COLUMNS")
        .env_remove("MMHARNESS_SANITIZE")
        .envs(env.iter().copied());
    cmd.stdout(Stdio::from(pty.slave.try_clone().unwrap())).stderr(Stdio::from(pty.slave));
    let mut child = cmd.spawn().unwrap();
    // The command's copies of the terminal's end go: the last close is the
    // child's, and reading then ends (EIO), with all it wrote read.
    drop(cmd);
    let mut shown = Vec::new();
    let _ = std::fs::File::from(pty.master).read_to_end(&mut shown);
    let code = child.wait().unwrap().code();
    (String::from_utf8_lossy(&shown).into_owned(), code)
}

/// The escape sequence that starts a coloured verdict (green, as comfy-table
/// writes it).
const GREEN: &str = "\u{1b}[38;5;10m";

#[test]
fn verdicts_are_coloured_on_a_terminal() {
    let tree = tree_7_3();
    let (shown, code) =
        on_a_terminal(&["--quiet", "table", "-k", "devmem", "--kernel", &tree.root.to_string_lossy()], &[]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains(&format!("{GREEN} as expected ")), "{shown:?}");
}

#[test]
fn no_color_turns_colour_off_on_a_terminal() {
    let tree = tree_7_3();
    let args = ["--quiet", "table", "-k", "devmem", "--kernel", &tree.root.to_string_lossy()];
    let (shown, code) = on_a_terminal(&args, &[("NO_COLOR", "1")]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("as expected"), "{shown}");
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
}

#[test]
fn a_table_into_a_pipe_has_no_colour() {
    let out = mmharness(&["table", "-k", "devmem"], &tree_7_3().root);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("as expected"), "{}", stdout(&out));
    assert!(!stdout(&out).contains('\u{1b}'), "{:?}", stdout(&out));
}

/// An artifact built into an empty scratch cache: the terminal shows the
/// build's progress line, unless `--quiet`.
fn build_on_a_terminal(quiet: bool) -> String {
    let (tree, cache) = (tree_7_3(), tempfile::tempdir().unwrap());
    let mut args = vec!["table", "-k", "devmem", "--kernel"];
    let root = tree.root.to_string_lossy().into_owned();
    args.push(&root);
    if quiet {
        args.insert(0, "--quiet");
    }
    let (shown, code) = on_a_terminal(&args, &[("MMHARNESS_CACHE", &cache.path().to_string_lossy())]);
    assert_eq!(code, Some(0), "{shown}");
    shown
}

#[test]
fn an_artifact_build_shows_its_progress_on_a_terminal() {
    let shown = build_on_a_terminal(false);
    assert!(shown.contains("building the Linux 7.3"), "{shown:?}");
    assert!(shown.contains("artifact: compiling the unit and the runner"), "{shown:?}");
}

#[test]
fn quiet_shows_no_progress_on_a_terminal() {
    let shown = build_on_a_terminal(true);
    assert!(shown.contains("as expected"), "{shown}");
    assert!(!shown.contains("building"), "{shown:?}");
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn diff_names_the_argument_that_is_not_a_kernel_tree() {
    let out = Command::new(BIN).arg("diff").arg(tree_7_3().root).arg("/etc").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "an error, not a difference");
    assert_eq!(
        stderr(&out),
        "error: TREE_B /etc: not the top of a kernel tree (no Makefile with VERSION and PATCHLEVEL)\n"
    );
}

#[test]
fn an_error_says_its_cause_once() {
    let not_a_dir = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new(BIN)
        .args(["table", "--kernel"])
        .arg(tree_7_3().root)
        .env("MMHARNESS_CACHE", not_a_dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        format!(
            "error: creating {0}/artifacts: Not a directory (os error 20) (the cache is {0}: MMHARNESS_CACHE, else \
             $XDG_CACHE_HOME/mmharness or ~/.cache/mmharness; set MMHARNESS_CACHE to a writable directory)\n",
            not_a_dir.path().display()
        )
    );
}

#[test]
fn output_into_a_closed_pipe_ends_quietly_as_cat_would() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = Command::new(BIN).arg("list").stdout(writer).output().unwrap();
    assert_eq!(out.status.code(), Some(128 + nix::sys::signal::Signal::SIGPIPE as i32), "{out:?}");
    assert_eq!(stderr(&out), "", "no panic, no backtrace");
}
