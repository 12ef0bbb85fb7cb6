//! `mmharness mutants`: a self-check of the catalogue. Each mutant of the
//! extracted kernel code is built from an overlay of the tree and run
//! through the catalogue; a mutant no entry notices is a gap in the
//! catalogue, or a change that makes no difference. With `--e2e` the
//! end-to-end rows judge them instead, and mm/vma.c's mapping path and
//! `do_munmap` are mutated too.

use crate::equivalent;
use anyhow::{bail, Context, Result};
use mmharness::catalogue::Entry;
use mmharness::{e2e_suite, Backend, Runner};
use mmharness_build::artifact::{self, BuildError, Options};
use mmharness_build::e2e;
use mmharness_build::mutate::{self, Mutant};
use mmharness_build::overlay::Overlay;
use mmharness_build::plan::Plan;
use mmharness_build::{cache_dir, tree::Tree};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

#[derive(Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
enum Verdict {
    /// The first entry whose expectation failed, and how.
    Caught {
        entry: String,
        how: String,
    },
    Survived,
    /// Survived, and proved equivalent (`equivalent.rs`): not counted.
    Equivalent {
        reason: &'static str,
    },
    /// The mutant does not build: not counted.
    NotViable {
        error: String,
    },
}

#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    mutant: Mutant,
    #[serde(flatten)]
    verdict: Verdict,
}

/// What judges a mutant: catalogue entries in the ordinary runner, or the
/// end-to-end rows (entries and kernel VMA tests) whose names contain a filter.
pub enum Judge {
    Catalogue(Vec<Entry>),
    EndToEnd(Vec<String>),
}

/// Builds and runs every mutant of `tree`'s extracted code with the
/// `selected` entries, prints how many they catch and which survive, and
/// returns the share caught, in percent.
pub fn run(tree: &Tree, json: bool, judge_by: Judge, sanitize: bool) -> Result<f64> {
    let started = Instant::now();
    let plan = Plan::new(tree, &cache_dir(), sanitize)?;
    let mut mutants = mutants_of(&plan);
    let read = plan.inputs();
    let judge_by = match judge_by {
        Judge::Catalogue(selected) => {
            let base = artifact::from_plan(plan, &Options::runner_only(cache_dir()).sanitized(sanitize))?;
            let mut runner = Runner::for_artifact(&base);
            let caps = runner.capabilities();
            let entries: Vec<Entry> = selected
                .into_iter()
                .filter(|e| e.applicable(caps).is_ok() && e.scenario.unmet(caps).is_none())
                .collect();
            require_passing(&mut runner, &entries)?;
            Judge::Catalogue(entries)
        }
        Judge::EndToEnd(filters) => {
            drop(plan);
            mutants.extend(e2e_mutants(tree)?);
            require_e2e_passing(tree, &filters, sanitize)?;
            Judge::EndToEnd(filters)
        }
    };
    let entries: Vec<String> = match &judge_by {
        Judge::Catalogue(entries) => entries.iter().map(|e| e.name.to_string()).collect(),
        Judge::EndToEnd(filters) => vec![format!("the end-to-end rows (filters {filters:?})")],
    };
    if !json {
        eprintln!("{} mutants, judged by {} each, on {} threads", mutants.len(), entries.join(", "), workers());
    }
    let verdicts = judge(tree, &read, &mutants, &judge_by, sanitize)?;
    let rows: Vec<Row> = mutants
        .into_iter()
        .zip(verdicts)
        .map(|(mutant, verdict)| match (verdict, equivalent::reason(&mutant)) {
            (Verdict::Survived, Some(reason)) => Row { mutant, verdict: Verdict::Equivalent { reason } },
            (verdict, _) => Row { mutant, verdict },
        })
        .collect();
    let of = |pred: fn(&Verdict) -> bool| rows.iter().filter(|r| pred(&r.verdict)).collect::<Vec<_>>();
    let caught = of(|v| matches!(v, Verdict::Caught { .. })).len();
    let survivors = of(|v| matches!(v, Verdict::Survived));
    let equivalents = of(|v| matches!(v, Verdict::Equivalent { .. }));
    let not_viable = of(|v| matches!(v, Verdict::NotViable { .. }));
    // A mutant listed as equivalent that an entry catches proves the list wrong.
    let wrongly_listed: Vec<&Row> = rows
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Caught { .. }) && equivalent::reason(&r.mutant).is_some())
        .collect();
    let total = caught + survivors.len();
    let percent = if total == 0 { 100.0 } else { 100.0 * caught as f64 / total as f64 };
    let seconds = started.elapsed().as_secs_f64();
    let by_operator = score_by_operator(&rows);

    if json {
        let doc = mmharness::json::document(serde_json::json!({
            "tree": tree.root,
            "kernel_version": tree.version,
            "entries": entries,
            "caught": caught,
            "total": total,
            "by_operator": by_operator,
            "survivors": survivors,
            "equivalent": equivalents,
            "listed_equivalent_but_caught": wrongly_listed,
            "not_viable": not_viable,
            "mutants": rows,
            "seconds": seconds,
        }));
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(percent);
    }
    println!("Linux {} at {}: {} apply, and pass unmutated", tree.version, tree.root.display(), entries.join(", "));
    println!("caught {caught}/{total} ({percent:.1}%), {} proved equivalent not counted", equivalents.len());
    for s in &by_operator {
        println!("  {:14}  caught {}/{}  ({} equivalent)", s.operator.name(), s.caught, s.total, s.equivalent);
    }
    let place = |m: &Mutant| format!("{}:{}", m.file, m.line);
    let w = rows.iter().map(|r| place(&r.mutant).len()).max().unwrap_or(0);
    let f = rows.iter().map(|r| r.mutant.function.len()).max().unwrap_or(0);
    if !survivors.is_empty() {
        println!("survivors ({}):", survivors.len());
        for r in &survivors {
            let m = &r.mutant;
            println!("  {:w$}  {:f$}  {:14}  {}", place(m), m.function, m.operator.name(), m.description);
        }
    }
    for r in &equivalents {
        let Verdict::Equivalent { reason } = &r.verdict else { unreachable!("filtered above") };
        let m = &r.mutant;
        println!("equivalent: {} {} {} {} — {reason}", place(m), m.function, m.operator.name(), m.description);
    }
    for r in &wrongly_listed {
        let m = &r.mutant;
        println!(
            "listed as equivalent but caught (the list is wrong): {} {} {} {}",
            place(m),
            m.function,
            m.operator.name(),
            m.description
        );
    }
    if !not_viable.is_empty() {
        println!("not viable, not counted ({}):", not_viable.len());
        for r in &not_viable {
            let m = &r.mutant;
            let Verdict::NotViable { error } = &r.verdict else { unreachable!("filtered above") };
            println!("  {:w$}  {:f$}  {:14}  {}: {error}", place(m), m.function, m.operator.name(), m.description);
        }
    }
    println!("took {seconds:.1} s");
    Ok(percent)
}

/// How many mutants of one operator the catalogue catches, of those that build.
#[derive(Serialize)]
struct Score {
    operator: mutate::Operator,
    caught: usize,
    total: usize,
    /// Proved equivalent, not in `total`.
    equivalent: usize,
}

fn score_by_operator(rows: &[Row]) -> Vec<Score> {
    let mut by: BTreeMap<&'static str, Score> = BTreeMap::new();
    for r in rows.iter().filter(|r| !matches!(r.verdict, Verdict::NotViable { .. })) {
        let op = r.mutant.operator;
        let s = by.entry(op.name()).or_insert(Score { operator: op, caught: 0, total: 0, equivalent: 0 });
        if matches!(r.verdict, Verdict::Equivalent { .. }) {
            s.equivalent += 1;
            continue;
        }
        s.total += 1;
        s.caught += matches!(r.verdict, Verdict::Caught { .. }) as usize;
    }
    by.into_values().collect()
}

/// The entries must pass on the unmutated tree, or its mutants prove nothing.
fn require_passing(runner: &mut Runner, entries: &[Entry]) -> Result<()> {
    let mut failing = Vec::new();
    for e in entries {
        if let Err(how) = e.expected.check(&runner.run(&e.scenario)?) {
            failing.push(format!("{}: {how}", e.name));
        }
    }
    if !failing.is_empty() {
        bail!(
            "the catalogue fails on the unmutated tree, so its mutants would prove nothing:\n  {}",
            failing.join("\n  ")
        );
    }
    Ok(())
}

/// The end-to-end rows must pass on the unmutated tree too.
fn require_e2e_passing(tree: &Tree, filters: &[String], sanitize: bool) -> Result<()> {
    let art = e2e::build(tree, &Options::runner_only(cache_dir()).sanitized(sanitize))?;
    let failing: Vec<String> =
        e2e_suite::run(&art, filters).into_iter().filter(|r| r.failed()).map(|r| r.name).collect();
    if !failing.is_empty() {
        bail!("end-to-end rows fail on the unmutated tree, so its mutants would prove nothing: {}", failing.join(", "));
    }
    Ok(())
}

/// The mutants of the code only the end-to-end rows judge (mm/vma.c's
/// mapping path, `do_munmap`).
fn e2e_mutants(tree: &Tree) -> Result<Vec<Mutant>> {
    let mut out = Vec::new();
    for (file, defs) in e2e::judged_code(tree)? {
        let defs: Vec<(&str, usize)> = defs.iter().map(|(n, l)| (n.as_str(), *l)).collect();
        out.extend(mutate::mutants(&file, &defs));
    }
    Ok(out)
}

/// The mutants of every extracted definition, file by file, in line order.
fn mutants_of(plan: &Plan) -> Vec<Mutant> {
    let places = plan.extract.places();
    let mut by_file: BTreeMap<&str, Vec<(&str, usize)>> = BTreeMap::new();
    for x in &places {
        by_file.entry(&x.file).or_default().push((&x.name, x.line));
    }
    let mut out: Vec<Mutant> = by_file
        .into_iter()
        .filter_map(|(file, defs)| Some(mutate::mutants(plan.file(file)?, &defs)))
        .flatten()
        .collect();
    out.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    out
}

/// Twice the CPUs: a build spends much of its time waiting for the
/// compiler's processes to start and for the disk.
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) * 2
}

/// A verdict for each mutant; builds and runners run in parallel.
fn judge(tree: &Tree, read: &[PathBuf], mutants: &[Mutant], entries: &Judge, sanitize: bool) -> Result<Vec<Verdict>> {
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let verdicts: Mutex<Vec<Option<Verdict>>> = Mutex::new(mutants.iter().map(|_| None).collect());
    let count = mmharness_build::progress::step("mutants");
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..workers())
            .map(|_| {
                s.spawn(|| -> Result<()> {
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(m) = mutants.get(i) else { break };
                        let v = judge_one(tree, read, m, entries, sanitize);
                        let v = v.inspect_err(|_| failed.store(true, Ordering::Relaxed))?;
                        verdicts.lock().expect("no worker panics holding it")[i] = Some(v);
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        count.stage(&format!("{n}/{} judged", mutants.len()));
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| w.join().expect("a mutant worker panicked"))
    })?;
    Ok(verdicts.into_inner().expect("the workers are done").into_iter().map(|v| v.expect("judged")).collect())
}

/// `read`: what the unmutated build reads, real files in the mutant's overlay.
fn judge_one(tree: &Tree, read: &[PathBuf], m: &Mutant, judge_by: &Judge, sanitize: bool) -> Result<Verdict> {
    let overlay = Overlay::for_build(&tree.root, &[(m.file.as_str(), m.text.as_str())], &[], read)
        .with_context(|| format!("making an overlay of {} for a mutant", tree.root.display()))?;
    let mutated = Tree::open(overlay.path())?;
    let opts = Options::runner_only(cache_dir()).sanitized(sanitize);
    // Only a failure the mutation can cause is "not viable"; the rest is the tool's.
    let not_viable = |e: BuildError| match e {
        e @ (BuildError::Compile { .. } | BuildError::Extract(_) | BuildError::NotApplicable(_)) => {
            Ok(Verdict::NotViable { error: first_error(&e) })
        }
        e => Err(e.into()),
    };
    match judge_by {
        Judge::Catalogue(entries) => {
            let art = match artifact::build(&mutated, &opts) {
                Ok(a) => a,
                Err(e) => return not_viable(e),
            };
            let mut runner = Runner::for_artifact(&art);
            for e in entries {
                if let Err(how) = e.expected.check(&runner.run(&e.scenario)?) {
                    return Ok(Verdict::Caught { entry: e.name.to_string(), how });
                }
            }
        }
        Judge::EndToEnd(filters) => {
            let art = match e2e::build(&mutated, &opts) {
                Ok(a) => a,
                Err(e) => return not_viable(e),
            };
            let failed = e2e_suite::run(&art, filters).into_iter().find(|r| r.failed());
            // Some 5 MB each, and no other run will want a mutant's runner.
            mmharness_build::cache::discard(&cache_dir(), &art.dir);
            // A crash or a refused layout is the mutant noticed, as a difference is.
            if let Some(r) = failed {
                return Ok(Verdict::Caught { how: serde_json::to_string(&r.verdict)?, entry: r.name });
            }
        }
    }
    Ok(Verdict::Survived)
}

/// The compiler's first error line, which names the kernel line.
fn first_error(e: &BuildError) -> String {
    let text = e.to_string();
    let line = text.lines().find(|l| l.contains("error:")).or_else(|| text.lines().next());
    line.unwrap_or_default().trim().to_string()
}
