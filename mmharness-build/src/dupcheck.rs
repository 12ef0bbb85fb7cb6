//! Compares the tools headers' copies of kernel definitions with the
//! kernel's own. `tools/testing/vma/include/dup.h` (a single
//! `tools/testing/vma/vma_internal.h` in older trees) duplicates
//! `struct mmap_action` and its neighbours, and every result of the harness
//! trusts those copies. The kernel headers cannot go through a C front end on
//! an unconfigured tree, so both copies are parsed by `c::decl`: field
//! names, types, attributes, nesting, order, and the conditional groups
//! inside the body.

use crate::c::decl::{Definition, Field, Kind};
use crate::c::File;
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// How a definition is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// Every difference is an error.
    Exact,
    /// The tools headers trim the definition on purpose: only the fields
    /// the extracted code uses are compared, the rest is information.
    UsedFields,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Same,
    Differs,
    InfoOnly,
}

#[derive(Debug, Clone, Serialize)]
pub struct DefinitionReport {
    /// `struct mmap_action`.
    pub definition: String,
    pub comparison: Comparison,
    /// Where the kernel's definition was found, if it was.
    pub kernel_file: Option<String>,
    pub tools_file: String,
    pub status: Status,
    /// The kernel's fields that were compared.
    pub compared: Vec<String>,
    pub differences: Vec<String>,
    pub information: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tree: PathBuf,
    pub kernel_version: String,
    pub definitions: Vec<DefinitionReport>,
}

impl Report {
    /// Whether a definition compared exactly differs: the harness's results
    /// then rest on a copy that is not the kernel's.
    pub fn exact_differs(&self) -> bool {
        self.definitions.iter().any(|d| d.comparison == Comparison::Exact && d.status == Status::Differs)
    }
}

/// The definitions checked, and how.
pub const CHECKED: &[(Kind, &str, Comparison)] = &[
    (Kind::Struct, "mmap_action", Comparison::Exact),
    (Kind::Enum, "mmap_action_type", Comparison::Exact),
    (Kind::Struct, "vm_area_desc", Comparison::Exact),
    (Kind::Struct, "vm_area_struct", Comparison::UsedFields),
    (Kind::Struct, "vm_operations_struct", Comparison::UsedFields),
];

/// A field's identity across the two copies: its path, and which of the
/// fields with that path it is (a path repeats only across `#else`).
type Key = (String, usize);

fn keyed(fields: &[Field]) -> Vec<(Key, &Field)> {
    let mut out: Vec<(Key, &Field)> = Vec::new();
    for f in fields {
        let n = out.iter().filter(|((p, _), _)| *p == f.path).count();
        out.push(((f.path.clone(), n), f));
    }
    out
}

fn describe(f: &Field, kind: Kind) -> String {
    let mut s = match (kind, f.ty.is_empty()) {
        (Kind::Enum, true) => "present".to_string(),
        (Kind::Enum, false) => format!("= {}", f.ty),
        _ => f.ty.clone(),
    };
    if !f.conditions.is_empty() {
        s.push_str(&format!(" (under {})", f.conditions.join(", ")));
    }
    s
}

/// The longest common subsequence of two key lists: the fields not in it
/// are the ones that moved.
fn lcs(a: &[&Key], b: &[&Key]) -> BTreeSet<Key> {
    let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            t[i][j] = if a[i] == b[j] { t[i + 1][j + 1] + 1 } else { t[i + 1][j].max(t[i][j + 1]) };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, BTreeSet::new());
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.insert(a[i].clone());
            i += 1;
            j += 1;
        } else if t[i + 1][j] >= t[i][j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

fn find<'a>(list: &[(Key, &'a Field)], key: &Key) -> Option<&'a Field> {
    list.iter().find(|(k, _)| k == key).map(|(_, f)| *f)
}

/// Every difference between two copies, each with the path of the field
/// it is about.
fn differences(title: &str, k: (&str, &Definition), t: (&str, &Definition)) -> Vec<(String, String)> {
    let ((kf, kd), (tf, td)) = (k, t);
    let kind = kd.kind;
    let word = kind.member_word();
    let (kk, tk) = (keyed(&kd.fields), keyed(&td.fields));
    let nesting = |x: &Field| {
        if x.within.is_empty() {
            "at the top level".to_string()
        } else {
            format!("inside {}", x.within.join(" > "))
        }
    };
    let attributes = |x: &Field| {
        if x.attributes.is_empty() {
            "no attributes".to_string()
        } else {
            x.attributes.join(" ")
        }
    };
    let conditions = |x: &Field| {
        if x.conditions.is_empty() {
            "unconditional".to_string()
        } else {
            format!("under {}", x.conditions.join(", "))
        }
    };
    let mut out = Vec::new();
    for (key, f) in &kk {
        let path = &f.path;
        let Some(g) = find(&tk, key) else {
            out.push((path.clone(), format!("{title}: {word} {path}: {} in {kf}, missing in {tf}", describe(f, kind))));
            continue;
        };
        let aspects = [
            (f.ty != g.ty, describe(f, kind), describe(g, kind)),
            (f.within != g.within, nesting(f), nesting(g)),
            (f.attributes != g.attributes, attributes(f), attributes(g)),
            (f.conditions != g.conditions, conditions(f), conditions(g)),
        ];
        for (_, a, b) in aspects.into_iter().filter(|(differ, ..)| *differ) {
            out.push((path.clone(), format!("{title}: {word} {path}: {a} in {kf}, {b} in {tf}")));
        }
    }
    for (key, g) in &tk {
        if find(&kk, key).is_none() {
            let path = &g.path;
            out.push((path.clone(), format!("{title}: {word} {path}: missing in {kf}, {} in {tf}", describe(g, kind))));
        }
    }
    // Order, among the fields both copies have.
    let common = |a: &[(Key, &Field)], b: &[(Key, &Field)]| -> Vec<Key> {
        a.iter().filter(|(k, _)| find(b, k).is_some()).map(|(k, _)| k.clone()).collect()
    };
    let (ko, to) = (common(&kk, &tk), common(&tk, &kk));
    let kept = lcs(&ko.iter().collect::<Vec<_>>(), &to.iter().collect::<Vec<_>>());
    let after = |order: &[Key], key: &Key| {
        let at = order.iter().position(|k| k == key).expect("a common key");
        at.checked_sub(1).map_or("first".to_string(), |p| format!("after {}", order[p].0))
    };
    for key in ko.iter().filter(|k| !kept.contains(*k)) {
        let (a, b, path) = (after(&ko, key), after(&to, key), &key.0);
        out.push((path.clone(), format!("{title}: {word} {path}: {a} in {kf}, {b} in {tf}")));
    }
    out
}

/// Compares one definition. `kernel` is each kernel file with its text,
/// searched in order; `used` is the set of members the extracted code names.
pub fn compare(
    kind: Kind,
    name: &str,
    comparison: Comparison,
    kernel: &[&File],
    tools: &File,
    used: &BTreeSet<String>,
) -> DefinitionReport {
    let title = format!("{} {name}", kind.keyword());
    let found = kernel.iter().find_map(|f| f.aggregate(kind, name).map(|d| (f.path(), d)));
    let mut r = DefinitionReport {
        definition: title.clone(),
        comparison,
        kernel_file: found.as_ref().map(|(f, _)| f.to_string()),
        tools_file: tools.path().to_string(),
        status: Status::Differs,
        compared: Vec::new(),
        differences: Vec::new(),
        information: Vec::new(),
    };
    let Some((kf, kd)) = found else {
        let files: Vec<&str> = kernel.iter().map(|f| f.path()).collect();
        r.differences.push(format!("{title}: not found in {}", files.join(" or ")));
        return r;
    };
    let Some(td) = tools.aggregate(kind, name) else {
        r.differences.push(format!("{title}: in {kf}, not found in {}", tools.path()));
        return r;
    };
    let is_used = |path: &str| path.split('.').all(|m| used.contains(m));
    r.compared =
        kd.fields.iter().map(|f| &f.path).filter(|p| comparison == Comparison::Exact || is_used(p)).cloned().collect();
    for (path, d) in differences(&title, (kf, &kd), (tools.path(), &td)) {
        if comparison == Comparison::Exact || is_used(&path) {
            r.differences.push(d);
        } else {
            r.information.push(d);
        }
    }
    r.status = match (r.differences.is_empty(), r.information.is_empty()) {
        (false, _) => Status::Differs,
        (true, false) => Status::InfoOnly,
        (true, true) => Status::Same,
    };
    r
}

/// Compares every definition of [`CHECKED`]: the kernel's (searched in
/// `kernel`, in order) with the tools headers' copy, on the members `used`.
pub fn check(kernel: &[&File], tools: &File, used: &BTreeSet<String>) -> Vec<DefinitionReport> {
    CHECKED.iter().map(|(kind, name, comparison)| compare(*kind, name, *comparison, kernel, tools, used)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KERNEL: &str = "\
struct rec {
\tunion {
\t\tstruct { unsigned long start; } span;
\t};
\tint kind;
\tint error_override;
\tbool hide :1;
};
";

    fn file(path: &str, text: &str) -> File {
        File::new(path, text).unwrap()
    }

    fn exact(tools: &str) -> DefinitionReport {
        let kernel = file("k.h", KERNEL);
        compare(Kind::Struct, "rec", Comparison::Exact, &[&kernel], &file("d.h", tools), &BTreeSet::new())
    }

    #[test]
    fn identical_copies_are_the_same() {
        let r = exact(KERNEL);
        assert_eq!(r.status, Status::Same);
        assert_eq!(r.compared, vec!["span.start", "kind", "error_override", "hide"]);
        assert!(r.differences.is_empty() && r.information.is_empty());
    }

    #[test]
    fn each_kind_of_difference_is_put_in_words() {
        let missing = exact(&KERNEL.replace("\tint error_override;\n", ""));
        assert_eq!(missing.status, Status::Differs);
        assert_eq!(missing.differences, vec!["struct rec: field error_override: int in k.h, missing in d.h"]);

        let extra = exact(&KERNEL.replace("\tint kind;\n", "\tint kind;\n\tint spare;\n"));
        assert_eq!(extra.differences, vec!["struct rec: field spare: missing in k.h, int in d.h"]);

        let retyped = exact(&KERNEL.replace("int error_override", "long error_override"));
        assert_eq!(retyped.differences, vec!["struct rec: field error_override: int in k.h, long in d.h"]);

        let bits = exact(&KERNEL.replace("bool hide :1", "bool hide :2"));
        assert_eq!(bits.differences, vec!["struct rec: field hide: bool :1 in k.h, bool :2 in d.h"]);

        let reordered =
            exact(&KERNEL.replace("\tint kind;\n\tint error_override;\n", "\tint error_override;\n\tint kind;\n"));
        assert_eq!(
            reordered.differences,
            vec!["struct rec: field kind: after span.start in k.h, after error_override in d.h"]
        );

        let unnested = exact(&KERNEL.replace(
            "\tunion {\n\t\tstruct { unsigned long start; } span;\n\t};\n",
            "\tstruct { unsigned long start; } span;\n",
        ));
        assert_eq!(
            unnested.differences,
            vec!["struct rec: field span.start: inside union > struct in k.h, inside struct in d.h"]
        );

        let conditional = exact(&KERNEL.replace("\tint kind;\n", "#ifdef CONFIG_K\n\tint kind;\n#endif\n"));
        assert_eq!(
            conditional.differences,
            vec!["struct rec: field kind: unconditional in k.h, under #ifdef CONFIG_K in d.h"]
        );
    }

    #[test]
    fn a_missing_definition_differs() {
        let r = exact("struct other { int a; };");
        assert_eq!(r.status, Status::Differs);
        assert_eq!(r.differences, vec!["struct rec: in k.h, not found in d.h"]);
        let (a, b) = (file("a.h", ""), file("b.h", ""));
        let r = compare(Kind::Enum, "e", Comparison::Exact, &[&a, &b], &file("d.h", "enum e { A };"), &BTreeSet::new());
        assert_eq!(r.differences, vec!["enum e: not found in a.h or b.h"]);
    }

    #[test]
    fn a_trimmed_copy_is_compared_on_the_fields_used() {
        let kernel =
            file("k.h", "struct big { unsigned long start; struct list_head chain; void *data; long extra; };");
        let kernel = [&kernel];
        let tools = file("d.h", "struct big { unsigned long start; void *data; int extra; };");
        let used: BTreeSet<String> = ["start", "data"].map(String::from).into();
        let r = compare(Kind::Struct, "big", Comparison::UsedFields, &kernel, &tools, &used);
        assert_eq!(r.status, Status::InfoOnly);
        assert_eq!(r.compared, vec!["start", "data"]);
        assert_eq!(
            r.information,
            vec![
                "struct big: field chain: struct list_head in k.h, missing in d.h",
                "struct big: field extra: long in k.h, int in d.h"
            ]
        );

        let used: BTreeSet<String> = ["start", "extra"].map(String::from).into();
        let r = compare(Kind::Struct, "big", Comparison::UsedFields, &kernel, &tools, &used);
        assert_eq!(r.status, Status::Differs);
        assert_eq!(r.differences, vec!["struct big: field extra: long in k.h, int in d.h"]);
    }
}
