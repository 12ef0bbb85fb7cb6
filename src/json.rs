//! The JSON every command prints, on one schema: a `schema_version`,
//! errnos as `{"name": "-EAGAIN", "value": -11}`, what a reader acts on and
//! no internal fields. The README documents each field.

use crate::catalogue::Entry;
use crate::compare::Comparison;
use crate::e2e_suite::E2eRow;
use crate::expect::Expected;
use crate::outcome::Ret;
use crate::report;
use crate::suite::{self, Row, Status};
use mmharness_build::artifact::Manifest;
use mmharness_build::cache::Usage;
use serde_json::{json, Map, Value};

/// Bumped when a field changes meaning or goes away, in any command's JSON.
pub const SCHEMA_VERSION: u32 = 1;

/// A command's output: `fields` (an object) behind the schema version.
pub fn document(fields: Value) -> Value {
    let mut doc = Map::new();
    doc.insert("schema_version".into(), SCHEMA_VERSION.into());
    match fields {
        Value::Object(f) => doc.extend(f),
        other => panic!("a document is an object, not {other}"),
    }
    Value::Object(doc)
}

/// A return value: `{"name": "-EAGAIN", "value": -11}`.
pub fn ret(ret: i32) -> Value {
    json!({ "name": Ret(ret).name(), "value": ret })
}

/// A summary (what the catalogue expects, or what happened).
pub fn summary(e: &Expected) -> Value {
    json!({
        "ret": ret(e.ret),
        "unmaps": e.unmaps,
        "warns": e.warns,
        "mapped_calls": e.mapped_calls,
        "crash": e.crash,
    })
}

/// The tree a result comes from.
fn tree(m: &Manifest) -> Value {
    json!({
        "tree": m.tree,
        "kernel_version": m.kernel_version,
        "artifact": m.key,
        "sanitized": m.sanitized(),
        "capabilities": m.capabilities.names(),
    })
}

/// One row of the table: the verdict, the summaries compared, and what a
/// reader acts on (the WARNs with their places, a crash's report).
fn row(r: &Row) -> Value {
    let (status, detail) = match &r.status {
        Status::Pass => ("pass", None),
        Status::Fail { difference } => ("fail", Some(difference)),
        Status::NotApplicable { reason } => ("not_applicable", Some(reason)),
    };
    let crash = r.outcome.as_ref().and_then(|o| o.crash.as_ref());
    json!({
        "name": r.name,
        "why": r.why,
        "status": status,
        "detail": detail,
        "result": r.result(),
        "expected": summary(&r.expected),
        "got": r.got.as_ref().map(summary),
        "warns": r.outcome.as_ref().map_or(&[][..], |o| &o.warns[..]),
        "crash": crash.map(|c| json!({ "signal": c.signal, "report": c.description })),
    })
}

/// `mmharness table --json`.
pub fn table(m: &Manifest, rows: &[Row]) -> Value {
    let mut doc = document(tree(m));
    doc["rows"] = rows.iter().map(row).collect();
    doc
}

/// `mmharness list --json`.
pub fn list(entries: &[Entry], tree: Option<&Manifest>) -> Value {
    let rows: Vec<Value> = entries
        .iter()
        .map(|e| {
            let mut row = json!({ "name": e.name, "why": e.why, "requires": report::requirements(e) });
            if let Some(m) = tree {
                let reason = suite::applicability(e, &m.capabilities).err();
                row["applicable"] = reason.is_none().into();
                row["reason"] = reason.into();
            }
            row
        })
        .collect();
    let mut j = json!({ "scenarios": rows });
    if let Some(m) = tree {
        j["tree"] = json!(m.tree);
        j["kernel_version"] = m.kernel_version.clone().into();
        j["capabilities"] = m.capabilities.names().into();
    }
    document(j)
}

/// What differs between two runs, as `diff --json` and `review --json`
/// print it (without the schema version: each command's document has it).
pub fn comparison(c: &Comparison) -> Value {
    let scenarios: Vec<Value> = c
        .scenarios
        .iter()
        .map(|s| {
            let fields: Vec<Value> =
                s.fields.iter().map(|f| json!({ "field": f.field, "before": f.before, "after": f.after })).collect();
            json!({
                "name": s.name,
                "before": s.got_before.as_ref().map(summary),
                "after": s.got_after.as_ref().map(summary),
                "fields": fields,
            })
        })
        .collect();
    let one_sided: Vec<Value> = c
        .one_sided
        .iter()
        .map(|o| json!({ "name": o.name, "not_applicable_on": o.not_applicable_on, "reason": o.reason }))
        .collect();
    json!({
        "before": tree(&c.before_tree),
        "after": tree(&c.after_tree),
        "same": c.is_empty(),
        "capabilities_added": c.capabilities_added,
        "capabilities_removed": c.capabilities_removed,
        "scenarios": scenarios,
        "one_sided": one_sided,
        "layout": c.layout,
    })
}

/// `mmharness cache --json`: sizes in bytes, times in seconds since the epoch.
pub fn cache(u: &Usage) -> Value {
    let secs = |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let artifacts: Vec<Value> = u
        .artifacts
        .iter()
        .map(|e| json!({ "key": e.key, "bytes": e.bytes, "last_used": secs(e.used), "tree": e.tree }))
        .collect();
    let trees: Vec<Value> = u.trees.iter().map(|(dir, bytes)| json!({ "dir": dir, "bytes": bytes })).collect();
    document(json!({
        "root": u.root,
        "bytes": u.total(),
        "artifacts": artifacts,
        "trees": trees,
        "packages_bytes": u.debs,
        "unfinished_builds_bytes": u.tmp,
    }))
}

/// `table --e2e --json`: the end-to-end rows of one tree.
pub fn e2e_table(kernel_version: &str, rows: &[E2eRow]) -> serde_json::Result<Value> {
    Ok(document(json!({ "kernel_version": kernel_version, "rows": serde_json::to_value(rows)? })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::manifest;

    #[test]
    fn the_table_is_versioned_and_names_errnos_with_their_numbers() {
        let e = Expected { ret: -11, unmaps: 0, warns: 0, mapped_calls: 0, crash: false, details: Default::default() };
        let difference = "returned -ENOMEM, expected -EAGAIN".to_string();
        let r = Row { name: "a", why: "", status: Status::Fail { difference }, expected: e, got: None, outcome: None };
        let j = table(&manifest(), &[r]);
        assert_eq!(j["schema_version"], 1);
        assert_eq!(j["kernel_version"], "7.3.4");
        assert_eq!(j["rows"][0]["expected"]["ret"], json!({ "name": "-EAGAIN", "value": -11 }));
        assert_eq!(j["rows"][0]["status"], "fail");
        assert_eq!(j["rows"][0]["detail"], "returned -ENOMEM, expected -EAGAIN");
    }

    #[test]
    fn every_document_starts_with_the_schema_version() {
        let doc = document(json!({ "caught": 3 }));
        assert_eq!(doc, json!({ "schema_version": 1, "caught": 3 }));
    }
}
