//! `mmharness check-dup`: the tools headers' copies of the kernel's
//! definitions, compared with the kernel's own.

use anyhow::{bail, Result};
use mmharness_build::dupcheck::{Comparison, Report, Status};
use mmharness_build::plan::Plan;

/// Prints the report; false when a definition compared exactly differs.
pub fn run(plan: &Plan, json: bool) -> Result<bool> {
    let tree = &plan.tree;
    let report =
        Report { tree: tree.root.clone(), kernel_version: tree.version.clone(), definitions: plan.dup.clone() };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(!report.exact_differs());
    }
    println!("Linux {} at {}", report.kernel_version, tree.root.display());
    for d in &report.definitions {
        let status = match (d.status, d.comparison) {
            (Status::Same, _) => "same",
            (Status::Differs, Comparison::Exact) => "DIFFERS",
            // Not counted in the exit status: only the exact copies are.
            (Status::Differs, Comparison::UsedFields) => "differs where the code uses it",
            (Status::InfoOnly, _) => "info-only",
        };
        let how = match d.comparison {
            Comparison::Exact => format!("exact, {} members", d.compared.len()),
            Comparison::UsedFields => format!("fields the extracted code uses: {}", d.compared.join(", ")),
        };
        let kernel_file = d.kernel_file.as_deref().unwrap_or("-");
        println!("{}: {status} ({how}; {kernel_file} vs {})", d.definition, d.tools_file);
        for line in &d.differences {
            println!("  difference: {line}");
        }
        for line in &d.information {
            println!("  info: {line}");
        }
    }
    if report.exact_differs() {
        println!("the tools headers' copies differ from the kernel: this tree's results rest on definitions that are not the kernel's");
    }
    Ok(!report.exact_differs())
}

/// Fails when a tree's exactly compared copies differ from the kernel's:
/// results on that tree would rest on definitions that are not the kernel's.
pub fn require_consistent(plan: &Plan) -> Result<()> {
    let differences = plan.dup_differences();
    if !differences.is_empty() {
        bail!(
            "{}: the tools headers' copies differ from the kernel's, so results would not be the kernel's:\n  {}",
            plan.tree.root.display(),
            differences.join("\n  ")
        );
    }
    Ok(())
}
