//! The behaviour table of a tree, as a terminal table, JSON or KTAP.

use crate::catalogue::Entry;
use crate::suite::{Row, Status};
use mmharness_build::artifact::Manifest;
use mmharness_build::toolchain::SANITIZE;

/// Whether the artifact's C was built with the sanitizers.
pub fn sanitized(m: &Manifest) -> bool {
    SANITIZE.iter().all(|f| m.flags.iter().any(|g| g == f))
}

/// The header every output starts with: which tree, which capabilities,
/// whether the sanitizers watch.
pub fn describe(m: &Manifest) -> String {
    format!(
        "Linux {} at {} (artifact {})\ncapabilities: {}\nsanitizers: {}",
        m.kernel_version,
        m.tree.display(),
        &m.key[..12],
        m.capabilities.names().join(" "),
        if sanitized(m) { "AddressSanitizer and UBSan" } else { "off (--sanitize turns them on)" }
    )
}

/// The first sentence of an entry's why: the deciding function and its rule.
fn first_sentence(why: &str) -> &str {
    why.find(". ").map_or(why, |i| &why[..=i])
}

/// `mmharness list`: each entry's name, what decides it, what it requires.
pub fn list(entries: &[Entry]) -> String {
    let mut out = String::new();
    for e in entries {
        let needs: Vec<&str> = e.requires.iter().map(|c| c.name()).collect();
        out.push_str(e.name);
        if !needs.is_empty() {
            out.push_str(&format!("  [requires {}]", needs.join(", ")));
        }
        out.push_str(&format!("\n    {}\n", first_sentence(e.why)));
    }
    out.push_str(&format!("{} scenarios\n", entries.len()));
    out
}

pub fn list_json(entries: &[Entry]) -> serde_json::Value {
    let rows: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            let needs: Vec<&str> = e.requires.iter().map(|c| c.name()).collect();
            serde_json::json!({ "name": e.name, "why": e.why, "requires": needs })
        })
        .collect();
    serde_json::json!({ "schema_version": SCHEMA_VERSION, "scenarios": rows })
}

fn verdict(s: &Status) -> String {
    match s {
        Status::Pass => "as expected".into(),
        Status::Fail { difference } => format!("DIFFERS: {difference}"),
        Status::NotApplicable { reason } => reason.clone(),
    }
}

pub fn terminal(m: &Manifest, rows: &[Row]) -> String {
    let mut out = describe(m);
    out.push('\n');
    let w = rows.iter().map(|r| r.name.len()).max().unwrap_or(8);
    let results: Vec<String> = rows.iter().map(Row::result).collect();
    let rw = results.iter().map(String::len).max().unwrap_or(6).max(6);
    out.push_str(&format!("{:w$}  {:rw$}  {:6}  {:40}  verdict\n", "scenario", "result", "unmaps", "WARNs"));
    for (r, result) in rows.iter().zip(&results) {
        let unmaps = r.got.as_ref().map_or("-".into(), |g| g.unmaps.to_string());
        let warns = r.warns();
        let warns = if warns.is_empty() { "-".to_string() } else { warns.join("; ") };
        out.push_str(&format!("{:w$}  {:rw$}  {:6}  {:40}  {}\n", r.name, result, unmaps, warns, verdict(&r.status)));
    }
    let count = |f: fn(&Status) -> bool| rows.iter().filter(|r| f(&r.status)).count();
    out.push_str(&format!(
        "{} as expected, {} differ, {} not applicable\n",
        count(|s| matches!(s, Status::Pass)),
        count(|s| matches!(s, Status::Fail { .. })),
        count(|s| matches!(s, Status::NotApplicable { .. }))
    ));
    out
}

/// Bumped when a field of the JSON output changes meaning or goes away.
pub const SCHEMA_VERSION: u32 = 1;

pub fn json(m: &Manifest, rows: &[Row]) -> serde_json::Value {
    serde_json::json!({
        "schema_version": SCHEMA_VERSION,
        "sanitized": sanitized(m),
        "tree": m.tree,
        "kernel_version": m.kernel_version,
        "artifact": m.key,
        "capabilities": m.capabilities.names(),
        "rows": rows,
    })
}

/// KTAP version 1, as KUnit and kselftest print it: a plan, one result line
/// per scenario, `# SKIP` for what the tree cannot express, diagnostics as
/// `#` lines.
pub fn ktap(m: &Manifest, rows: &[Row]) -> String {
    let mut out = String::from("KTAP version 1\n");
    for line in describe(m).lines() {
        out.push_str(&format!("# {line}\n"));
    }
    out.push_str(&format!("1..{}\n", rows.len()));
    for (i, r) in rows.iter().enumerate() {
        let n = i + 1;
        match &r.status {
            Status::Pass => out.push_str(&format!("ok {n} {}\n", r.name)),
            Status::NotApplicable { reason } => out.push_str(&format!("ok {n} {} # SKIP {reason}\n", r.name)),
            Status::Fail { difference } => {
                out.push_str(&format!("# {}: {difference}\n", r.name));
                out.push_str(&format!("not ok {n} {}\n", r.name));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::Expected;

    fn row(name: &'static str, status: Status) -> Row {
        let e = Expected { ret: 0, unmaps: 0, warns: 0, mapped_calls: 0, crash: false, details: Default::default() };
        Row { name, why: "", status, expected: e.clone(), got: Some(e), outcome: None }
    }

    fn manifest() -> Manifest {
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
    fn ktap_has_a_plan_results_skips_and_diagnostics() {
        let rows = vec![
            row("a", Status::Pass),
            row("b", Status::Fail { difference: "returned -ENOMEM, expected -EAGAIN".into() }),
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
                "1..3",
                "ok 1 a",
                "# b: returned -ENOMEM, expected -EAGAIN",
                "not ok 2 b",
                "ok 3 c # SKIP not applicable: the tree lacks is_compat",
            ]
        );
    }
}
