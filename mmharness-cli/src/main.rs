//! The mmharness command line.

use anyhow::{anyhow, bail, Context, Result};
use clap::{CommandFactory, Parser, Subcommand};
use mmharness::catalogue::Entry;
use mmharness::{bisect, compare, coverage, e2e_suite, json as schema, report, review, suite, Runner};
use mmharness_build::fetch::{self, Verify};
use mmharness_build::{
    artifact, build_inputs, cache, cache_dir, plan::Plan, sanitize_requested, tree::Tree, tree::TreeError,
    tree_at_hand, ResolveError,
};
use std::io::IsTerminal;
use std::path::PathBuf;

mod check_dup;
mod equivalent;
mod errors;
mod mutants;
mod progress;

const EXAMPLES: &str = "Examples:
  mmharness table                          the default tree (Debian's linux-source-7.3), fetched on first use
  mmharness table --kernel ~/linux --failed    only what differs from the catalogue, on your tree
  mmharness --sanitize table -k devmem     the /dev/mem scenarios under AddressSanitizer and UBSan
  mmharness list -k compat                 the scenarios a filter selects, and what decides each
  mmharness list --kernel ~/linux          which scenarios run on your tree, and why the others do not
  KERNEL_SRC=~/linux git bisect run mmharness bisect-run -- override
                                           bisect a change in the scenarios named *override*
  mmharness review series.mbox --kernel ~/linux    what a posted series changes
  mmharness review fix.patch --coverage   also which changed lines the scenarios ran, and which none did
  mmharness coverage -k devmem             the kernel lines the /dev/mem scenarios run, per function
  mmharness diff ~/linux-7.2 ~/linux       two trees, only what differs
  mmharness completions bash > /etc/bash_completion.d/mmharness;  mmharness man > mmharness.1

Scope: the mmap_action code of mm/util.c and the helpers it calls. Behaviour decided in mm/vma.c \
(whether mapped() runs when a new mapping merges; where the rmap lock was released before 7.1) is \
judged by --e2e (table, diff, review, bisect-run, mutants): __mmap_region, the maple tree and \
tools/testing/vma's own tests in one program.";

#[derive(Parser)]
#[command(name = "mmharness", version, about = "Runs the Linux kernel's real mmap_action code in userland", after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Build the runners with AddressSanitizer and UBSan (also MMHARNESS_SANITIZE=1): a read past an
    /// object or of an unmapped VMA is reported, not silently passed.
    #[arg(long, global = true)]
    sanitize: bool,
    /// No progress lines on stderr (there are none either when stderr is not a terminal).
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// The behaviour table of a tree: each scenario, what the real code returned, unmaps, WARNs (exit 0 all as expected, 1 some differ, 2 error).
    #[command(after_help = "Exit 0 when every scenario is as the catalogue expects, 1 when one differs.")]
    Table {
        /// The kernel tree (default: KERNEL_SRC, else the default tree).
        #[arg(long)]
        kernel: Option<PathBuf>,
        /// Machine-readable output.
        #[arg(long, conflicts_with = "ktap")]
        json: bool,
        /// KTAP version 1, as KUnit and kselftest print it.
        #[arg(long, conflicts_with = "json")]
        ktap: bool,
        /// The end-to-end mode: the mapping through mm/vma.c and the maple tree, and tools/testing/vma's own tests.
        #[arg(long)]
        e2e: bool,
        #[command(flatten)]
        select: Select,
        /// Only the scenarios that differ from the catalogue.
        #[arg(long)]
        failed: bool,
        /// Full names and messages, however wide (the terminal's width otherwise, or COLUMNS, or 120).
        #[arg(long)]
        wide: bool,
    },
    /// For `git bisect run`: exit 0 good, 1 bad, 125 skip (cannot be built or tested), 128 the tool failed.
    #[command(
        after_help = "KERNEL_SRC names the top of the checkout under bisection. FILTERS select scenarios by name substring.\n\n\
The recipe, in the kernel checkout:\n  \
git bisect start BAD GOOD\n  \
KERNEL_SRC=$PWD git bisect run mmharness bisect-run -- FILTER\n\n\
Exit codes: 0 good; 1 bad (a selected scenario differs from the catalogue, every try); \
125 skip (this revision's code cannot be built, has no mmap_action, a result did not repeat, \
or no selected scenario applies, each named with what it lacks); \
128 the tool or the machine failed (usage, --help, KERNEL_SRC not the top of a kernel tree, \
no compiler, a killed or silent compiler, a full disk, an unreadable cache, a panic): git stops, no verdict."
    )]
    BisectRun {
        /// Run a failing scenario this many times in all: bad only if it fails every time.
        #[arg(long, default_value_t = 1)]
        tries: u32,
        /// The end-to-end entries and tools/testing/vma's own tests instead of the catalogue.
        #[arg(long)]
        e2e: bool,
        /// Scenario name substrings (default: the whole catalogue).
        #[arg(last = true)]
        filters: Vec<String>,
    },
    /// The same scenarios on two trees: only what differs, and struct layout changes (exit 0 same, 1 differs, 2 error).
    Diff {
        /// The tree before (a kernel checkout or unpacked source).
        tree_a: PathBuf,
        /// The tree after.
        tree_b: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Compare the end-to-end rows (the mapping through mm/vma.c, and tools/testing/vma's own tests).
        #[arg(long)]
        e2e: bool,
        #[command(flatten)]
        select: Select,
    },
    /// What a patch (git-format, mbox series, or a mail quoting one) changes: behaviour, capabilities, layouts (exit 0 same, 1 differs, 2 error).
    Review {
        /// The patch or mail; `-` reads it from stdin.
        patch: PathBuf,
        /// The tree to apply it to (default: KERNEL_SRC, else the default tree).
        #[arg(long)]
        kernel: Option<PathBuf>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Compare the end-to-end rows (the mapping through mm/vma.c, and tools/testing/vma's own tests).
        #[arg(long)]
        e2e: bool,
        /// Also say which changed lines the scenarios ran, on which side and by which scenarios (gcc --coverage and gcov).
        #[arg(long, conflicts_with = "e2e")]
        coverage: bool,
        #[command(flatten)]
        select: Select,
    },
    /// Per-function line coverage of the extracted kernel code by the catalogue (gcc --coverage, read by gcov).
    Coverage {
        /// The kernel tree (default: KERNEL_SRC, else the default tree).
        #[arg(long)]
        kernel: Option<PathBuf>,
        /// Machine-readable output, with the scenarios that ran each line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        select: Select,
    },
    /// Build (or find in the cache) a tree's artifact and print its manifest.
    Build {
        /// The kernel tree (default: KERNEL_SRC, else the default tree).
        #[arg(long)]
        kernel: Option<PathBuf>,
    },
    /// Compare the tools headers' copies of struct mmap_action and its neighbours with the kernel's (exit 1 if they differ).
    CheckDup {
        /// The kernel tree (default: KERNEL_SRC, else the default tree).
        #[arg(long)]
        kernel: Option<PathBuf>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Mutation self-check: build mutants of the extracted kernel code and count those the catalogue catches (exit 1 below --fail-under).
    Mutants {
        /// The kernel tree (default: KERNEL_SRC, else the default tree).
        #[arg(long)]
        kernel: Option<PathBuf>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        select: Select,
        /// The least share of mutants caught, in percent, for exit 0.
        #[arg(long, value_name = "PERCENT")]
        fail_under: Option<f64>,
        /// Judge by the end-to-end rows (filters select them), and mutate mm/vma.c's mapping path and do_munmap too.
        #[arg(long)]
        e2e: bool,
    },
    /// The catalogue: each scenario's name, what decides it, and what a tree needs to run it.
    List {
        #[command(flatten)]
        select: Select,
        /// Also say which scenarios run on this tree and why the others do not, from its
        /// capabilities (its artifact is built or taken from the cache; no scenario runs).
        #[arg(long)]
        kernel: Option<PathBuf>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// What the cache holds (artifacts, fetched trees, packages), or `gc` to shrink it.
    Cache {
        #[command(subcommand)]
        action: Option<CacheAction>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Fetch Debian's linux-source-SERIES into the cache, or check every file of the cached one against
    /// the package and repair it, and print where it is.
    Fetch {
        /// The kernel series, as Debian names its linux-source package (7.3, 7.2, ...).
        #[arg(default_value = fetch::DEFAULT_SERIES)]
        series: String,
    },
    /// Shell completions on stdout.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
    /// The man page (roff) on stdout: `mmharness man > mmharness.1`.
    Man,
}

/// Which catalogue scenarios a command runs.
#[derive(clap::Args)]
struct Select {
    /// Only the scenarios whose name contains FILTER (repeatable; `mmharness list` names them all).
    #[arg(short = 'k', long = "filter", value_name = "FILTER")]
    filters: Vec<String>,
}

impl Select {
    /// The selected entries; a filter that names nothing is the user's error, with the flag named.
    fn entries(&self) -> Result<Vec<Entry>> {
        if let Some(f) = self.filters.iter().find(|f| suite::select(std::slice::from_ref(*f)).is_empty()) {
            bail!("-k/--filter {f:?} names no scenario: `mmharness list` prints their names");
        }
        Ok(suite::select(&self.filters))
    }
}

#[derive(Subcommand)]
enum CacheAction {
    /// Remove all but the most recently used artifacts, and what killed builds left; fetched trees stay.
    Gc {
        /// How many artifacts to keep.
        #[arg(long, default_value_t = 10)]
        keep: usize,
    },
}

/// The tree the user named with `arg` (`--kernel`, `TREE_A`): the tree's
/// own advice names KERNEL_SRC, which this user did not set.
fn open_tree(path: &std::path::Path, arg: &str) -> Result<Tree> {
    Tree::open(path).map_err(|e| match e {
        TreeError::Missing(p) => anyhow!("{arg} {}: no such directory", p.display()),
        TreeError::NotAKernelTree(p) => {
            anyhow!("{arg} {}: not the top of a kernel tree (no Makefile with VERSION and PATCHLEVEL)", p.display())
        }
        e => e.into(),
    })
}

/// `--kernel`, else `KERNEL_SRC`, else the default tree, fetched or repaired
/// first when the cache lacks it intact.
fn tree(kernel: Option<PathBuf>) -> Result<Tree> {
    if let Some(path) = kernel {
        return open_tree(&path, "--kernel");
    }
    let cache = cache_dir();
    match tree_at_hand(&cache) {
        Err(ResolveError::NoTree) => eprintln!(
            "no KERNEL_SRC: fetching the default tree, Debian's linux-source-{}, into {}",
            fetch::DEFAULT_SERIES,
            cache.display()
        ),
        Err(ResolveError::Damaged(problem)) => {
            let how = match fetch::kept_package(fetch::DEFAULT_SERIES, &cache) {
                Some(deb) => format!("unpacking it again from {}", deb.display()),
                None => "downloading its package again (packages are not kept after unpacking)".into(),
            };
            eprintln!("the default tree differs from its package ({problem}): {how}")
        }
        resolved => return Ok(resolved?.tree),
    }
    let fetched = fetch::ensure(fetch::DEFAULT_SERIES, &cache, Verify::Inputs(&build_inputs()))?;
    Ok(Tree::open(&fetched.root)?)
}

/// Exit 1 when a scenario differs from the catalogue.
/// The terminal's width (COLUMNS first, as shells set it), or 120 when
/// stdout is not a terminal; colour on a terminal unless NO_COLOR is set.
fn table_layout(failed_only: bool, wide: bool) -> report::Layout {
    let tty = std::io::stdout().is_terminal();
    let columns = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok());
    let width = columns.or_else(|| tty.then(|| comfy_table::Table::new().width()).flatten()).unwrap_or(120);
    let colour = tty && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    report::Layout { width: (!wide).then_some(width), colour, failed_only }
}

fn table(
    kernel: Option<PathBuf>,
    json: bool,
    ktap: bool,
    layout: report::Layout,
    entries: &[Entry],
    sanitize: bool,
) -> Result<bool> {
    let tree = tree(kernel)?;
    let art = artifact::build(&tree, &artifact::Options::runner_only(cache_dir()).sanitized(sanitize))?;
    let rows = suite::run(&mut Runner::for_artifact(&art), entries)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&schema::table(&art.manifest, &rows))?);
    } else if ktap {
        print!("{}", report::ktap(&art.manifest, &rows));
    } else {
        print!("{}", report::terminal(&art.manifest, &rows, layout));
    }
    Ok(rows.iter().all(|r| !matches!(r.status, suite::Status::Fail { .. })))
}

/// The end-to-end table; false when a row differs from the catalogue.
fn e2e_table(kernel: Option<PathBuf>, json: bool, ktap: bool, filters: &[String], sanitize: bool) -> Result<bool> {
    let tree = tree(kernel)?;
    let rows = e2e_rows(&tree, filters, sanitize)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&schema::e2e_table(&tree.version, &rows)?)?);
    } else if ktap {
        print!("{}", e2e_suite::ktap(&rows));
    } else {
        print!("{}", e2e_suite::terminal(&tree.version, &rows));
    }
    Ok(!rows.iter().any(e2e_suite::E2eRow::failed))
}

/// `git bisect run` reads any exit code from 1 to 127 but 125 as *bad*: every
/// failure of the tool, a panic included, must exit with 128.
fn bisect_run(tries: u32, filters: &[String], e2e: bool, sanitize: bool) -> ! {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default_hook(info);
        std::process::exit(bisect::TOOL_FAILURE);
    }));
    // A test hook: proves that a panic in the tool maps to 128.
    if std::env::var_os("MMHARNESS_PANIC_FOR_TEST").is_some() {
        panic!("MMHARNESS_PANIC_FOR_TEST is set");
    }
    let Some(kernel) = std::env::var_os("KERNEL_SRC").filter(|v| !v.is_empty()) else {
        eprintln!("bisect-run: set KERNEL_SRC to the kernel checkout under bisection");
        std::process::exit(bisect::TOOL_FAILURE);
    };
    let kernel = std::path::Path::new(&kernel);
    let v = if e2e {
        bisect::bisect_run_e2e(kernel, filters, &cache_dir(), sanitize)
    } else {
        bisect::bisect_run(kernel, filters, tries, &cache_dir(), sanitize)
    };
    for r in &v.rows {
        if let suite::Status::Fail { difference } = &r.status {
            println!("FAIL {}: {difference}", r.name);
        }
    }
    eprintln!("bisect-run: {}", v.reason);
    std::process::exit(v.code);
}

/// diff(1)'s exit codes: 0 the same, 1 different, 2 an error (said on stderr).
fn exit_like_diff(differs: Result<bool>) -> ! {
    match differs {
        Ok(differs) => std::process::exit(differs as i32),
        Err(e) => errors::exit(&e),
    }
}

fn diff(a: PathBuf, b: PathBuf, json: bool, entries: &[Entry], sanitize: bool) -> Result<()> {
    exit_like_diff((|| {
        let cache = cache_dir();
        let (ta, tb) = (open_tree(&a, "TREE_A")?, open_tree(&b, "TREE_B")?);
        let plan = |t: &Tree| Plan::new(t, &cache, sanitize);
        let (ra, rb) =
            (compare::run_tree(plan(&ta)?, &cache, entries)?, compare::run_tree(plan(&tb)?, &cache, entries)?);
        let c = compare::compare(&ra, &rb);
        if json {
            println!("{}", serde_json::to_string_pretty(&schema::document(schema::comparison(&c)))?);
        } else {
            print!("{}", compare::terminal(&c));
        }
        Ok(!c.is_empty())
    })())
}

/// The end-to-end rows of a tree: the entries and kernel VMA tests whose
/// names contain a filter (all without one); a filter that names none is
/// the user's error.
fn e2e_rows(tree: &Tree, filters: &[String], sanitize: bool) -> Result<Vec<e2e_suite::E2eRow>> {
    let opts = artifact::Options::runner_only(cache_dir()).sanitized(sanitize);
    let rows = match mmharness_build::e2e::build(tree, &opts) {
        Ok(art) => e2e_suite::run(&art, filters),
        Err(mmharness_build::BuildError::NotApplicable(reason)) => e2e_suite::not_applicable(&reason, filters),
        Err(e) => return Err(e.into()),
    };
    if let Some(f) = filters.iter().find(|f| !rows.iter().any(|r| r.name.contains(f.as_str()))) {
        bail!("-k/--filter {f:?} names no end-to-end row: `mmharness table --e2e` prints their names");
    }
    Ok(rows)
}

/// The end-to-end rows that differ between `before` and `after`, printed;
/// true when one does.
fn e2e_changes(before: &[e2e_suite::E2eRow], after: &[e2e_suite::E2eRow], json: bool) -> Result<bool> {
    let changes = e2e_suite::differences(before, after);
    if json {
        let doc = schema::document(serde_json::json!({ "changes": changes, "after": after }));
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else if changes.is_empty() {
        println!("no end-to-end row differs ({} rows)", after.len());
    } else {
        changes.iter().for_each(|c| println!("{c}"));
    }
    Ok(!changes.is_empty())
}

/// `diff --e2e`: the end-to-end rows of two trees.
fn e2e_diff(a: PathBuf, b: PathBuf, json: bool, filters: &[String], sanitize: bool) -> ! {
    exit_like_diff((|| {
        let rows = |p: &PathBuf| e2e_rows(&Tree::open(p)?, filters, sanitize);
        let (before, after) = (rows(&a)?, rows(&b)?);
        e2e_changes(&before, &after, json)
    })())
}

/// `review --e2e`: the end-to-end rows before and after a patch.
fn e2e_review(patch: PathBuf, kernel: Option<PathBuf>, json: bool, filters: &[String], sanitize: bool) -> ! {
    exit_like_diff((|| {
        let tree = tree(kernel)?;
        let read = Plan::new(&tree, &cache_dir(), sanitize)?.inputs();
        let (overlay, applied) = review::apply(&tree.root, &review::read(&patch)?, &read)?;
        // The tree first, so that a fault of the machine is not blamed on the patch.
        let unpatched = e2e_rows(&tree, filters, sanitize)?;
        let patched = e2e_rows(&Tree::open(overlay.path())?, filters, sanitize)
            .map_err(|e| review::on_side(e, overlay.path(), &format!("the tree {}", applied.side())))?;
        let (mut before, mut after) = (unpatched, patched);
        if matches!(applied, review::Applied::Reverted { .. }) {
            std::mem::swap(&mut before, &mut after);
        }
        e2e_changes(&before, &after, json)
    })())
}

/// The changed lines of the in-scope files between the two sides, placed
/// in the coverage of each side.
fn patch_coverage(
    before: &std::path::Path,
    after: &std::path::Path,
    in_scope: &[String],
    entries: &[Entry],
    sanitize: bool,
) -> Result<coverage::PatchCoverage> {
    let cache = cache_dir();
    let changed = review::changed_lines(before, after, in_scope)?;
    let plan = |root: &std::path::Path| Plan::new(&Tree::open(root)?, &cache, sanitize);
    coverage::of_patch(plan(before)?, plan(after)?, changed, &cache, entries)
}

fn review(
    patch: PathBuf,
    kernel: Option<PathBuf>,
    json: bool,
    with_coverage: bool,
    entries: &[Entry],
    sanitize: bool,
) -> Result<()> {
    exit_like_diff((|| {
        let tree = tree(kernel)?;
        let patches = review::read(&patch)?;
        let cache = cache_dir();
        let base = Plan::new(&tree, &cache, sanitize)?;
        let read = base.inputs();
        let places_before = base.extract.places();
        let skipped = review::out_of_scope(&tree.root, &patches, &read);
        let partial = review::partial_tree(&tree.root, &patches);
        let touched: std::collections::BTreeSet<String> =
            patches.iter().flat_map(|p| review::touched(&p.text)).collect();
        if !patches.is_empty() && touched.iter().all(|f| skipped.contains(f)) {
            // Nothing to apply: saying "applied" and comparing the tree with
            // itself would pass for a verdict on the patch.
            let why = format!(
                "no hunk is on a file the build reads ({}): nothing applied, nothing to compare",
                skipped.join(" ")
            );
            if json {
                let doc = schema::document(
                    serde_json::json!({ "patches": patches.len(), "not_in_scope": skipped, "how": why }),
                );
                println!("{}", serde_json::to_string_pretty(&doc)?);
            } else {
                println!("{why}");
            }
            return Ok(false);
        }
        let (overlay, applied) = review::apply(&tree.root, &patches, &read)?;
        let side = applied.side();
        // The tree first: a fault of the machine (a broken compiler) is then
        // the tree's, not blamed on the patch.
        let tree_run = compare::run_tree(base, &cache, entries)?;
        let (patched_run, places_patched) = (|| {
            let patched = Plan::new(&Tree::open(overlay.path())?, &cache, sanitize)?;
            check_dup::require_consistent(&patched)?;
            let places = patched.extract.places();
            Ok::<_, anyhow::Error>((compare::run_tree(patched, &cache, entries)?, places))
        })()
        .map_err(|e| review::on_side(e, overlay.path(), &format!("the tree {side}")))?;
        // The overlay is gone when this is read: its side is named by the tree.
        let (how, c) = match applied {
            review::Applied::Forward { whitespace_fallback } => {
                let mut c = compare::compare(&tree_run, &patched_run);
                c.after = format!("{}, {side}", c.before);
                (format!("applied to {}{}", tree.root.display(), ws_note(whitespace_fallback)), c)
            }
            review::Applied::Reverted { whitespace_fallback } => {
                let mut c = compare::compare(&patched_run, &tree_run);
                c.before = format!("{}, {side}", c.after);
                let how = format!(
                    "{} already contains it: compared with the patch reverted{}",
                    tree.root.display(),
                    ws_note(whitespace_fallback)
                );
                (how, c)
            }
        };
        let (before, after, places_before, places_after) = match applied {
            review::Applied::Forward { .. } => (tree.root.as_path(), overlay.path(), places_before, places_patched),
            review::Applied::Reverted { .. } => (overlay.path(), tree.root.as_path(), places_patched, places_before),
        };
        let in_scope: Vec<String> = patches
            .iter()
            .flat_map(|p| review::touched(&p.text))
            .filter(|f| !skipped.contains(f))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let not_compiled =
            review::not_compiled(&review::changed_lines(before, after, &in_scope)?, &places_before, &places_after);
        let lines =
            if with_coverage { Some(patch_coverage(before, after, &in_scope, entries, sanitize)?) } else { None };
        let subjects: Vec<&str> = patches.iter().map(|p| p.subject.as_str()).collect();
        if json {
            let doc = schema::document(serde_json::json!({
                "patches": subjects, "how": how, "not_in_scope": skipped, "not_compiled": not_compiled, "partial_tree": partial,
                "comparison": schema::comparison(&c), "coverage": lines
            }));
            println!("{}", serde_json::to_string_pretty(&doc)?);
        } else {
            let named: Vec<&str> = subjects.iter().map(|s| if s.is_empty() { "(no subject)" } else { s }).collect();
            let plural = if patches.len() == 1 { "" } else { "es" };
            println!("{} patch{plural}: {}\n{how}", patches.len(), named.join("; "));
            if let Some(p) = &partial {
                println!(
                    "the tree is {} {} unpacked in part ({}): it lacks {}; give --kernel a whole tree to judge them",
                    p.package,
                    p.version,
                    p.holds.join(" "),
                    p.missing.join(" ")
                );
            }
            if !skipped.is_empty() {
                println!("not in scope, not applied (the build does not read them): {}", skipped.join(" "));
            }
            if !not_compiled.is_empty() {
                println!(
                    "changed lines the build does not compile, so no verdict below speaks for them \
                     (outside the extracted code; a helper the tools headers define is theirs): {}",
                    not_compiled.join(" ")
                );
            }
            print!("{}", compare::terminal(&c));
            if let Some(lines) = &lines {
                print!("{}", coverage::patch_terminal(lines));
            }
        }
        Ok(!c.is_empty())
    })())
}

fn list(entries: &[Entry], kernel: Option<PathBuf>, json: bool) -> Result<()> {
    let art = match kernel {
        Some(k) => Some(artifact::build(&tree(Some(k))?, &artifact::Options::runner_only(cache_dir()))?),
        None => None,
    };
    let manifest = art.as_ref().map(|a| &a.manifest);
    if json {
        println!("{}", serde_json::to_string_pretty(&schema::list(entries, manifest))?);
    } else {
        print!("{}", report::list(entries, manifest));
    }
    Ok(())
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn cache_report(json: bool) -> Result<()> {
    let u = cache::usage(&cache_dir());
    if json {
        println!("{}", serde_json::to_string_pretty(&schema::cache(&u))?);
        return Ok(());
    }
    let artifacts: u64 = u.artifacts.iter().map(|e| e.bytes).sum();
    println!("{}: {}", u.root.display(), mb(u.total()));
    println!("  artifacts: {} ({})", u.artifacts.len(), mb(artifacts));
    for (dir, bytes) in &u.trees {
        println!("  tree {}: {}", dir.file_name().unwrap_or_default().to_string_lossy(), mb(*bytes));
    }
    if u.debs > 0 {
        println!("  packages kept by an older fetch: {} (`mmharness cache gc` removes them)", mb(u.debs));
    }
    println!("  unfinished builds: {}", mb(u.tmp));
    Ok(())
}

fn ws_note(fallback: bool) -> &'static str {
    if fallback {
        " (only with runs of blanks collapsed)"
    } else {
        ""
    }
}

/// Errors go to stderr as one message with its causes, never as a debug
/// dump with a backtrace.
fn main() {
    errors::quiet_on_closed_stdout();
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // Under `git bisect run` any exit from 1 to 127 but 125 reads as bad, and
    // 0 as good: a usage error or a help text must not be taken for a verdict.
    let bisecting =
        args.iter().skip(1).find(|a| !a.to_string_lossy().starts_with('-')).is_some_and(|a| a == "bisect-run");
    let cli = Cli::try_parse_from(&args).unwrap_or_else(|e| {
        let _ = e.print();
        if bisecting {
            eprintln!("bisect-run: exit {} (no verdict): the command line was not a bisect step", bisect::TOOL_FAILURE);
            std::process::exit(bisect::TOOL_FAILURE);
        }
        std::process::exit(e.exit_code())
    });
    // 1 is a verdict (something differs), as diff(1) has it: an error is 2.
    if let Err(e) = run(cli) {
        errors::exit(&e);
    }
}

fn run(cli: Cli) -> Result<()> {
    let sanitize = cli.sanitize || sanitize_requested();
    progress::install(cli.quiet);
    match cli.command {
        Command::Table { kernel, json, ktap, e2e, select, failed, wide } => {
            let passed = if e2e {
                e2e_table(kernel, json, ktap, &select.filters, sanitize)?
            } else {
                table(kernel, json, ktap, table_layout(failed, wide), &select.entries()?, sanitize)?
            };
            if !passed {
                std::process::exit(1);
            }
        }
        Command::BisectRun { tries, filters, e2e } => bisect_run(tries, &filters, e2e, sanitize),
        Command::Diff { tree_a, tree_b, json, e2e: true, select } => {
            e2e_diff(tree_a, tree_b, json, &select.filters, sanitize)
        }
        Command::Diff { tree_a, tree_b, json, e2e: false, select } => {
            diff(tree_a, tree_b, json, &select.entries()?, sanitize)?
        }
        Command::Review { patch, kernel, json, e2e: false, coverage, select } => {
            review(patch, kernel, json, coverage, &select.entries()?, sanitize)?
        }
        Command::Review { e2e: true, coverage: true, .. } => {
            bail!("--coverage measures the catalogue's artifact, not the end-to-end one: leave out --e2e or --coverage")
        }
        Command::Review { patch, kernel, json, e2e: true, coverage: false, select } => {
            e2e_review(patch, kernel, json, &select.filters, sanitize)
        }
        Command::List { select, kernel, json } => list(&select.entries()?, kernel, json)?,
        Command::Coverage { kernel, json, select } => {
            let plan = Plan::new(&tree(kernel)?, &cache_dir(), sanitize)?;
            let (c, _) = coverage::run(plan, &cache_dir(), &select.entries()?)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                print!("{}", coverage::terminal(&c));
            }
        }
        Command::Build { kernel } => {
            let art = artifact::build(&tree(kernel)?, &artifact::Options::new(cache_dir()))?;
            println!("{}", serde_json::to_string_pretty(&art.manifest)?);
            eprintln!("artifact: {} ({})", art.dir.display(), if art.compiled { "compiled" } else { "from the cache" });
        }
        Command::CheckDup { kernel, json } => {
            if !check_dup::run(&Plan::new(&tree(kernel)?, &cache_dir(), false)?, json)? {
                std::process::exit(1);
            }
        }
        Command::Mutants { kernel, json, select, fail_under, e2e } => {
            let judge = if e2e {
                mutants::Judge::EndToEnd(select.filters)
            } else {
                mutants::Judge::Catalogue(select.entries()?)
            };
            if mutants::run(&tree(kernel)?, json, judge, sanitize)? < fail_under.unwrap_or(0.0) {
                std::process::exit(1);
            }
        }
        Command::Cache { action: None, json } => cache_report(json)?,
        Command::Cache { action: Some(CacheAction::Gc { keep }), .. } => {
            let before = cache::usage(&cache_dir()).total();
            let freed = cache::gc(&cache_dir(), keep);
            println!("freed {}: {} -> {}", mb(freed), mb(before), mb(before - freed));
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "mmharness", &mut std::io::stdout())
        }
        Command::Man => clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?,
        Command::Fetch { series } => {
            let cache = cache_dir();
            if matches!(fetch::cached(&series, &cache, &[]), Ok(None)) {
                eprintln!("fetching Debian's linux-source-{series} into {}", cache.display());
            }
            let t = fetch::ensure(&series, &cache, Verify::Everything)
                .with_context(|| format!("fetching linux-source-{series}"))?;
            if let Some(damage) = &t.damage {
                eprintln!("unpacked again: {damage}");
            }
            println!("{} {} at {}", t.manifest.package, t.manifest.version, t.root.display());
        }
    }
    Ok(())
}
