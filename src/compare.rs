//! The same scenarios on two trees, and what differs: behaviour,
//! capabilities, struct layouts. `diff` compares two trees; `review`
//! compares a tree before and after a patch.

use crate::backend::Runner;
use crate::catalogue::Entry;
use crate::expect::{self, Expected};
use crate::suite::{self, Row, Status};
use anyhow::{Context, Result};
use mmharness_build::artifact::{self, Manifest, Options};
use mmharness_build::layout::{self, Layouts, Sources};
use mmharness_build::plan::Plan;
use std::path::Path;

/// One tree's artifact and results.
pub struct TreeRun {
    pub manifest: Manifest,
    pub rows: Vec<Row>,
    pub layouts: Layouts,
    /// What the layouts come from: a change is attributed to one of them.
    pub sources: Sources,
}

/// Builds a planned tree (with bindings, for the layouts; sanitized if the
/// plan is) and runs the selected entries in its runner.
pub fn run_tree(plan: Plan, cache: &Path, entries: &[Entry]) -> Result<TreeRun> {
    let root = plan.tree.root.clone();
    let sources = Sources::of(&plan);
    let art = artifact::from_plan(plan, &Options::new(cache.to_path_buf()))
        .with_context(|| format!("building {}", root.display()))?;
    let bindings = std::fs::read_to_string(art.bindings()).context("reading the bindings")?;
    let mut runner = Runner::for_artifact(&art);
    let rows = suite::run(&mut runner, entries)?;
    Ok(TreeRun { manifest: art.manifest, rows, layouts: layout::parse(&bindings), sources })
}

/// What a scenario did on one tree, in words: the headline of a change.
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

/// One field of a scenario's outcome that differs between the two sides.
#[derive(Debug, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// A scenario that ran on both sides and did something else.
#[derive(Debug)]
pub struct ScenarioChange {
    pub name: &'static str,
    /// What it did on each side, in words ([`summary`]) and as a summary.
    pub before: String,
    pub after: String,
    pub got_before: Option<Expected>,
    pub got_after: Option<Expected>,
    /// Every field that differs, in the order of `expect::between`.
    pub fields: Vec<FieldChange>,
}

/// A scenario only one side can express: not a change in behaviour.
#[derive(Debug)]
pub struct OneSided {
    pub name: &'static str,
    /// The side that cannot run it: `before` or `after`.
    pub not_applicable_on: &'static str,
    pub reason: String,
}

#[derive(Debug)]
pub struct Comparison {
    /// Each side's label: `Linux <version> at <tree>`.
    pub before: String,
    pub after: String,
    pub before_tree: Manifest,
    pub after_tree: Manifest,
    pub capabilities_added: Vec<&'static str>,
    pub capabilities_removed: Vec<&'static str>,
    pub scenarios: Vec<ScenarioChange>,
    pub one_sided: Vec<OneSided>,
    pub layout: Vec<String>,
}

impl Comparison {
    /// No difference in behaviour, capabilities or layout.
    pub fn is_empty(&self) -> bool {
        self.capabilities_added.is_empty()
            && self.capabilities_removed.is_empty()
            && self.scenarios.is_empty()
            && self.one_sided.is_empty()
            && self.layout.is_empty()
    }
}

fn label(m: &Manifest) -> String {
    format!("Linux {} at {}", m.kernel_version, m.tree.display())
}

/// The scenario on both sides: a change, a one-sided scenario, or nothing.
fn scenario(x: &Row, y: &Row) -> (Option<ScenarioChange>, Option<OneSided>) {
    let one = |side, reason: &String| {
        (None, Some(OneSided { name: x.name, not_applicable_on: side, reason: reason.clone() }))
    };
    match (&x.status, &y.status, &x.outcome, &y.outcome) {
        (Status::NotApplicable { .. }, Status::NotApplicable { .. }, ..) => (None, None),
        (Status::NotApplicable { reason }, ..) => one("before", reason),
        (_, Status::NotApplicable { reason }, ..) => one("after", reason),
        (_, _, Some(a), Some(b)) => {
            let fields: Vec<FieldChange> = expect::between(a, b)
                .into_iter()
                .map(|d| FieldChange { field: d.field, before: d.expected, after: d.got })
                .collect();
            let change = (!fields.is_empty()).then(|| ScenarioChange {
                name: x.name,
                before: summary(x),
                after: summary(y),
                got_before: x.got.clone(),
                got_after: y.got.clone(),
                fields,
            });
            (change, None)
        }
        _ => (None, None),
    }
}

pub fn compare(a: &TreeRun, b: &TreeRun) -> Comparison {
    let (ca, cb) = (a.manifest.capabilities.names(), b.manifest.capabilities.names());
    let (mut scenarios, mut one_sided) = (Vec::new(), Vec::new());
    for (x, y) in a.rows.iter().zip(&b.rows) {
        let (change, one) = scenario(x, y);
        scenarios.extend(change);
        one_sided.extend(one);
    }
    Comparison {
        before: label(&a.manifest),
        after: label(&b.manifest),
        before_tree: a.manifest.clone(),
        after_tree: b.manifest.clone(),
        capabilities_added: cb.iter().copied().filter(|c| !ca.contains(c)).collect(),
        capabilities_removed: ca.iter().copied().filter(|c| !cb.contains(c)).collect(),
        scenarios,
        one_sided,
        layout: layout::attributed((&a.layouts, &a.sources), (&b.layouts, &b.sources)),
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
        let n = c.scenarios.len();
        out.push_str(&format!("{n} scenario{} differently:\n", if n == 1 { " behaves" } else { "s behave" }));
        for s in &c.scenarios {
            out.push_str(&format!("  {}: {} -> {}\n", s.name, s.before, s.after));
            let w = s.fields.iter().map(|f| f.field.len()).max().unwrap_or(0);
            for f in &s.fields {
                out.push_str(&format!(
                    "    {:w$}  before: {}\n    {:w$}  after:  {}\n",
                    f.field, f.before, "", f.after
                ));
            }
        }
    }
    if !c.one_sided.is_empty() {
        out.push_str(&format!("{} scenarios run on one side only:\n", c.one_sided.len()));
        for s in &c.one_sided {
            out.push_str(&format!("  {}: not applicable {} ({})\n", s.name, s.not_applicable_on, s.reason));
        }
    }
    for l in &c.layout {
        out.push_str(&format!("layout: {l}\n"));
    }
    out
}
