//! A scanner for kernel-style C: it finds top-level function definitions and
//! declarations, the preprocessor groups around them, and the identifiers a
//! body uses. It relies on kernel coding style (a definition's header starts
//! at column 0, its body's braces balance) rather than on a C parser, because
//! the kernel files cannot be parsed without a configured build.

use std::collections::BTreeSet;

/// One top-level function item: a definition (with a body) or a prototype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub name: String,
    /// 1-based line of the header's first line.
    pub line: usize,
    /// Header text, from its first line up to (not including) `{` or `;`.
    pub header: String,
    /// Body text including its braces, `None` for a prototype.
    pub body: Option<String>,
    /// Whole source lines covered by the item.
    pub text: String,
    /// Open preprocessor groups around the item, outermost first; each group
    /// holds its directives so far (`#ifdef X`, then any `#elif`/`#else`).
    pub conditions: Vec<Vec<String>>,
}

/// Which bytes of `text` are code (not comments, string or char literals, and
/// not preprocessor directives).
pub(crate) fn code_mask(text: &str) -> Vec<bool> {
    let b = text.as_bytes();
    let mut mask = vec![true; b.len()];
    let mut i = 0;
    let mut line_start = true;
    while i < b.len() {
        let c = b[i];
        if line_start && (c == b' ' || c == b'\t') {
            i += 1;
            continue;
        }
        if line_start && c == b'#' {
            // A directive, with its continuation lines.
            while i < b.len() && b[i] != b'\n' {
                if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\n' {
                    mask[i] = false;
                    i += 1;
                } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                    // A comment may carry a directive over several lines.
                    while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                        mask[i] = false;
                        i += 1;
                    }
                    if i < b.len() {
                        mask[i] = false;
                        i += 1;
                    }
                }
                if i < b.len() {
                    mask[i] = false;
                    i += 1;
                }
            }
            continue;
        }
        line_start = false;
        match c {
            b'\n' => {
                line_start = true;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = text[i + 2..].find("*/").map_or(b.len(), |p| i + 2 + p + 2);
                for m in &mut mask[i..end] {
                    *m = false;
                }
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    mask[i] = false;
                    i += 1;
                }
            }
            b'"' | b'\'' => {
                let quote = c;
                mask[i] = false;
                i += 1;
                while i < b.len() && b[i] != quote && b[i] != b'\n' {
                    if b[i] == b'\\' {
                        mask[i] = false;
                        i += 1;
                    }
                    if i < b.len() {
                        mask[i] = false;
                        i += 1;
                    }
                }
                if i < b.len() {
                    mask[i] = false;
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    mask
}

pub(crate) fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

pub(crate) fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Attribute-like macros that can precede a function's name with parentheses
/// of their own.
const ATTRIBUTE_MACROS: &[&str] = &["__attribute__", "__printf", "__scanf", "__section", "__aligned"];

/// The function name of a header: the first identifier that is directly
/// followed by a parenthesis at depth 0 and is not an attribute.
fn function_name(header: &str) -> Option<String> {
    let b = header.as_bytes();
    let mut depth = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'(' {
            depth += 1;
        } else if c == b')' {
            depth -= 1;
        } else if depth == 0 && is_ident_start(c) && (i == 0 || !is_ident(b[i - 1])) {
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            let name = &header[start..i];
            let rest = header[i..].trim_start();
            if rest.starts_with('(') && !ATTRIBUTE_MACROS.contains(&name) {
                return Some(name.to_string());
            }
            continue;
        }
        i += 1;
    }
    None
}

/// A header describes a function when it ends in a parameter list and is not
/// an initialiser, a type definition or a macro invocation at file scope.
fn looks_like_function(header: &str) -> bool {
    let h = header.trim();
    h.ends_with(')') && !h.contains('=') && !h.starts_with("typedef") && h.split_whitespace().count() >= 2
}

/// Scans `text` for top-level function definitions and prototypes.
pub fn items(text: &str) -> Vec<Item> {
    let mask = code_mask(text);
    let b = text.as_bytes();
    let line_starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
    let line_of = |pos: usize| line_starts.partition_point(|&s| s <= pos);

    let mut out = Vec::new();
    let mut conditions: Vec<Vec<String>> = Vec::new();
    let mut depth = 0usize;
    let mut paren = 0usize;
    // Start of the current top-level item (first byte after the last boundary).
    let mut item_start = 0usize;
    let mut body_start = None;
    let mut i = 0;
    while i < b.len() {
        if !mask[i] {
            // A directive line at top level updates the condition stack.
            let at_line_start = i == 0 || b[i - 1] == b'\n';
            if at_line_start && depth == 0 {
                let end = text[i..].find('\n').map_or(b.len(), |p| i + p);
                let line = text[i..end].trim();
                if let Some(d) = line.strip_prefix('#') {
                    let d = d.trim_start();
                    if d.starts_with("if") {
                        conditions.push(vec![line.to_string()]);
                    } else if d.starts_with("elif") || d.starts_with("else") {
                        if let Some(top) = conditions.last_mut() {
                            top.push(line.to_string());
                        }
                    } else if d.starts_with("endif") {
                        conditions.pop();
                    }
                    if paren == 0 {
                        item_start = end;
                    }
                }
            }
            i += 1;
            continue;
        }
        match b[i] {
            b'(' => paren += 1,
            b')' => paren = paren.saturating_sub(1),
            b'{' => {
                if depth == 0 {
                    body_start = Some(i);
                }
                depth += 1;
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some(bs) = body_start.take() {
                        let header = code_only(text, &mask, item_start, bs);
                        if looks_like_function(&header) {
                            if let Some(name) = function_name(&header) {
                                out.push(make_item(
                                    text,
                                    &mask,
                                    item_start,
                                    bs,
                                    Some(i),
                                    name,
                                    &conditions,
                                    &line_of,
                                    &line_starts,
                                ));
                            }
                        }
                    }
                    // `struct x { ... };` ends at the `;`, a function at `}`.
                    item_start = i + 1;
                }
            }
            b';' if depth == 0 && paren == 0 => {
                let header = code_only(text, &mask, item_start, i);
                if looks_like_function(&header) {
                    if let Some(name) = function_name(&header) {
                        out.push(make_item(
                            text,
                            &mask,
                            item_start,
                            i,
                            None,
                            name,
                            &conditions,
                            &line_of,
                            &line_starts,
                        ));
                    }
                }
                item_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

fn code_only(text: &str, mask: &[bool], from: usize, to: usize) -> String {
    let mut s = String::new();
    let mut last_space = false;
    for (c, &m) in text[from..to].chars().zip(mask[from..to].iter()) {
        // Multi-byte characters only occur in comments, which are masked out.
        let c = if m { c } else { ' ' };
        if c.is_whitespace() {
            if !last_space && !s.is_empty() {
                s.push(' ');
            }
            last_space = true;
        } else {
            s.push(c);
            last_space = false;
        }
    }
    s.trim().to_string()
}

#[allow(clippy::too_many_arguments)]
fn make_item(
    text: &str,
    mask: &[bool],
    start: usize,
    header_end: usize,
    body_end: Option<usize>,
    name: String,
    conditions: &[Vec<String>],
    line_of: &dyn Fn(usize) -> usize,
    line_starts: &[usize],
) -> Item {
    // The header's first line is the first line holding code after `start`.
    let first_code =
        (start..header_end).find(|&p| mask[p] && !text.as_bytes()[p].is_ascii_whitespace()).unwrap_or(start);
    let line = line_of(first_code);
    let text_start = line_starts[line - 1];
    let end = body_end.unwrap_or(header_end);
    let text_end = text[end..].find('\n').map_or(text.len(), |p| end + p + 1);
    Item {
        name,
        line,
        header: code_only(text, mask, first_code, header_end),
        body: body_end.map(|e| text[header_end..=e].to_string()),
        text: text[text_start..text_end].to_string(),
        conditions: conditions.to_vec(),
    }
}

/// Identifiers a body uses that may name functions or macros: member names
/// (after `.` or `->`) and struct, union or enum tags are left out.
pub fn called_identifiers(body: &str) -> BTreeSet<String> {
    let mask = code_mask(body);
    let b = body.as_bytes();
    let mut out = BTreeSet::new();
    let mut prev_word = "";
    let mut i = 0;
    while i < b.len() {
        if mask[i] && is_ident_start(b[i]) && (i == 0 || !is_ident(b[i - 1])) {
            let start = i;
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            let word = &body[start..i];
            let before = body[..start].trim_end();
            let member = before.ends_with('.') || before.ends_with("->");
            let tag = matches!(prev_word, "struct" | "union" | "enum");
            if !member && !tag {
                out.insert(word.to_string());
            }
            prev_word = word;
            continue;
        }
        if mask[i] && !b[i].is_ascii_whitespace() {
            prev_word = "";
        }
        i += 1;
    }
    out
}

/// Names of the macros a text `#define`s.
pub fn defined_macros(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| l.trim_start().strip_prefix('#'))
        .filter_map(|d| d.trim_start().strip_prefix("define"))
        .filter_map(|rest| {
            let rest = rest.trim_start();
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
";

    #[test]
    fn finds_definitions_and_prototypes_with_their_lines() {
        let items = items(SAMPLE);
        let names: Vec<_> = items.iter().map(|i| (i.name.as_str(), i.line, i.body.is_some())).collect();
        assert_eq!(
            names,
            vec![("helper", 2, true), ("multi_line", 10, true), ("multi_line", 17, true), ("proto", 23, false)]
        );
    }

    #[test]
    fn keeps_the_preprocessor_groups_around_each_definition() {
        let items = items(SAMPLE);
        assert!(items[0].conditions.is_empty());
        assert_eq!(items[1].conditions, vec![vec!["#ifdef CONFIG_MMU".to_string()]]);
        assert_eq!(items[2].conditions, vec![vec!["#ifdef CONFIG_MMU".to_string(), "#else".to_string()]]);
        assert!(items[3].conditions.is_empty());
    }

    #[test]
    fn item_text_is_whole_lines_from_header_to_closing_brace() {
        let items = items(SAMPLE);
        assert!(items[1].text.starts_with("static inline bool __must_check\nmulti_line("));
        assert!(items[1].text.ends_with("}\n"));
        assert_eq!(items[1].header, "static inline bool __must_check multi_line(struct foo *f, unsigned long y)");
    }

    #[test]
    fn called_identifiers_skip_members_tags_and_comments() {
        let ids = called_identifiers("{ struct foo *f = g(x); /* h(y) */ f->m(1); a.b; return \"k(z)\"; }");
        assert!(ids.contains("g") && ids.contains("x") && ids.contains("f") && ids.contains("a"));
        assert!(!ids.contains("foo") && !ids.contains("m") && !ids.contains("b") && !ids.contains("h"));
        assert!(!ids.contains("k"));
    }

    #[test]
    fn defined_macros_lists_names() {
        let m = defined_macros("#define A 1\n# define B(x) x\nint c;\n");
        assert_eq!(m.into_iter().collect::<Vec<_>>(), vec!["A", "B"]);
    }
}
