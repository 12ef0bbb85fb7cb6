//! The same scenarios on two trees, and what differs: behaviour,
//! capabilities, struct layouts. `diff` compares two trees; `review`
//! compares a tree before and after a patch.

use crate::backend::Runner;
use crate::catalogue::Entry;
use crate::suite::{self, Row, Status};
use anyhow::{Context, Result};
use mmharness_build::artifact::{self, Manifest, Options};
use mmharness_build::layout::{self, Layouts};
use mmharness_build::plan::Plan;
use serde::Serialize;
use std::path::Path;

/// One tree's artifact and results.
pub struct TreeRun {
    pub manifest: Manifest,
    pub rows: Vec<Row>,
    pub layouts: Layouts,
}

/// Builds a planned tree (with bindings, for the layouts; sanitized if the
/// plan is) and runs the selected entries in its runner.
pub fn run_tree(plan: Plan, cache: &Path, entries: &[Entry]) -> Result<TreeRun> {
    let root = plan.tree.root.clone();
    let art = artifact::from_plan(plan, &Options::new(cache.to_path_buf()))
        .with_context(|| format!("building {}", root.display()))?;
    let bindings = std::fs::read_to_string(art.bindings()).context("reading the bindings")?;
    let mut runner = Runner::for_artifact(&art);
    let rows = suite::run(&mut runner, entries)?;
    Ok(TreeRun { manifest: art.manifest, rows, layouts: layout::parse(&bindings) })
}

/// What a scenario did on one tree, in words: what a reader compares.
pub fn summary(r: &Row) -> String {
    match (&r.status, &r.got) {
        (Status::NotApplicable { .. }, _) => "not applicable".into(),
        (_, Some(g)) if g.crash => r.result(),
        (_, Some(g)) => format!(
            "returned {}, {} unmap{}, {} WARN{}, mapped() x{}",
            r.result(),
            g.unmaps,
            if g.unmaps == 1 { "" } else { "s" },
            g.warns,
            if g.warns == 1 { "" } else { "s" },
            g.mapped_calls
        ),
        (_, None) => "-".into(),
    }
}

#[derive(Debug, Serialize)]
pub struct ScenarioChange {
    pub name: &'static str,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Serialize)]
pub struct Comparison {
    pub before: String,
    pub after: String,
    pub capabilities_added: Vec<&'static str>,
    pub capabilities_removed: Vec<&'static str>,
    pub scenarios: Vec<ScenarioChange>,
    pub layout: Vec<String>,
}

impl Comparison {
    pub fn is_empty(&self) -> bool {
        self.capabilities_added.is_empty()
            && self.capabilities_removed.is_empty()
            && self.scenarios.is_empty()
            && self.layout.is_empty()
    }
}

fn label(m: &Manifest) -> String {
    format!("Linux {} at {}", m.kernel_version, m.tree.display())
}

pub fn compare(a: &TreeRun, b: &TreeRun) -> Comparison {
    let (ca, cb) = (a.manifest.capabilities.names(), b.manifest.capabilities.names());
    let scenarios = a
        .rows
        .iter()
        .zip(&b.rows)
        .map(|(x, y)| ScenarioChange { name: x.name, before: summary(x), after: summary(y) })
        .filter(|c| c.before != c.after)
        .collect();
    Comparison {
        before: label(&a.manifest),
        after: label(&b.manifest),
        capabilities_added: cb.iter().copied().filter(|c| !ca.contains(c)).collect(),
        capabilities_removed: ca.iter().copied().filter(|c| !cb.contains(c)).collect(),
        scenarios,
        layout: layout::differences(&a.layouts, &b.layouts),
    }
}

pub fn terminal(c: &Comparison) -> String {
    let mut out = format!("before: {}\nafter:  {}\n", c.before, c.after);
    if c.is_empty() {
        out.push_str("no difference in behaviour, capabilities or layout\n");
        return out;
    }
    if !c.capabilities_added.is_empty() || !c.capabilities_removed.is_empty() {
        out.push_str(&format!(
            "capabilities: +[{}] -[{}]\n",
            c.capabilities_added.join(" "),
            c.capabilities_removed.join(" ")
        ));
    }
    if !c.scenarios.is_empty() {
        out.push_str(&format!("{} scenarios behave differently:\n", c.scenarios.len()));
        for s in &c.scenarios {
            out.push_str(&format!("  {}\n    before: {}\n    after:  {}\n", s.name, s.before, s.after));
        }
    }
    for l in &c.layout {
        out.push_str(&format!("layout: {l}\n"));
    }
    out
}
