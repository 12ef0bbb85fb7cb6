//! Declarations inside struct, union and enum definitions: each member's
//! path, type, attributes, nesting and the conditional groups around it,
//! as the kernel's headers and the tools headers' copies spell them.

use super::lex::{self, Kind as TokKind, Lexed};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Struct,
    Union,
    Enum,
}

impl Kind {
    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Struct => "struct",
            Kind::Union => "union",
            Kind::Enum => "enum",
        }
    }

    pub fn member_word(self) -> &'static str {
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
    /// A directive, cleaned to one line.
    Directive(String),
}

/// Code tokens and directives of a lexed file; literals count as words.
fn tokens(l: &Lexed) -> Vec<Tok> {
    l.tokens
        .iter()
        .map(|t| match t.kind {
            TokKind::Directive => Tok::Directive(lex::clean_directive(l.str(t))),
            TokKind::Punct => Tok::Punct(l.str(t).to_string()),
            _ => Tok::Word(l.str(t).to_string()),
        })
        .collect()
}

fn is_word(t: &str) -> bool {
    t.bytes().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Tokens joined with the spacing of kernel style, so that two spellings
/// of the same type compare equal.
pub fn join(toks: &[String]) -> String {
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

/// A parameter's words split into its type and its name, if it has one:
/// `unsigned long start`, `const struct file *file`; `unsigned long`,
/// `struct file` and `const pgoff_t` have no name.
pub fn split_param(p: &[String]) -> (&[String], Option<&String>) {
    let Some((last, before)) = p.split_last() else { return (p, None) };
    let tagged = before.last().is_some_and(|t| matches!(t.as_str(), "struct" | "union" | "enum"));
    let only_qualifiers = before.iter().all(|t| QUALIFIERS.contains(&t.as_str()));
    if !is_word(last)
        || last.as_bytes()[0].is_ascii_digit()
        || TYPE_WORDS.contains(&last.as_str())
        || tagged
        || only_qualifiers
    {
        (p, None)
    } else {
        (before, Some(last))
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
        out.extend_from_slice(split_param(p).0);
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

/// Parses the first definition `KIND NAME { ... }` of a lexed header.
pub fn parse(l: &Lexed, kind: Kind, name: &str) -> Option<Definition> {
    let toks = tokens(l);
    let is = |t: &Tok, s: &str| matches!(t, Tok::Word(w) | Tok::Punct(w) if w == s);
    let at = toks.windows(3).position(|w| is(&w[0], kind.keyword()) && is(&w[1], name) && is(&w[2], "{"))?;
    let mut p = Parser { toks: &toks, pos: at + 3, groups: Vec::new() };
    let fields = if kind == Kind::Enum { p.enumerators() } else { p.members() };
    Some(Definition { kind, name: name.to_string(), fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexed(text: &str) -> Lexed {
        Lexed::new("t.h", text).unwrap()
    }

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
        let d = parse(&lexed(SAMPLE), Kind::Struct, "thing").unwrap();
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
        assert!(parse(&lexed(SAMPLE), Kind::Struct, "missing").is_none());
    }

    #[test]
    fn parses_enumerators_and_unions() {
        let text = "enum e {\n\tA,\t/* first */\n\tB = 1 << 3,\n#ifdef CONFIG_C\n\tC = (B + 1),\n#endif\n};\n\
                    union u { int i; float f; };\n";
        let e = parse(&lexed(text), Kind::Enum, "e").unwrap();
        assert_eq!(summary(&e), vec!["A: ", "B: 1<<3", "C: (B+1) [under #ifdef CONFIG_C]"]);
        let u = parse(&lexed(text), Kind::Union, "u").unwrap();
        assert_eq!(summary(&u), vec!["i: int", "f: float"]);
    }

    #[test]
    fn parameter_names_spacing_and_comments_do_not_count() {
        let a = parse(
            &lexed("struct s { int (*f)(unsigned long start, pgoff_t off); struct file *file; };"),
            Kind::Struct,
            "s",
        );
        let b = parse(
            &lexed("struct s {\n\tint (* f) (unsigned long, pgoff_t);\t/* doc */\n\tstruct file * file;\n};"),
            Kind::Struct,
            "s",
        );
        assert_eq!(a, b);
        // A parameter that is only a type keeps its words.
        let c = parse(&lexed("struct s { void (*g)(const pgoff_t, unsigned long, struct page); };"), Kind::Struct, "s");
        assert_eq!(summary(&c.unwrap()), vec!["g: void (*)(const pgoff_t, unsigned long, struct page)"]);
    }
}
