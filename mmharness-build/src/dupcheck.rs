//! Compares the tools headers' copies of kernel definitions with the
//! kernel's own. `tools/testing/vma/include/dup.h` (a single
//! `tools/testing/vma/vma_internal.h` in older trees) duplicates
//! `struct mmap_action` and its neighbours, and every result of the harness
//! trusts those copies. The kernel headers cannot go through a C front end on
//! an unconfigured tree, so definitions are parsed from the text: field
//! names, types, attributes, nesting, order, and the preprocessor conditions
//! inside the body.

use crate::artifact::{self, TOOLS_INCLUDE_DIRS};
use crate::extract::{self, ExtractError, Source, Spec};
use crate::leaves;
use crate::scan;
use crate::tree::{Tree, TreeError};
use serde::Serialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Struct,
    Union,
    Enum,
}

impl Kind {
    fn keyword(self) -> &'static str {
        match self {
            Kind::Struct => "struct",
            Kind::Union => "union",
            Kind::Enum => "enum",
        }
    }

    fn member_word(self) -> &'static str {
        if self == Kind::Enum {
            "enumerator"
        } else {
            "field"
        }
    }
}

/// One member of a definition: a field (nested aggregates flattened) or an
/// enumerator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Member names from the definition down; anonymous aggregates add no
    /// component: `remap.start`, `vm_start`.
    pub path: String,
    /// The normalized type (`unsigned long`, `bool :1`, `struct page **`,
    /// `int (*)(unsigned long, pgoff_t)`: parameter names are dropped); for
    /// an enumerator, its explicit value or nothing.
    pub ty: String,
    /// Attributes written on the declarator, such as alignment.
    pub attributes: Vec<String>,
    /// The aggregates the field sits in, outermost first: `union`, `struct`.
    pub within: Vec<String>,
    /// The preprocessor groups around the field inside the body, outermost
    /// first, each as its directives so far: `#ifdef CONFIG_X / #else`.
    pub conditions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Definition {
    pub kind: Kind,
    pub name: String,
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Punct(String),
    /// A directive, with comments and line continuations taken out.
    Directive(String),
}

/// Code tokens and directives of `text`; comments and literals are dropped.
fn tokens(text: &str) -> Vec<Tok> {
    let mask = scan::code_mask(text);
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !mask[i] {
            let end = (i..b.len()).find(|&j| mask[j]).unwrap_or(b.len());
            let line_start = text[..i].rfind('\n').map_or(0, |p| p + 1);
            if b[i] == b'#' && text[line_start..i].trim().is_empty() {
                out.push(Tok::Directive(clean_directive(&text[i..end])));
            }
            i = end;
            continue;
        }
        if scan::is_ident(b[i]) {
            let start = i;
            while i < b.len() && mask[i] && scan::is_ident(b[i]) {
                i += 1;
            }
            out.push(Tok::Word(text[start..i].to_string()));
            continue;
        }
        if b[i].is_ascii_punctuation() {
            out.push(Tok::Punct((b[i] as char).to_string()));
        }
        i += 1;
    }
    out
}

fn clean_directive(raw: &str) -> String {
    let mut s = raw.replace("\\\n", " ");
    while let Some(p) = s.find("/*") {
        let end = s[p..].find("*/").map_or(s.len(), |e| p + e + 2);
        s.replace_range(p..end, " ");
    }
    if let Some(p) = s.find("//") {
        s.truncate(p);
    }
    format!("#{}", s[1..].split_whitespace().collect::<Vec<_>>().join(" "))
}

fn is_word(t: &str) -> bool {
    t.bytes().next().is_some_and(scan::is_ident)
}

/// Tokens joined with the spacing of kernel style, so that two spellings
/// of the same type compare equal.
fn join(toks: &[String]) -> String {
    let mut s = String::new();
    for (i, t) in toks.iter().enumerate() {
        if let Some(p) = i.checked_sub(1).map(|p| toks[p].as_str()) {
            // `int (*)(...)`, but `__aligned(8)`.
            let pointer = t == "(" && toks.get(i + 1).is_some_and(|n| n == "*");
            let after_word = is_word(p) && (is_word(t) || pointer || matches!(t.as_str(), "*" | "[" | ":"));
            if after_word || p == "," {
                s.push(' ');
            }
        }
        s.push_str(t);
    }
    s
}

/// The index of the parenthesis or bracket closing the one at `open`.
fn matching(toks: &[String], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, t) in toks.iter().enumerate().skip(open) {
        match t.as_str() {
            "(" | "[" => depth += 1,
            ")" | "]" => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    toks.len() - 1
}

/// Attribute macros that can follow a declarator; an identifier starting
/// with `____` (the cache-line alignments) is one too.
const ATTRIBUTES: &[&str] = &[
    "__attribute__",
    "__aligned",
    "__packed",
    "__randomize_layout",
    "__no_randomize_layout",
    "__counted_by",
    "__nonstring",
    "__cacheline_aligned",
    "__cacheline_aligned_in_smp",
];

fn is_attribute(t: &str) -> bool {
    ATTRIBUTES.contains(&t) || t.starts_with("____")
}

/// A declaration's tokens without its attributes, and the attributes.
fn split_attributes(toks: &[String]) -> (Vec<String>, Vec<String>) {
    let mut rest = Vec::new();
    let mut attrs = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if is_attribute(&toks[i]) {
            let end = if toks.get(i + 1).is_some_and(|t| t == "(") { matching(toks, i + 1) } else { i };
            attrs.push(join(&toks[i..=end]));
            i = end + 1;
        } else {
            rest.push(toks[i].clone());
            i += 1;
        }
    }
    (rest, attrs)
}

/// Splits at commas outside parentheses and brackets.
fn split_top(toks: &[String]) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new()];
    let mut depth = 0usize;
    for t in toks {
        match t.as_str() {
            "(" | "[" => depth += 1,
            ")" | "]" => depth = depth.saturating_sub(1),
            "," if depth == 0 => {
                out.push(Vec::new());
                continue;
            }
            _ => {}
        }
        out.last_mut().expect("never empty").push(t.clone());
    }
    out
}

/// Where a declarator's name is, and whether it is a pointer declarator in
/// parentheses (`(*name)(...)`, `(*name)[n]`).
fn name_position(seg: &[String]) -> Option<(usize, bool)> {
    if let Some(open) = seg.iter().position(|t| t == "(") {
        if seg.get(open + 1).is_some_and(|t| t == "*") {
            let close = matching(seg, open);
            return (open + 1..close).rev().find(|&i| is_word(&seg[i])).map(|i| (i, true));
        }
    }
    let end = seg.iter().position(|t| t == "[" || t == ":").unwrap_or(seg.len());
    (0..end).rev().find(|&i| is_word(&seg[i])).map(|i| (i, false))
}

/// Words that end a type rather than name a parameter.
const TYPE_WORDS: &[&str] =
    &["int", "long", "short", "char", "unsigned", "signed", "float", "double", "void", "bool", "_Bool"];
const QUALIFIERS: &[&str] = &["const", "volatile", "restrict", "__user", "__iomem", "__rcu"];

/// A parameter without its name: `unsigned long start` is `unsigned long`,
/// `const struct file *file` is `const struct file *`; `unsigned long`,
/// `struct file` and `const pgoff_t` have none.
fn without_param_name(p: &[String]) -> &[String] {
    let Some((last, before)) = p.split_last() else { return p };
    let tagged = before.last().is_some_and(|t| matches!(t.as_str(), "struct" | "union" | "enum"));
    let only_qualifiers = before.iter().all(|t| QUALIFIERS.contains(&t.as_str()));
    if !is_word(last) || TYPE_WORDS.contains(&last.as_str()) || tagged || only_qualifiers {
        p
    } else {
        before
    }
}

/// The parameter list after `(*)` with the parameter names dropped.
fn drop_param_names(ty: &[String]) -> Vec<String> {
    let Some(open) = ty.iter().position(|t| t == "(") else { return ty.to_vec() };
    let params = matching(ty, open) + 1;
    if ty.get(params).is_none_or(|t| t != "(") {
        return ty.to_vec();
    }
    let close = matching(ty, params);
    let mut out = ty[..=params].to_vec();
    for (n, p) in split_top(&ty[params + 1..close]).iter().enumerate() {
        if n > 0 {
            out.push(",".into());
        }
        out.extend_from_slice(without_param_name(p));
    }
    out.extend_from_slice(&ty[close..]);
    out
}

/// The declarators of one declaration (the tokens before its `;`): each
/// name with its full type, and the declaration's attributes.
fn declarators(decl: &[String]) -> (Vec<(String, String)>, Vec<String>) {
    let (toks, attrs) = split_attributes(decl);
    let segments = split_top(&toks);
    let Some((name_at, _)) = name_position(&segments[0]) else { return (Vec::new(), attrs) };
    let first = &segments[0];
    let base_len = (0..first.len()).find(|&i| i == name_at || first[i] == "*" || first[i] == "(").unwrap_or(0);
    let base = &first[..base_len];
    let mut out = Vec::new();
    for (n, seg) in segments.iter().enumerate() {
        let seg = if n == 0 { &seg[base_len..] } else { &seg[..] };
        let Some((at, pointer)) = name_position(seg) else { continue };
        let mut ty: Vec<String> = base.to_vec();
        ty.extend(seg[..at].iter().chain(&seg[at + 1..]).cloned());
        if pointer {
            ty = drop_param_names(&ty);
        }
        out.push((seg[at].clone(), join(&ty)));
    }
    (out, attrs)
}

struct Parser<'a> {
    toks: &'a [Tok],
    pos: usize,
    /// Open preprocessor groups inside the body, outermost first.
    groups: Vec<Vec<String>>,
}

impl Parser<'_> {
    /// The next code token's text, with directives applied on the way.
    fn next(&mut self) -> Option<String> {
        while let Some(t) = self.toks.get(self.pos) {
            self.pos += 1;
            match t {
                Tok::Directive(d) => self.directive(d),
                Tok::Word(w) | Tok::Punct(w) => return Some(w.clone()),
            }
        }
        None
    }

    fn directive(&mut self, d: &str) {
        let word: String = d[1..].chars().take_while(char::is_ascii_alphabetic).collect();
        match word.as_str() {
            "if" | "ifdef" | "ifndef" => self.groups.push(vec![d.to_string()]),
            "elif" | "elifdef" | "elifndef" | "else" => {
                if let Some(g) = self.groups.last_mut() {
                    g.push(d.to_string());
                }
            }
            "endif" => {
                self.groups.pop();
            }
            _ => {}
        }
    }

    fn conditions(&self) -> Vec<String> {
        self.groups.iter().map(|g| g.join(" / ")).collect()
    }

    /// The members of an aggregate body, up to its closing brace; paths
    /// and `within` are relative to the body.
    fn members(&mut self) -> Vec<Field> {
        let mut out = Vec::new();
        let mut decl: Vec<String> = Vec::new();
        let mut conditions = Vec::new();
        let mut depth = 0usize;
        while let Some(t) = self.next() {
            if decl.is_empty() {
                if t == "}" {
                    break;
                }
                conditions = self.conditions();
            }
            match t.as_str() {
                "(" | "[" => depth += 1,
                ")" | "]" => depth = depth.saturating_sub(1),
                "{" if depth == 0 => {
                    let label = join(&decl);
                    let inner = self.members();
                    let tail = self.until_semicolon();
                    nest(&label, inner, &tail, &mut out);
                    decl.clear();
                    continue;
                }
                ";" if depth == 0 => {
                    let (names, attributes) = declarators(&decl);
                    for (path, ty) in names {
                        let (attributes, conditions) = (attributes.clone(), conditions.clone());
                        out.push(Field { path, ty, attributes, within: Vec::new(), conditions });
                    }
                    decl.clear();
                    continue;
                }
                _ => {}
            }
            decl.push(t);
        }
        out
    }

    fn until_semicolon(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(t) = self.next() {
            if t == ";" {
                break;
            }
            out.push(t);
        }
        out
    }

    fn enumerators(&mut self) -> Vec<Field> {
        let mut out = Vec::new();
        let mut cur: Vec<String> = Vec::new();
        let mut conditions = Vec::new();
        let mut depth = 0usize;
        while let Some(t) = self.next() {
            if depth == 0 && (t == "," || t == "}") {
                if let Some((name, rest)) = cur.split_first() {
                    let ty = if rest.first().is_some_and(|e| e == "=") { join(&rest[1..]) } else { String::new() };
                    let conditions = conditions.clone();
                    out.push(Field { path: name.clone(), ty, attributes: Vec::new(), within: Vec::new(), conditions });
                }
                cur.clear();
                if t == "}" {
                    break;
                }
                continue;
            }
            match t.as_str() {
                "(" | "[" => depth += 1,
                ")" | "]" => depth = depth.saturating_sub(1),
                _ => {}
            }
            if cur.is_empty() {
                conditions = self.conditions();
            }
            cur.push(t);
        }
        out
    }
}

/// Adds a nested aggregate's fields under the member that holds it (the
/// `tail` after its closing brace), or directly when it is anonymous.
fn nest(label: &str, inner: Vec<Field>, tail: &[String], out: &mut Vec<Field>) {
    let (names, attributes) = declarators(tail);
    let holders: Vec<(Option<String>, String)> = if names.is_empty() {
        vec![(None, label.to_string())]
    } else {
        names.into_iter().map(|(n, ty)| (Some(n), [label, &ty].join(" ").trim().to_string())).collect()
    };
    for (holder, label) in holders {
        let label = std::iter::once(label).chain(attributes.iter().cloned()).collect::<Vec<_>>().join(" ");
        for f in &inner {
            let path = holder.as_ref().map_or(f.path.clone(), |h| format!("{h}.{}", f.path));
            let within = std::iter::once(label.clone()).chain(f.within.iter().cloned()).collect();
            out.push(Field { path, within, ..f.clone() });
        }
    }
}

/// Parses the first definition `KIND NAME { ... }` of a header text.
pub fn parse(text: &str, kind: Kind, name: &str) -> Option<Definition> {
    let toks = tokens(text);
    let is = |t: &Tok, s: &str| matches!(t, Tok::Word(w) | Tok::Punct(w) if w == s);
    let at = toks.windows(3).position(|w| is(&w[0], kind.keyword()) && is(&w[1], name) && is(&w[2], "{"))?;
    let mut p = Parser { toks: &toks, pos: at + 3, groups: Vec::new() };
    let fields = if kind == Kind::Enum { p.enumerators() } else { p.members() };
    Some(Definition { kind, name: name.to_string(), fields })
}

/// Members the code names: identifiers after `.` or `->`, in code only.
pub fn members_used(bodies: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for body in bodies {
        let mask = scan::code_mask(body);
        let b = body.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if mask[i] && scan::is_ident_start(b[i]) && (i == 0 || !scan::is_ident(b[i - 1])) {
                let start = i;
                while i < b.len() && scan::is_ident(b[i]) {
                    i += 1;
                }
                let before: Vec<u8> = (0..start)
                    .rev()
                    .filter(|&j| mask[j] && !b[j].is_ascii_whitespace())
                    .take(2)
                    .map(|j| b[j])
                    .collect();
                if before.first() == Some(&b'.') || before == b">-" {
                    out.insert(body[start..i].to_string());
                }
                continue;
            }
            i += 1;
        }
    }
    out
}

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

/// Where the kernel defines them, searched in order.
pub const KERNEL_FILES: &[&str] = &["include/linux/mm_types.h", "include/linux/mm.h"];

/// The tools header holding the copies: the split `dup.h` where the tree
/// has it (7.0 on), else the single `vma_internal.h`.
pub fn tools_file(tree: &Tree) -> &'static str {
    if tree.path("tools/testing/vma/include/dup.h").is_file() {
        "tools/testing/vma/include/dup.h"
    } else {
        "tools/testing/vma/vma_internal.h"
    }
}

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
    kernel: &[(&str, &str)],
    tools: (&str, &str),
    used: &BTreeSet<String>,
) -> DefinitionReport {
    let title = format!("{} {name}", kind.keyword());
    let found = kernel.iter().find_map(|(f, text)| parse(text, kind, name).map(|d| (*f, d)));
    let mut r = DefinitionReport {
        definition: title.clone(),
        comparison,
        kernel_file: found.as_ref().map(|(f, _)| f.to_string()),
        tools_file: tools.0.to_string(),
        status: Status::Differs,
        compared: Vec::new(),
        differences: Vec::new(),
        information: Vec::new(),
    };
    let Some((kf, kd)) = found else {
        let files: Vec<&str> = kernel.iter().map(|(f, _)| *f).collect();
        r.differences.push(format!("{title}: not found in {}", files.join(" or ")));
        return r;
    };
    let Some(td) = parse(tools.1, kind, name) else {
        r.differences.push(format!("{title}: in {kf}, not found in {}", tools.0));
        return r;
    };
    let is_used = |path: &str| path.split('.').all(|m| used.contains(m));
    r.compared =
        kd.fields.iter().map(|f| &f.path).filter(|p| comparison == Comparison::Exact || is_used(p)).cloned().collect();
    for (path, d) in differences(&title, (kf, &kd), (tools.0, &td)) {
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

/// Compares every definition of [`CHECKED`] in a tree.
pub fn check(tree: &Tree, used: &BTreeSet<String>) -> Result<Report, TreeError> {
    let tools_file = tools_file(tree);
    let tools = tree.read(tools_file)?;
    let kernel_texts = KERNEL_FILES.iter().map(|f| Ok((*f, tree.read(f)?))).collect::<Result<Vec<_>, TreeError>>()?;
    let kernel: Vec<(&str, &str)> = kernel_texts.iter().map(|(f, t)| (*f, t.as_str())).collect();
    let definitions = CHECKED
        .iter()
        .map(|(kind, name, comparison)| compare(*kind, name, *comparison, &kernel, (tools_file, &tools), used))
        .collect();
    Ok(Report { tree: tree.root.clone(), kernel_version: tree.version.clone(), definitions })
}

#[derive(Debug, thiserror::Error)]
pub enum MembersError {
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error(transparent)]
    Extract(#[from] ExtractError),
}

/// The members the extracted code names, for [`check`]. The extraction
/// runs without the artifact build's preprocessing, so that this check
/// works on a tree whose copies differ too much to compile.
pub fn extracted_members(tree: &Tree) -> Result<BTreeSet<String>, MembersError> {
    let read = |files: &[&str]| {
        files.iter().map(|f| Ok(Source::new(*f, tree.read(f)?))).collect::<Result<Vec<_>, TreeError>>()
    };
    let (code, fallback) = (read(artifact::CODE_FILES)?, read(artifact::FALLBACK_FILES)?);
    let x = extract::extract(&Spec {
        entries: artifact::ENTRIES,
        optional_entries: artifact::OPTIONAL_ENTRIES,
        code: &code,
        fallback: &fallback,
        leaves: &leaves::names(),
        provided: &tools_names(tree),
    })?;
    let bodies: Vec<&str> = x.definitions.iter().filter_map(|d| d.item.body.as_deref()).collect();
    Ok(members_used(&bodies))
}

/// Names the tools headers define or declare, read from every header their
/// includes reach. The artifact build preprocesses the headers instead;
/// here the names only decide which helpers of `include/linux/mm.h` are
/// taken, so reading the text is close enough, and needs no compiler.
fn tools_names(tree: &Tree) -> BTreeSet<String> {
    let mut todo: Vec<PathBuf> =
        ["tools/testing/shared/maple-shared.h", "tools/testing/vma/vma_internal.h", "mm/vma.h"]
            .map(|f| tree.path(f))
            .into();
    let mut seen = BTreeSet::new();
    let mut names = BTreeSet::new();
    while let Some(file) = todo.pop() {
        let Ok(real) = file.canonicalize() else { continue };
        if !seen.insert(real) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else { continue };
        names.extend(scan::defined_macros(&text));
        names.extend(scan::items(&text).into_iter().map(|i| i.name));
        for (quoted, inc) in includes(&text) {
            let here = file.parent().filter(|_| quoted).map(|d| d.join(&inc));
            let dirs = TOOLS_INCLUDE_DIRS.iter().map(|d| tree.path(d).join(&inc));
            todo.extend(here.into_iter().chain(dirs).find(|p| p.is_file()));
        }
    }
    names
}

/// The `#include`s of a text: whether quoted, and the path.
fn includes(text: &str) -> Vec<(bool, PathBuf)> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix('#')?.trim_start().strip_prefix("include"))
        .filter_map(|rest| {
            let rest = rest.trim();
            let (quoted, close) = match rest.chars().next()? {
                '"' => (true, '"'),
                '<' => (false, '>'),
                _ => return None,
            };
            let path = rest[1..].split(close).next()?;
            Some((quoted, Path::new(path).to_path_buf()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
#ifndef GUARD_H
struct other { int a; };
/* struct thing { int in_a_comment; }; */
struct thing {
\tunion {
\t\tstruct {
\t\t\tunsigned long lo, *hi;\t/* { braces in a comment } */
\t\t} pair;
\t\tstruct {
\t\t\tchar tag[16];
\t\t};
\t};
\tconst struct ops * ops;
\tint (*cb)(unsigned long start, const struct file *file, void **priv);
\tconst char *(*name)(struct thing *t);
\tbool flag :1;
#ifdef CONFIG_A
\tlong a;
#ifdef CONFIG_B
\tlong b __aligned(8);
#endif
#else
\tint a;
#endif
\trefcount_t ref ____cacheline_aligned;
};
#endif
";

    fn summary(d: &Definition) -> Vec<String> {
        d.fields
            .iter()
            .map(|f| {
                let mut s = format!("{}: {}", f.path, f.ty);
                for (what, v) in [("within", &f.within), ("attributes", &f.attributes), ("under", &f.conditions)] {
                    if !v.is_empty() {
                        s.push_str(&format!(" [{what} {}]", v.join(" | ")));
                    }
                }
                s
            })
            .collect()
    }

    #[test]
    fn parses_nesting_declarators_attributes_and_conditions() {
        let d = parse(SAMPLE, Kind::Struct, "thing").unwrap();
        assert_eq!(
            summary(&d),
            vec![
                "pair.lo: unsigned long [within union | struct]",
                "pair.hi: unsigned long * [within union | struct]",
                "tag: char [16] [within union | struct]",
                "ops: const struct ops *",
                "cb: int (*)(unsigned long, const struct file *, void **)",
                "name: const char *(*)(struct thing *)",
                "flag: bool :1",
                "a: long [under #ifdef CONFIG_A]",
                "b: long [attributes __aligned(8)] [under #ifdef CONFIG_A | #ifdef CONFIG_B]",
                "a: int [under #ifdef CONFIG_A / #else]",
                "ref: refcount_t [attributes ____cacheline_aligned]",
            ]
        );
        assert!(parse(SAMPLE, Kind::Struct, "missing").is_none());
    }

    #[test]
    fn parses_enumerators_and_unions() {
        let text = "enum e {\n\tA,\t/* first */\n\tB = 1 << 3,\n#ifdef CONFIG_C\n\tC = (B + 1),\n#endif\n};\n\
                    union u { int i; float f; };\n";
        let e = parse(text, Kind::Enum, "e").unwrap();
        assert_eq!(summary(&e), vec!["A: ", "B: 1<<3", "C: (B+1) [under #ifdef CONFIG_C]"]);
        let u = parse(text, Kind::Union, "u").unwrap();
        assert_eq!(summary(&u), vec!["i: int", "f: float"]);
    }

    #[test]
    fn parameter_names_spacing_and_comments_do_not_count() {
        let a =
            parse("struct s { int (*f)(unsigned long start, pgoff_t off); struct file *file; };", Kind::Struct, "s");
        let b = parse(
            "struct s {\n\tint (* f) (unsigned long, pgoff_t);\t/* doc */\n\tstruct file * file;\n};",
            Kind::Struct,
            "s",
        );
        assert_eq!(a, b);
        // A parameter that is only a type keeps its words.
        let c = parse("struct s { void (*g)(const pgoff_t, unsigned long, struct page); };", Kind::Struct, "s");
        assert_eq!(summary(&c.unwrap()), vec!["g: void (*)(const pgoff_t, unsigned long, struct page)"]);
    }

    #[test]
    fn members_used_are_names_after_dot_or_arrow_in_code() {
        let body = "{ x = a->b + c . d; /* e->f */ s = \"g.h\"; y = 1.5; return w->\n\tv(z); }";
        let used = members_used(&[body]);
        assert_eq!(used.into_iter().collect::<Vec<_>>(), vec!["b", "d", "v"]);
    }

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

    fn exact(tools: &str) -> DefinitionReport {
        let kernel = [("k.h", KERNEL)];
        compare(Kind::Struct, "rec", Comparison::Exact, &kernel, ("d.h", tools), &BTreeSet::new())
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
        let kernel = [("a.h", ""), ("b.h", "")];
        let r = compare(Kind::Enum, "e", Comparison::Exact, &kernel, ("d.h", "enum e { A };"), &BTreeSet::new());
        assert_eq!(r.differences, vec!["enum e: not found in a.h or b.h"]);
    }

    #[test]
    fn a_trimmed_copy_is_compared_on_the_fields_used() {
        let kernel = [("k.h", "struct big { unsigned long start; struct list_head chain; void *data; long extra; };")];
        let tools = "struct big { unsigned long start; void *data; int extra; };";
        let used: BTreeSet<String> = ["start", "data"].map(String::from).into();
        let r = compare(Kind::Struct, "big", Comparison::UsedFields, &kernel, ("d.h", tools), &used);
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
        let r = compare(Kind::Struct, "big", Comparison::UsedFields, &kernel, ("d.h", tools), &used);
        assert_eq!(r.status, Status::Differs);
        assert_eq!(r.differences, vec!["struct big: field extra: long in k.h, int in d.h"]);
    }

    /// A tree the size of a test: every file `Tree::open` and the
    /// extraction read, with definitions written for this test.
    const TYPES: &str = "enum mmap_action_type { MMAP_NOTHING, MMAP_REMAP_PFN, };\n\
                         struct mmap_action { enum mmap_action_type type; int error_override; };\n\
                         struct vm_area_desc { unsigned long start; struct mmap_action action; };\n\
                         struct vm_area_struct { unsigned long vm_start; unsigned long vm_pgoff; };\n";
    const OPS: &str =
        "struct vm_operations_struct { void (*open)(struct vm_area_struct *vma); int (*mapped)(int x); };\n";

    /// A tree the size of a test: every file `Tree::open` and the
    /// extraction read, with definitions written for this test.
    fn fake_tree(dup: &str) -> tempfile::TempDir {
        let util =
            "int mmap_action_prepare(struct vm_area_desc *desc)\n{\n\treturn desc->action.error_override;\n}\n\n\
                    int mmap_action_complete(struct vm_area_struct *vma, struct mmap_action *action)\n{\n\
                    \treturn mmap_action_finish(vma, action);\n}\n\n\
                    static int mmap_action_finish(struct vm_area_struct *vma, struct mmap_action *action)\n{\n\
                    \treturn vma->vm_start ? action->error_override : 0;\n}\n";
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in [
            ("Makefile", "VERSION = 7\nPATCHLEVEL = 9\nSUBLEVEL = 0\n"),
            ("mm/util.c", util),
            ("mm/internal.h", ""),
            ("mm/memory.c", ""),
            ("drivers/char/mem.c", ""),
            ("include/linux/mm.h", OPS),
            ("include/linux/mm_types.h", TYPES),
            ("tools/testing/vma/vma_internal.h", "#include \"include/dup.h\"\n"),
            ("tools/testing/vma/Makefile", ""),
            ("tools/testing/vma/include/dup.h", dup),
        ] {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn a_drifted_copy_in_an_overlay_of_a_tree_differs() {
        // The tools copy trims vm_pgoff and open, which the code does not use.
        let trimmed =
            TYPES.replace("unsigned long vm_pgoff; ", "") + "struct vm_operations_struct { int (*mapped)(int y); };\n";
        let base = fake_tree(&trimmed);
        let tree = Tree::open(base.path()).unwrap();
        let used = extracted_members(&tree).unwrap();
        assert_eq!(used.iter().collect::<Vec<_>>(), vec!["action", "error_override", "vm_start"]);
        let report = check(&tree, &used).unwrap();
        let statuses: Vec<_> = report.definitions.iter().map(|d| (d.definition.as_str(), d.status)).collect();
        assert_eq!(
            statuses,
            vec![
                ("struct mmap_action", Status::Same),
                ("enum mmap_action_type", Status::Same),
                ("struct vm_area_desc", Status::Same),
                ("struct vm_area_struct", Status::InfoOnly),
                ("struct vm_operations_struct", Status::InfoOnly),
            ]
        );
        assert!(!report.exact_differs());

        let rel = "tools/testing/vma/include/dup.h";
        let dup = std::fs::read_to_string(base.path().join(rel)).unwrap();
        let drifted = dup.replacen("int error_override;", "int error_filter;", 1);
        let overlay = crate::overlay::Overlay::new(base.path(), &[(rel, &drifted)]).unwrap();
        let tree = Tree::open(overlay.path()).unwrap();
        let report = check(&tree, &extracted_members(&tree).unwrap()).unwrap();
        assert!(report.exact_differs());
        assert_eq!(
            report.definitions[0].differences,
            vec![
                "struct mmap_action: field error_override: int in include/linux/mm_types.h, missing in tools/testing/vma/include/dup.h",
                "struct mmap_action: field error_filter: missing in include/linux/mm_types.h, int in tools/testing/vma/include/dup.h",
            ]
        );
    }
}
