//! The mmharness command line.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use mmharness::catalogue::{catalogue, Expected};
use mmharness::{Backend, Runner};
use mmharness_build::{artifact, cache_dir, fetch, tree::Tree};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Parser)]
#[command(version, about = "Runs the Linux kernel's real mmap_action code in userland")]
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
        #[arg(long)]
        json: bool,
    },
    /// Build (or find in the cache) a tree's artifact and print its manifest.
    Build {
        #[arg(long)]
        kernel: Option<PathBuf>,
    },
    /// Fetch Debian's linux-source-SERIES into the cache and print where it is.
    Fetch {
        #[arg(default_value = fetch::DEFAULT_SERIES)]
        series: String,
    },
}

fn tree(kernel: Option<PathBuf>) -> Result<Tree> {
    match kernel {
        Some(path) => Ok(Tree::open(&path)?),
        None => Ok(mmharness_build::tree_under_test(&cache_dir())?.tree),
    }
}

#[derive(Serialize)]
struct Row {
    name: &'static str,
    result: String,
    unmaps: usize,
    warns: Vec<String>,
    expected: Option<Expected>,
    verdict: String,
}

fn table(kernel: Option<PathBuf>, json: bool) -> Result<bool> {
    let tree = tree(kernel)?;
    let art = artifact::build(&tree, &artifact::Options::new(cache_dir()))?;
    let mut runner = Runner::for_artifact(&art);
    let mut rows = Vec::new();
    for e in catalogue() {
        let row = match e.applicable(runner.capabilities()) {
            Err(reason) => {
                Row { name: e.name, result: "-".into(), unmaps: 0, warns: vec![], expected: None, verdict: reason }
            }
            Ok(()) => {
                let o = runner.run(&e.scenario)?;
                let result = match &o.crash {
                    Some(c) => format!("crash: {}", c.description),
                    None => o.ret().name(),
                };
                let verdict = match e.expected.check(&o) {
                    Ok(()) => "as expected".to_string(),
                    Err(d) => format!("DIFFERS: {d}"),
                };
                Row {
                    name: e.name,
                    result,
                    unmaps: o.unmaps().len(),
                    warns: o.warns.iter().map(|w| w.to_string()).collect(),
                    expected: Some(e.expected),
                    verdict,
                }
            }
        };
        rows.push(row);
    }
    let all_ok = rows.iter().all(|r| !r.verdict.starts_with("DIFFERS"));
    if json {
        let doc = serde_json::json!({ "tree": tree.root, "kernel_version": tree.version, "capabilities": art.manifest.capabilities.names(), "rows": rows });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!("Linux {} at {} (artifact {})", tree.version, tree.root.display(), &art.manifest.key[..12]);
        println!("capabilities: {}", art.manifest.capabilities.names().join(" "));
        let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(0);
        println!("{:w$}  {:8} {:6} {:30} verdict", "scenario", "result", "unmaps", "WARNs");
        for r in &rows {
            let warns = if r.warns.is_empty() { "-".to_string() } else { r.warns.join("; ") };
            println!("{:w$}  {:8} {:6} {:30} {}", r.name, r.result, r.unmaps, warns, r.verdict);
        }
    }
    Ok(all_ok)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Table { kernel, json } => {
            if !table(kernel, json)? {
                std::process::exit(1);
            }
        }
        Command::Build { kernel } => {
            let art = artifact::build(&tree(kernel)?, &artifact::Options::new(cache_dir()))?;
            println!("{}", serde_json::to_string_pretty(&art.manifest)?);
            eprintln!("artifact: {} ({})", art.dir.display(), if art.compiled { "compiled" } else { "from the cache" });
        }
        Command::Fetch { series } => {
            let t = fetch::ensure(&series, &cache_dir()).with_context(|| format!("fetching linux-source-{series}"))?;
            println!("{} {} at {}", t.manifest.package, t.manifest.version, t.root.display());
        }
    }
    Ok(())
}
