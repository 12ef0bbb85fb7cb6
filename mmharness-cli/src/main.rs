//! The mmharness command line.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use mmharness::{bisect, compare, report, review, suite, Runner};
use mmharness_build::fetch::{self, Verify};
use mmharness_build::{artifact, build_inputs, cache, cache_dir, plan::Plan, tree::Tree, tree_at_hand, ResolveError};
use std::path::PathBuf;

mod check_dup;
mod mutants;

const SCOPE: &str = "Scope: the mmap_action code of mm/util.c and the helpers it calls. Behaviour decided \
in mm/vma.c (whether mapped() runs when a new mapping merges; where the rmap lock was released before 7.1) \
is out of scope until __mmap_region is linked through tools/testing/vma's own build.";

#[derive(Parser)]
#[command(version, about = "Runs the Linux kernel's real mmap_action code in userland", after_help = SCOPE)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The behaviour table of a tree: each scenario, what the real code returned, unmaps, WARNs.
    Table {
        /// The kernel tree (default: KERNEL_SRC, else the default tree).
        #[arg(long)]
        kernel: Option<PathBuf>,
        /// Machine-readable output.
        #[arg(long, conflicts_with = "ktap")]
        json: bool,
        /// KTAP version 1, as KUnit and kselftest print it.
        #[arg(long)]
        ktap: bool,
    },
    /// For `git bisect run`: exit 0 good, 1 bad, 125 skip (cannot be built or tested), 128 the tool failed.
    #[command(
        after_help = "KERNEL_SRC names the checkout under bisection. FILTERS select scenarios by name substring."
    )]
    BisectRun {
        /// Run a failing scenario this many times in all: bad only if it fails every time.
        #[arg(long, default_value_t = 1)]
        tries: u32,
        /// Scenario name substrings (default: the whole catalogue).
        #[arg(last = true)]
        filters: Vec<String>,
    },
    /// The same scenarios on two trees: only what differs, and struct layout changes (exit 0 same, 1 differs, 2 error).
    Diff {
        tree_a: PathBuf,
        tree_b: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// What a patch (git-format, mbox series, or a mail quoting one) changes: behaviour, capabilities, layouts (exit 0 same, 1 differs, 2 error).
    Review {
        /// The patch or mail; `-` reads it from stdin.
        patch: PathBuf,
        /// The tree to apply it to (default: KERNEL_SRC, else the default tree).
        #[arg(long)]
        kernel: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Build (or find in the cache) a tree's artifact and print its manifest.
    Build {
        #[arg(long)]
        kernel: Option<PathBuf>,
    },
    /// Compare the tools headers' copies of struct mmap_action and its neighbours with the kernel's (exit 1 if they differ).
    CheckDup {
        #[arg(long)]
        kernel: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Mutation self-check: build mutants of the extracted kernel code and count those the catalogue catches (exit 1 below --fail-under).
    Mutants {
        #[arg(long)]
        kernel: Option<PathBuf>,
        #[arg(long)]
        json: bool,
        /// The least share of mutants caught, in percent, for exit 0.
        #[arg(long, value_name = "PERCENT")]
        fail_under: Option<f64>,
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
        #[arg(default_value = fetch::DEFAULT_SERIES)]
        series: String,
    },
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

/// `--kernel`, else `KERNEL_SRC`, else the default tree, fetched or repaired
/// first when the cache lacks it intact.
fn tree(kernel: Option<PathBuf>) -> Result<Tree> {
    if let Some(path) = kernel {
        return Ok(Tree::open(&path)?);
    }
    let cache = cache_dir();
    match tree_at_hand(&cache) {
        Err(ResolveError::NoTree) => eprintln!(
            "no KERNEL_SRC: fetching the default tree, Debian's linux-source-{}, into {}",
            fetch::DEFAULT_SERIES,
            cache.display()
        ),
        Err(ResolveError::Damaged(problem)) => {
            eprintln!("the default tree differs from its package ({problem}): unpacking it again")
        }
        resolved => return Ok(resolved?.tree),
    }
    let fetched = fetch::ensure(fetch::DEFAULT_SERIES, &cache, Verify::Inputs(&build_inputs()))?;
    Ok(Tree::open(&fetched.root)?)
}

/// Exit 1 when a scenario differs from the catalogue.
fn table(kernel: Option<PathBuf>, json: bool, ktap: bool) -> Result<bool> {
    let tree = tree(kernel)?;
    let art = artifact::build(&tree, &artifact::Options::runner_only(cache_dir()))?;
    let rows = suite::run(&mut Runner::for_artifact(&art), &suite::select(&[]))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report::json(&art.manifest, &rows))?);
    } else if ktap {
        print!("{}", report::ktap(&art.manifest, &rows));
    } else {
        print!("{}", report::terminal(&art.manifest, &rows));
    }
    Ok(rows.iter().all(|r| !matches!(r.status, suite::Status::Fail { .. })))
}

/// `git bisect run` reads any exit code from 1 to 127 but 125 as *bad*: every
/// failure of the tool, a panic included, must exit with 128.
fn bisect_run(tries: u32, filters: &[String]) -> ! {
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
    let v = bisect::bisect_run(std::path::Path::new(&kernel), filters, tries, &cache_dir());
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
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(2)
        }
    }
}

fn diff(a: PathBuf, b: PathBuf, json: bool) -> Result<()> {
    exit_like_diff((|| {
        let cache = cache_dir();
        let plan = |p: &PathBuf| Plan::new(&Tree::open(p)?, &cache, false);
        let (ra, rb) = (compare::run_tree(plan(&a)?, &cache)?, compare::run_tree(plan(&b)?, &cache)?);
        let c = compare::compare(&ra, &rb);
        if json {
            println!("{}", serde_json::to_string_pretty(&c)?);
        } else {
            print!("{}", compare::terminal(&c));
        }
        Ok(!c.is_empty())
    })())
}

fn review(patch: PathBuf, kernel: Option<PathBuf>, json: bool) -> Result<()> {
    exit_like_diff((|| {
        let tree = tree(kernel)?;
        let input = if patch.as_os_str() == "-" {
            std::io::read_to_string(std::io::stdin()).context("reading the patch from stdin")?
        } else {
            std::fs::read_to_string(&patch).with_context(|| format!("reading {}", patch.display()))?
        };
        let patches = review::patches(&input);
        let cache = cache_dir();
        let base = Plan::new(&tree, &cache, false)?;
        let read = base.inputs();
        let skipped = review::out_of_scope(&tree.root, &patches, &read);
        let (overlay, applied) = review::apply(&tree.root, &patches, &read)?;
        let patched = Plan::new(&Tree::open(overlay.path())?, &cache, false)?;
        check_dup::require_consistent(&patched)?;
        let (tree_run, patched_run) = (compare::run_tree(base, &cache)?, compare::run_tree(patched, &cache)?);
        let (how, c) = match applied {
            review::Applied::Forward { whitespace_fallback } => (
                format!("applied to {}{}", tree.root.display(), ws_note(whitespace_fallback)),
                compare::compare(&tree_run, &patched_run),
            ),
            review::Applied::Reverted { whitespace_fallback } => (
                format!(
                    "{} already contains it: compared with the patch reverted{}",
                    tree.root.display(),
                    ws_note(whitespace_fallback)
                ),
                compare::compare(&patched_run, &tree_run),
            ),
        };
        let subjects: Vec<&str> = patches.iter().map(|p| p.subject.as_str()).collect();
        if json {
            let doc = serde_json::json!({ "patches": subjects, "how": how, "not_in_scope": skipped, "comparison": c });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        } else {
            println!("{} patch(es): {}\n{how}", patches.len(), subjects.join("; "));
            if !skipped.is_empty() {
                println!("not in scope, not applied (the build does not read them): {}", skipped.join(" "));
            }
            print!("{}", compare::terminal(&c));
        }
        Ok(!c.is_empty())
    })())
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn cache_report(json: bool) -> Result<()> {
    let u = cache::usage(&cache_dir());
    if json {
        println!("{}", serde_json::to_string_pretty(&u)?);
        return Ok(());
    }
    let artifacts: u64 = u.artifacts.iter().map(|e| e.bytes).sum();
    println!("{}: {}", u.root.display(), mb(u.total()));
    println!("  artifacts: {} ({})", u.artifacts.len(), mb(artifacts));
    for (dir, bytes) in &u.trees {
        println!("  tree {}: {}", dir.file_name().unwrap_or_default().to_string_lossy(), mb(*bytes));
    }
    println!("  packages: {}", mb(u.debs));
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
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Table { kernel, json, ktap } => {
            if !table(kernel, json, ktap)? {
                std::process::exit(1);
            }
        }
        Command::BisectRun { tries, filters } => bisect_run(tries, &filters),
        Command::Diff { tree_a, tree_b, json } => diff(tree_a, tree_b, json)?,
        Command::Review { patch, kernel, json } => review(patch, kernel, json)?,
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
        Command::Mutants { kernel, json, fail_under } => {
            if mutants::run(&tree(kernel)?, json)? < fail_under.unwrap_or(0.0) {
                std::process::exit(1);
            }
        }
        Command::Cache { action: None, json } => cache_report(json)?,
        Command::Cache { action: Some(CacheAction::Gc { keep }), .. } => {
            let before = cache::usage(&cache_dir()).total();
            let freed = cache::gc(&cache_dir(), keep);
            println!("freed {}: {} -> {}", mb(freed), mb(before), mb(before - freed));
        }
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
