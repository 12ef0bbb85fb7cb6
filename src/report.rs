//! The behaviour table of a tree, as a terminal table, JSON or KTAP.

use crate::catalogue::Entry;
use crate::suite::{self, Row, Status};
use mmharness_build::artifact::Manifest;

/// The header every output starts with: which tree, which capabilities,
/// whether the sanitizers watch.
pub fn describe(m: &Manifest) -> String {
    format!(
        "Linux {} at {} (artifact {})\ncapabilities: {}\nsanitizers: {}",
        m.kernel_version,
        m.tree.display(),
        &m.key[..12],
        m.capabilities.names().join(" "),
        if m.sanitized() { "AddressSanitizer and UBSan" } else { "off (--sanitize turns them on)" }
    )
}

/// The first sentence of an entry's why: the deciding function and its rule.
fn first_sentence(why: &str) -> &str {
    why.find(". ").map_or(why, |i| &why[..=i])
}

/// What a tree needs to run `e`: what the entry requires, then what its
/// scenario asks besides (`vm_ops_mapped or success_hook`).
pub(crate) fn requirements(e: &Entry) -> Vec<String> {
    let mut r: Vec<String> = e.requires.iter().map(|c| c.name().to_string()).collect();
    for need in e.scenario.needs() {
        if !need.0.iter().any(|c| e.requires.contains(c)) {
            r.push(need.to_string());
        }
    }
    r
}

/// `mmharness list`: each entry's name, what decides it, what it requires;
/// with a tree (`list --kernel`), whether it runs there or why not, without
/// running anything.
pub fn list(entries: &[Entry], tree: Option<&Manifest>) -> String {
    let mut out = tree.map_or_else(String::new, |m| describe(m) + "\n");
    let mut applicable = 0;
    for e in entries {
        let needs = requirements(e);
        out.push_str(e.name);
        if !needs.is_empty() {
            out.push_str(&format!("  [requires {}]", needs.join(", ")));
        }
        out.push_str(&format!("\n    {}\n", first_sentence(e.why)));
        if let Some(m) = tree {
            match suite::applicability(e, &m.capabilities) {
                Ok(()) => applicable += 1,
                Err(reason) => out.push_str(&format!("    {reason}\n")),
            }
        }
    }
    out.push_str(&format!("{} scenario{}", entries.len(), if entries.len() == 1 { "" } else { "s" }));
    if tree.is_some() {
        out.push_str(&format!(": {applicable} run on this tree, {} not applicable", entries.len() - applicable));
    }
    out.push('\n');
    out
}

/// How the terminal table is laid out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout {
    /// Columns to fit, or `None` for full names and lines of any length.
    pub width: Option<u16>,
    /// Colour the verdicts (a terminal, `NO_COLOR` unset).
    pub colour: bool,
    /// Only the scenarios that differ from the catalogue.
    pub failed_only: bool,
}

/// The line of a long message a reader needs first: a sanitizer's report or
/// UBSan's `runtime error:` if there is one, else its first non-empty line.
pub fn headline(text: &str) -> &str {
    let lines = || text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.chars().all(|c| c == '='));
    let report = lines().find(|l| l.contains("Sanitizer:") || l.contains("runtime error:"));
    // ASan's `==PID==ERROR: ` says nothing the rest of the line does not.
    let report = report.map(|l| l.split_once("==ERROR: ").map_or(l, |(_, rest)| rest));
    report.or_else(|| lines().next()).unwrap_or("")
}

/// `name` in at most `max` characters: its start and end, which say what
/// and how, joined by `…` (`--wide` and JSON give it whole).
fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_string();
    }
    let head = (max - 1) / 2;
    format!("{}…{}", &name[..head], &name[name.len() - (max - 1 - head)..])
}

fn verdict(s: &Status) -> (String, comfy_table::Color) {
    use comfy_table::Color;
    match s {
        Status::Pass => ("as expected".into(), Color::Green),
        Status::Fail { difference } => (format!("DIFFERS: {}", headline(difference)), Color::Red),
        Status::NotApplicable { reason } => (reason.clone(), Color::Yellow),
    }
}

/// The table `mmharness table` prints: one row per scenario, fitted to
/// `layout.width` by wrapping its cells.
pub fn terminal(m: &Manifest, rows: &[Row], layout: Layout) -> String {
    use comfy_table::{presets, Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table, Width};
    let mut t = Table::new();
    t.load_preset(presets::NOTHING).set_header(["scenario", "result", "unmaps", "WARNs", "verdict"]);
    // Names get a third of the width, results and WARNs what they need up
    // to a bound, and the verdict the rest.
    let name_width = layout.width.map(|w| (usize::from(w) / 3).max(24));
    match layout.width {
        Some(w) => t.set_content_arrangement(ContentArrangement::Dynamic).set_width(w),
        None => t.set_content_arrangement(ContentArrangement::Disabled),
    };
    if layout.colour {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    for r in rows.iter().filter(|r| !layout.failed_only || matches!(r.status, Status::Fail { .. })) {
        let unmaps = r.got.as_ref().map_or("-".into(), |g| g.unmaps.to_string());
        let warns = r.warns();
        let warns = if warns.is_empty() { "-".to_string() } else { warns.join("\n") };
        let (text, colour) = verdict(&r.status);
        let verdict = if layout.colour { Cell::new(text).fg(colour) } else { Cell::new(text) };
        t.add_row(vec![
            Cell::new(name_width.map_or(r.name.to_string(), |w| shorten(r.name, w))),
            Cell::new(r.result()),
            Cell::new(unmaps).set_alignment(CellAlignment::Right),
            Cell::new(warns),
            verdict,
        ]);
    }
    if let Some(w) = name_width {
        t.column_mut(0).map(|c| c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(w as u16 + 2))));
        let at_most = |n: usize| ColumnConstraint::UpperBoundary(Width::Fixed(n as u16 + 2));
        t.column_mut(1).map(|c| c.set_constraint(at_most("crash (SIGSEGV)".len())));
        t.column_mut(3).map(|c| c.set_constraint(at_most(usize::from(layout.width.unwrap_or(80)) / 5)));
    }
    let header: Vec<String> = match layout.width {
        Some(w) => describe(m)
            .lines()
            .map(|l| textwrap::fill(l, textwrap::Options::new(w.into()).subsequent_indent("  ")))
            .collect(),
        None => vec![describe(m)],
    };
    let (header, t) = (header.join("\n"), t.trim_fmt());
    let count = |f: fn(&Status) -> bool| rows.iter().filter(|r| f(&r.status)).count();
    format!(
        "{header}\n{t}\n{} as expected, {} differ, {} not applicable\n",
        count(|s| matches!(s, Status::Pass)),
        count(|s| matches!(s, Status::Fail { .. })),
        count(|s| matches!(s, Status::NotApplicable { .. }))
    )
}

/// The suite name KTAP readers group the scenarios under.
pub const SUITE: &str = "mmap_action";

/// `text` as KTAP diagnostic lines at `indent`: every line behind `# `, so
/// no line of a crash report can read as a result.
fn diagnostic(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        out.push_str(&format!("{indent}# {line}\n"));
    }
}

/// KTAP version 1, as KUnit prints it: the scenarios as a nested suite
/// (`# Subtest: mmap_action`), `# SKIP` for what the tree cannot express,
/// each failure's difference as diagnostics, and kunit's `# Totals:` line.
pub fn ktap(m: &Manifest, rows: &[Row]) -> String {
    let mut out = String::from("KTAP version 1\n");
    diagnostic(&mut out, "", &describe(m));
    out.push_str(&format!("1..1\n    KTAP version 1\n    # Subtest: {SUITE}\n    1..{}\n", rows.len()));
    for (i, r) in rows.iter().enumerate() {
        let n = i + 1;
        match &r.status {
            Status::Pass => out.push_str(&format!("    ok {n} {}\n", r.name)),
            Status::NotApplicable { reason } => out.push_str(&format!("    ok {n} {} # SKIP {reason}\n", r.name)),
            Status::Fail { difference } => {
                diagnostic(&mut out, "    ", &format!("{}: {difference}", r.name));
                out.push_str(&format!("    not ok {n} {}\n", r.name));
            }
        }
    }
    let count = |f: fn(&Status) -> bool| rows.iter().filter(|r| f(&r.status)).count();
    let (fail, skip) =
        (count(|s| matches!(s, Status::Fail { .. })), count(|s| matches!(s, Status::NotApplicable { .. })));
    let totals = format!("pass:{} fail:{fail} skip:{skip} total:{}", rows.len() - fail - skip, rows.len());
    out.push_str(&format!("# {SUITE}: {totals}\n# Totals: {totals}\n"));
    out.push_str(&format!("{} 1 {SUITE}\n", if fail == 0 { "ok" } else { "not ok" }));
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::expect::Expected;

    fn row(name: &'static str, status: Status) -> Row {
        let e = Expected { ret: 0, unmaps: 0, warns: 0, mapped_calls: 0, crash: false, details: Default::default() };
        Row { name, why: "", status, expected: e.clone(), got: Some(e), outcome: None }
    }

    /// A manifest of 7.3's capabilities, for the JSON tests too.
    pub(crate) fn manifest() -> Manifest {
        serde_json::from_value(serde_json::json!({
            "tree": "/k", "kernel_version": "7.3.4", "key": "0123456789abcdef",
            "capabilities": { "error_override": true, "error_hook": false, "success_hook": false, "vm_ops_mapped": true,
                "prepare_returns_error": true, "complete": "vma_action_compat", "desc_vma_flags": true,
                "action_types": ["MMAP_NOTHING"], "split_tools_headers": true, "nommu_variants": true, "devmem": true, "compat_vma_mmap": true },
            "extracted": [], "leaves": [], "flags": [], "compiler": "cc", "warnings": []
        }))
        .unwrap()
    }

    #[test]
    fn a_long_name_keeps_its_start_and_end() {
        assert_eq!(shorten("compat_success_still_calls_mapped", 15), "compat_…_mapped");
        assert_eq!(shorten("override_zero_is_accepted", 25), "override_zero_is_accepted");
    }

    #[test]
    fn the_headline_of_a_sanitizer_crash_is_its_report() {
        let text = "crash exited with status 1: =====\n==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x6\nREAD";
        assert_eq!(headline(text), "AddressSanitizer: heap-buffer-overflow on address 0x6");
        assert_eq!(headline("returned -ENOMEM, expected -EAGAIN"), "returned -ENOMEM, expected -EAGAIN");
    }

    #[test]
    fn ktap_nests_the_scenarios_in_a_suite_with_totals_and_every_diagnostic_line_commented() {
        let rows = vec![
            row("a", Status::Pass),
            row("b", Status::Fail { difference: "crash exited with status 1:\nok 7 looks like a result".into() }),
            row("c", Status::NotApplicable { reason: "not applicable: the tree lacks is_compat".into() }),
        ];
        let k = ktap(&manifest(), &rows);
        let lines: Vec<&str> = k
            .lines()
            .filter(|l| !l.starts_with("# Linux") && !l.starts_with("# capabilities") && !l.starts_with("# sanitizers"))
            .collect();
        assert_eq!(
            lines,
            vec![
                "KTAP version 1",
                "1..1",
                "    KTAP version 1",
                "    # Subtest: mmap_action",
                "    1..3",
                "    ok 1 a",
                "    # b: crash exited with status 1:",
                "    # ok 7 looks like a result",
                "    not ok 2 b",
                "    ok 3 c # SKIP not applicable: the tree lacks is_compat",
                "# mmap_action: pass:1 fail:1 skip:1 total:3",
                "# Totals: pass:1 fail:1 skip:1 total:3",
                "not ok 1 mmap_action",
            ]
        );
    }
}
