//! Top-level function items of a lexed file: definitions and prototypes,
//! with their parameters, the conditional groups around them, and the
//! names their bodies refer to. Kernel style is relied on only as C is:
//! an item ends at a `;` or at the brace closing its body.

use super::decl;
use super::lex::{self, Kind, Lexed};
use std::collections::BTreeSet;
use std::ops::Range;

/// One parameter: its type without the name, and the name if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub ty: String,
    pub name: Option<String>,
}

/// A top-level function definition (with a body) or prototype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    /// 1-based line of the header's first token.
    pub line: usize,
    /// 1-based line of the closing brace (or of the `;`).
    pub end_line: usize,
    /// The header's tokens, joined: `static int f(struct a *x)`.
    pub header: String,
    /// The return type and qualifiers before the name: `static int`.
    pub prefix: Vec<String>,
    pub params: Vec<Param>,
    /// Token indices: the header, then the body's braces (inclusive).
    pub header_tokens: Range<usize>,
    pub body_tokens: Option<Range<usize>>,
    /// Whole source lines from the header's to the end's.
    pub lines: Range<usize>,
    /// Open conditional groups around the item, outermost first.
    pub conditions: Vec<Vec<String>>,
}

impl Item {
    pub fn is_definition(&self) -> bool {
        self.body_tokens.is_some()
    }
}

/// Macros that take parentheses of their own before or after a name.
const ATTRIBUTES: &[&str] = &[
    "__attribute__",
    "__printf",
    "__scanf",
    "__section",
    "__aligned",
    "__acquires",
    "__releases",
    "__must_hold",
    "__cond_acquires",
    "__alloc_size",
    "__diagnose_as",
];

/// The index of the name of a function header in `range`: the identifier
/// directly before a `(` at parenthesis depth 0 that is not an attribute.
fn name_index(l: &Lexed, range: Range<usize>) -> Option<usize> {
    let mut depth = 0usize;
    for i in range.clone() {
        match l.at(i) {
            "(" => {
                if depth == 0 && i > range.start {
                    let prev = l.prev_code(i)?;
                    if l.kind(prev) == Some(Kind::Ident) && !ATTRIBUTES.contains(&l.at(prev)) && prev >= range.start {
                        return Some(prev);
                    }
                }
                depth += 1;
            }
            ")" => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// A header declares a function when it is `<type words> name(params)`,
/// possibly with attributes after: not a typedef, an initialiser or a
/// macro invocation at file scope.
fn function_header(l: &Lexed, range: Range<usize>) -> Option<(usize, usize)> {
    let code: Vec<usize> = range.clone().filter(|&i| l.kind(i) != Some(Kind::Directive)).collect();
    let first = *code.first()?;
    if l.at(first) == "typedef" || code.iter().any(|&i| l.is(i, "=")) {
        return None;
    }
    let name = name_index(l, range.clone())?;
    if name == first {
        return None;
    }
    let open = l.next_code(name + 1);
    let close = l.closing(open)?;
    // After the parameters: nothing, or attribute macros.
    let mut i = l.next_code(close + 1);
    while i < range.end {
        if !ATTRIBUTES.contains(&l.at(i)) {
            return None;
        }
        i = l.closing(l.next_code(i + 1)).map_or(range.end, |c| l.next_code(c + 1));
    }
    Some((name, close))
}

/// Splits tokens `range` at commas outside brackets.
pub fn split_commas(l: &Lexed, range: Range<usize>) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = range.start;
    for i in range.clone() {
        match l.at(i) {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" => depth = depth.saturating_sub(1),
            "," if depth == 0 => {
                out.push(start..i);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(start..range.end);
    out
}

fn params(l: &Lexed, open: usize, close: usize) -> Vec<Param> {
    let inner: Vec<Range<usize>> = split_commas(l, open + 1..close);
    let words = |r: &Range<usize>| -> Vec<String> {
        r.clone().filter(|&i| l.kind(i) != Some(Kind::Directive)).map(|i| l.at(i).to_string()).collect()
    };
    let all: Vec<Vec<String>> = inner.iter().map(words).collect();
    if all.len() == 1 && (all[0].is_empty() || all[0] == ["void"]) {
        return Vec::new();
    }
    all.iter()
        .map(|w| {
            let (ty, name) = decl::split_param(w);
            Param { ty: decl::join(ty), name: name.cloned() }
        })
        .collect()
}

fn make_item(l: &Lexed, header: Range<usize>, name: usize, close: usize, body: Option<Range<usize>>) -> Item {
    let first = l.next_code(header.start);
    let last = body.as_ref().map_or(header.end, |b| b.end - 1);
    let open = l.next_code(name + 1);
    Item {
        name: l.at(name).to_string(),
        line: l.tokens[first].line,
        end_line: l.tokens[last].line,
        header: l.joined(first..header.end),
        prefix: (first..name).filter(|&i| l.kind(i) != Some(Kind::Directive)).map(|i| l.at(i).to_string()).collect(),
        params: params(l, open, close),
        header_tokens: first..header.end,
        body_tokens: body,
        lines: l.whole_lines(first, last),
        conditions: l.groups_at(first),
    }
}

/// Every top-level function definition and prototype of a file.
pub fn items(l: &Lexed) -> Vec<Item> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut paren = 0usize;
    let mut i = 0;
    while i < l.tokens.len() {
        let t = l.tokens[i];
        if t.kind == Kind::Directive {
            if paren == 0 && start == i {
                start = i + 1;
            }
            i += 1;
            continue;
        }
        match l.str(&t) {
            "(" => paren += 1,
            ")" => paren = paren.saturating_sub(1),
            ";" if paren == 0 => {
                if let Some((name, close)) = function_header(l, start..i) {
                    out.push(make_item(l, start..i, name, close, None));
                }
                start = i + 1;
            }
            "{" if paren == 0 => {
                let Some(end) = l.closing(i) else { break };
                if let Some((name, close)) = function_header(l, start..i) {
                    out.push(make_item(l, start..i, name, close, Some(i..end + 1)));
                }
                i = end + 1;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The identifiers tokens `range` refer to that may name functions or
/// macros: members (after `.` or `->`) and struct, union or enum tags are
/// left out.
pub fn referenced(l: &Lexed, range: Range<usize>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for i in range.filter(|&i| l.kind(i) == Some(Kind::Ident)) {
        let prev = l.prev_code(i).map(|p| l.at(p));
        if !matches!(prev, Some("." | "->" | "struct" | "union" | "enum")) {
            out.insert(l.at(i).to_string());
        }
    }
    out
}

/// The members tokens `range` name: identifiers after `.` or `->`.
pub fn members(l: &Lexed, range: Range<usize>) -> BTreeSet<String> {
    range
        .filter(|&i| l.kind(i) == Some(Kind::Ident))
        .filter(|&i| l.prev_code(i).is_some_and(|p| matches!(l.at(p), "." | "->")))
        .map(|i| l.at(i).to_string())
        .collect()
}

/// The names a file `#define`s.
pub fn defined_macros(l: &Lexed) -> BTreeSet<String> {
    l.tokens
        .iter()
        .filter(|t| t.kind == Kind::Directive)
        .map(|t| lex::clean_directive(l.str(t)))
        .filter_map(|d| {
            let rest = d.strip_prefix("#define ")?;
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            (end > 0).then(|| rest[..end].to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
/* A comment with { braces } and a fake(void) { */
static int helper(int x)
{
\tif (x) { return other(x); }
\treturn s->field(x) + \"}\"[0];
}
EXPORT_SYMBOL(helper);

#ifdef CONFIG_MMU
static inline bool __must_check
multi_line(struct foo *f,
\t   unsigned long y)
{
\treturn f->a;
}
#else
int multi_line(struct foo *f, unsigned long y)
{
\treturn 0;
}
#endif

extern int proto(struct mm_struct *, unsigned long, size_t, struct list_head *uf);
struct s { int a; };
static const struct ops o = { .f = helper };
#define MACRO(x) do { x; } while (0)
static void lock(struct s *s) __acquires(&s->lock);
typedef int (*fn_t)(int);
DEFINE_MUTEX(m);
";

    fn lexed() -> Lexed {
        Lexed::new("t.c", SAMPLE).unwrap()
    }

    #[test]
    fn finds_definitions_and_prototypes_with_their_lines() {
        let items = items(&lexed());
        let names: Vec<_> = items.iter().map(|i| (i.name.as_str(), i.line, i.end_line, i.is_definition())).collect();
        assert_eq!(
            names,
            vec![
                ("helper", 2, 6, true),
                ("multi_line", 10, 15, true),
                ("multi_line", 17, 20, true),
                ("proto", 23, 23, false),
                ("lock", 27, 27, false),
            ]
        );
    }

    #[test]
    fn keeps_the_conditional_groups_around_each_definition() {
        let items = items(&lexed());
        assert!(items[0].conditions.is_empty());
        assert_eq!(items[1].conditions, vec![vec!["#ifdef CONFIG_MMU".to_string()]]);
        assert_eq!(items[2].conditions, vec![vec!["#ifdef CONFIG_MMU".to_string(), "#else".to_string()]]);
        assert!(items[3].conditions.is_empty());
    }

    #[test]
    fn headers_prefixes_and_parameters() {
        let items = items(&lexed());
        assert_eq!(items[1].header, "static inline bool __must_check multi_line(struct foo *f, unsigned long y)");
        assert_eq!(items[1].prefix, vec!["static", "inline", "bool", "__must_check"]);
        let p: Vec<(&str, Option<&str>)> = items[3].params.iter().map(|p| (p.ty.as_str(), p.name.as_deref())).collect();
        assert_eq!(
            p,
            vec![
                ("struct mm_struct *", None),
                ("unsigned long", None),
                ("size_t", None),
                ("struct list_head *", Some("uf"))
            ]
        );
    }

    #[test]
    fn item_lines_run_from_header_to_closing_brace() {
        let l = lexed();
        let items = items(&l);
        let text = &l.text[items[1].lines.clone()];
        assert!(text.starts_with("static inline bool __must_check\nmulti_line("));
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn referenced_names_skip_members_tags_comments_and_strings() {
        let l = Lexed::new("t.c", "{ struct foo *f = g(x); /* h(y) */ f->m(1); a.b; return \"k(z)\"; }").unwrap();
        let ids = referenced(&l, 0..l.tokens.len());
        assert!(ids.contains("g") && ids.contains("x") && ids.contains("f") && ids.contains("a"));
        assert!(!ids.contains("foo") && !ids.contains("m") && !ids.contains("b") && !ids.contains("h"));
        assert!(!ids.contains("k"));
        let m = members(&l, 0..l.tokens.len());
        assert_eq!(m.into_iter().collect::<Vec<_>>(), vec!["b", "m"]);
    }

    #[test]
    fn defined_macros_lists_names() {
        let l = Lexed::new("t.h", "#define A 1\n# define B(x) x\nint c;\n").unwrap();
        assert_eq!(defined_macros(&l).into_iter().collect::<Vec<_>>(), vec!["A", "B"]);
    }
}
