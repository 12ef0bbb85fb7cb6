//! Mutants of the extracted kernel code, made mechanically from a kernel
//! file's text: each changes one place in one extracted function body. A
//! mutant keeps the file's line count, so the extract's `#line` directives,
//! and the WARNs and compiler errors they name, still point at kernel lines.

use crate::scan::{self, is_ident, is_ident_start};
use serde::Serialize;
use std::fmt;

/// What a mutant changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Operator {
    /// `if (c)` becomes `if (!(c))`.
    NegateIf,
    /// An expression statement becomes the empty statement.
    DropStatement,
    /// `return e;` becomes `return 0;`.
    ReturnZero,
    /// A negative errno that is returned, or assigned to be returned later,
    /// becomes another one.
    SwapErrno,
}

impl Operator {
    pub fn name(self) -> &'static str {
        match self {
            Self::NegateIf => "negate-if",
            Self::DropStatement => "drop-statement",
            Self::ReturnZero => "return-0",
            Self::SwapErrno => "swap-errno",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One mutated version of one file.
#[derive(Debug, Clone, Serialize)]
pub struct Mutant {
    /// The file's path in the tree, such as `mm/util.c`.
    pub file: String,
    /// The whole file with the change.
    #[serde(skip)]
    pub text: String,
    /// The definition, named as the manifest names it (`nommu_` prefix for
    /// the `#else` branch of `CONFIG_MMU`).
    pub function: String,
    /// The kernel line of the changed code.
    pub line: usize,
    pub operator: Operator,
    pub description: String,
}

/// Every mutant of the definitions `(name, line)` of one file, with `name`
/// and `line` as the artifact manifest lists them. A definition that is not
/// at its line has no mutants.
pub fn mutants(file: &str, text: &str, definitions: &[(&str, usize)]) -> Vec<Mutant> {
    let t = Text::new(text);
    let items = scan::items(text);
    let mut out = Vec::new();
    for &(name, line) in definitions {
        let item = items.iter().find(|i| {
            i.line == line && i.body.is_some() && (i.name == name || name.strip_prefix("nommu_") == Some(&i.name))
        });
        let Some((item, body)) = item.and_then(|i| Some((i, i.body.as_deref()?))) else { continue };
        let Some(offset) = item.text.find(body) else { continue };
        let start = t.line_starts[line - 1] + offset;
        for e in t.edits(start, start + body.len()) {
            out.push(Mutant {
                file: file.to_string(),
                text: format!("{}{}{}", &text[..e.from], e.with, &text[e.to..]),
                function: name.to_string(),
                line: t.line_of(e.at),
                operator: e.operator,
                description: e.description,
            });
        }
    }
    out
}

/// Replace `from..to` by `with`; `at` is where the changed code starts.
struct Edit {
    at: usize,
    from: usize,
    to: usize,
    with: String,
    operator: Operator,
    description: String,
}

struct Text<'a> {
    s: &'a str,
    b: &'a [u8],
    /// Code bytes: not comments, literals or preprocessor lines.
    code: Vec<bool>,
    line_starts: Vec<usize>,
}

/// Words that end a statement's prefix rather than start a declaration.
const NOT_TYPES: &[&str] = &["return", "break", "continue", "goto", "sizeof"];

fn is_errno(word: &str) -> bool {
    word.len() >= 3 && word.starts_with('E') && word.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn other_errno(errno: &str) -> &'static str {
    if errno == "EINVAL" {
        "ENOMEM"
    } else {
        "EINVAL"
    }
}

/// Newlines a replacement must keep so that later lines do not move.
fn newlines(s: &str) -> String {
    "\n".repeat(s.matches('\n').count())
}

impl<'a> Text<'a> {
    fn new(s: &'a str) -> Self {
        let line_starts = std::iter::once(0).chain(s.match_indices('\n').map(|(i, _)| i + 1)).collect();
        Self { s, b: s.as_bytes(), code: scan::code_mask(s), line_starts }
    }

    fn line_of(&self, pos: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= pos)
    }

    /// The identifier that starts at `i`, if one does.
    fn word(&self, i: usize) -> Option<&'a str> {
        if i >= self.b.len() || !self.code[i] || !is_ident_start(self.b[i]) || (i > 0 && is_ident(self.b[i - 1])) {
            return None;
        }
        let end = (i..self.b.len()).find(|&j| !is_ident(self.b[j])).unwrap_or(self.b.len());
        Some(&self.s[i..end])
    }

    /// The first code byte at or after `i` that is not blank, or `end`.
    fn skip_blank(&self, i: usize, end: usize) -> usize {
        (i..end).find(|&j| self.code[j] && !self.b[j].is_ascii_whitespace()).unwrap_or(end)
    }

    /// The last code byte before `i` that is not blank.
    fn prev_code(&self, i: usize, start: usize) -> Option<usize> {
        (start..i).rev().find(|&j| self.code[j] && !self.b[j].is_ascii_whitespace())
    }

    fn close_paren(&self, open: usize, end: usize) -> Option<usize> {
        let mut depth = 0usize;
        for j in open..end {
            match self.b[j] {
                b'(' if self.code[j] => depth += 1,
                b')' if self.code[j] => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(j);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// A code `:` of a label, not of `::`.
    fn label_colon(&self, i: usize, end: usize) -> Option<usize> {
        let j = self.skip_blank(i, end);
        (j < end && self.b[j] == b':' && self.b.get(j + 1) != Some(&b':')).then_some(j)
    }

    /// Source text with its blank space folded, short enough for one line.
    fn squash(&self, from: usize, to: usize) -> String {
        let s = self.s[from..to].split_whitespace().collect::<Vec<_>>().join(" ");
        if s.chars().count() > 90 {
            format!("{}...", s.chars().take(87).collect::<String>())
        } else {
            s
        }
    }

    /// Whether a preprocessor line falls inside `from..to`: removing the
    /// span would unbalance an `#if`.
    fn spans_directive(&self, from: usize, to: usize) -> bool {
        self.s[from..to].lines().skip(1).any(|l| l.trim_start().starts_with('#'))
    }

    /// Every mutation of the body `start..end` (its braces included).
    fn edits(&self, start: usize, end: usize) -> Vec<Edit> {
        let mut out = self.negated_ifs(start, end);
        // Statements end at a `;` outside parentheses and start after the
        // previous `;` or brace; a `for (;;)` header is one parenthesis.
        let mut paren = 0usize;
        let mut segment = start + 1;
        for i in start + 1..end {
            if !self.code[i] {
                continue;
            }
            match self.b[i] {
                b'(' => paren += 1,
                b')' => paren = paren.saturating_sub(1),
                b'{' | b'}' if paren == 0 => segment = i + 1,
                b';' if paren == 0 => {
                    self.statement(segment, i, &mut out);
                    segment = i + 1;
                }
                _ => {}
            }
        }
        out
    }

    fn negated_ifs(&self, start: usize, end: usize) -> Vec<Edit> {
        let mut out = Vec::new();
        let mut i = start;
        while i < end {
            let Some(w) = self.word(i) else {
                i += 1;
                continue;
            };
            let open = self.skip_blank(i + w.len(), end);
            if w == "if" && open < end && self.b[open] == b'(' {
                if let Some(close) = self.close_paren(open, end) {
                    let cond = &self.s[open + 1..close];
                    let c = self.squash(open + 1, close);
                    out.push(Edit {
                        at: i,
                        from: open + 1,
                        to: close,
                        with: format!("!({cond})"),
                        operator: Operator::NegateIf,
                        description: format!("if ({c}) -> if (!({c}))"),
                    });
                }
            }
            i += w.len();
        }
        out
    }

    /// Where the statement proper starts in `segment..semi`, after the
    /// `if (...)`, `else`, loop headers and labels that control it.
    fn statement_start(&self, segment: usize, semi: usize) -> usize {
        let mut p = segment;
        loop {
            p = self.skip_blank(p, semi);
            let Some(w) = self.word(p) else { return p };
            let after = p + w.len();
            let next = match w {
                "if" | "while" | "for" | "switch" => {
                    let open = self.skip_blank(after, semi);
                    (open < semi && self.b[open] == b'(').then(|| self.close_paren(open, semi)).flatten().map(|c| c + 1)
                }
                "else" | "do" => Some(after),
                "case" => (after..semi).find(|&j| self.code[j] && self.b[j] == b':').map(|c| c + 1),
                _ => self.label_colon(after, semi).map(|c| c + 1),
            };
            match next {
                Some(n) => p = n,
                None => return p,
            }
        }
    }

    fn statement(&self, segment: usize, semi: usize, out: &mut Vec<Edit>) {
        let p = self.statement_start(segment, semi);
        if p >= semi || self.spans_directive(p, semi) {
            return;
        }
        let word = self.word(p);
        if word == Some("return") {
            self.returned(p, semi, out);
            return;
        }
        if let Some(w) = word {
            let next = self.skip_blank(p + w.len(), semi);
            let declaration = !NOT_TYPES.contains(&w)
                && next < semi
                && (is_ident_start(self.b[next]) || (self.b[next] == b'*' && self.b[next + 1] != b'='));
            if declaration || NOT_TYPES.contains(&w) {
                return;
            }
        }
        out.push(Edit {
            at: p,
            from: p,
            to: semi + 1,
            with: format!(";{}", newlines(&self.s[p..semi])),
            operator: Operator::DropStatement,
            description: format!("drop `{}`", self.squash(p, semi + 1)),
        });
        // `err = -EINVAL;`: the error is returned later.
        for (minus, at, errno) in self.errnos(p, semi) {
            let assigned = self.prev_code(minus, p).is_some_and(|eq| {
                self.b[eq] == b'=' && !matches!(self.b[eq - 1], b'=' | b'!' | b'<' | b'>' | b'+' | b'-' | b'*' | b'/')
            });
            if assigned {
                out.push(self.swapped(at, errno, p, semi));
            }
        }
    }

    /// `return e;` at `p`: `return 0;`, and each errno in `e` swapped.
    fn returned(&self, p: usize, semi: usize, out: &mut Vec<Edit>) {
        let e = self.skip_blank(p + "return".len(), semi);
        if e == semi {
            return;
        }
        let value = self.squash(e, semi);
        if value != "0" && value != "false" {
            out.push(Edit {
                at: p,
                from: e,
                to: semi,
                with: format!("0{}", newlines(&self.s[e..semi])),
                operator: Operator::ReturnZero,
                description: format!("return {value}; -> return 0;"),
            });
        }
        for (_, at, errno) in self.errnos(e, semi) {
            out.push(self.swapped(at, errno, p, semi));
        }
    }

    /// Each `-EXXX` in `from..to`: where its minus and its name are, and the name.
    fn errnos(&self, from: usize, to: usize) -> Vec<(usize, usize, &'a str)> {
        (from..to)
            .filter(|&i| self.code[i] && self.b[i] == b'-')
            .filter_map(|i| {
                let at = self.skip_blank(i + 1, to);
                self.word(at).filter(|w| is_errno(w)).map(|w| (i, at, w))
            })
            .collect()
    }

    fn swapped(&self, at: usize, errno: &str, p: usize, semi: usize) -> Edit {
        let other = other_errno(errno);
        Edit {
            at,
            from: at,
            to: at + errno.len(),
            with: other.to_string(),
            operator: Operator::SwapErrno,
            description: format!("`{}`: -{errno} -> -{other}", self.squash(p, semi + 1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
/* Not extracted: never mutated. */
int untouched(int x)
{
\tif (x)
\t\treturn -EIO;
\treturn 0;
}

static int helper(struct thing *t, int err)
{
\tconst unsigned long len = t->len;
\tstruct thing *other;
\tint ret = 0;

\tif (!err &&
\t    t->ready)
\t\tpoke(t);
\tif (err == -ENOMEM)
\t\treturn -ENOMEM;
#define SHOUT(x) shout(x);
\tcall_with_many(t, len,
\t\t       /* flag= */true);
\tswitch (t->kind) {
\tcase 1:
\t\tret = -EFAULT;
\t\tbreak;
\tdefault:
\t\tt->count++;
\t}
\t*t->out = len;
\treturn ret ?: err;
}

static void nothing_back(struct thing *t)
{
\tif (!t)
\t\treturn;
\treturn;
}

#ifdef CONFIG_MMU
int mmu_only(void)
{
\treturn 0;
}
#else
int mmu_only(void)
{
\treturn false;
}
#endif
";

    fn all() -> Vec<Mutant> {
        mutants("mm/thing.c", FILE, &[("helper", 9), ("nothing_back", 34), ("mmu_only", 42), ("nommu_mmu_only", 47)])
    }

    fn of(op: Operator) -> Vec<(usize, String)> {
        all().into_iter().filter(|m| m.operator == op).map(|m| (m.line, m.description)).collect()
    }

    /// The lines of a mutant that differ from the original.
    fn changed(m: &Mutant) -> Vec<String> {
        m.text.lines().zip(FILE.lines()).filter(|(a, b)| a != b).map(|(a, _)| a.to_string()).collect()
    }

    #[test]
    fn every_mutant_keeps_the_line_count_and_differs() {
        let all = all();
        assert!(!all.is_empty());
        for m in &all {
            assert_eq!(m.text.lines().count(), FILE.lines().count(), "{m:?}");
            assert_ne!(m.text, FILE);
            assert_eq!(m.file, "mm/thing.c");
        }
        // Only the definitions listed are mutated.
        assert!(all.iter().all(|m| m.line >= 9));
    }

    #[test]
    fn negates_each_if_condition_including_multi_line_ones() {
        assert_eq!(
            of(Operator::NegateIf),
            vec![
                (15, "if (!err && t->ready) -> if (!(!err && t->ready))".to_string()),
                (18, "if (err == -ENOMEM) -> if (!(err == -ENOMEM))".to_string()),
                (36, "if (!t) -> if (!(!t))".to_string()),
            ]
        );
        let m = all().into_iter().find(|m| m.operator == Operator::NegateIf).unwrap();
        assert_eq!(changed(&m), vec!["\tif (!(!err &&", "\t    t->ready))"]);
    }

    #[test]
    fn drops_expression_statements_only() {
        assert_eq!(
            of(Operator::DropStatement),
            vec![
                (17, "drop `poke(t);`".to_string()),
                (21, "drop `call_with_many(t, len, /* flag= */true);`".to_string()),
                (25, "drop `ret = -EFAULT;`".to_string()),
                (28, "drop `t->count++;`".to_string()),
                (30, "drop `*t->out = len;`".to_string()),
            ]
        );
        let m = all().into_iter().find(|m| m.description.starts_with("drop `call_with_many")).unwrap();
        assert_eq!(changed(&m), vec!["\t;", ""]);
    }

    #[test]
    fn returns_zero_unless_already_zero_or_void() {
        assert_eq!(
            of(Operator::ReturnZero),
            vec![(19, "return -ENOMEM; -> return 0;".to_string()), (31, "return ret ?: err; -> return 0;".to_string())]
        );
    }

    #[test]
    fn swaps_returned_and_assigned_errnos_but_not_compared_ones() {
        assert_eq!(
            of(Operator::SwapErrno),
            vec![
                (19, "`return -ENOMEM;`: -ENOMEM -> -EINVAL".to_string()),
                (25, "`ret = -EFAULT;`: -EFAULT -> -EINVAL".to_string()),
            ]
        );
        let m = all().into_iter().find(|m| m.operator == Operator::SwapErrno).unwrap();
        assert_eq!(changed(&m), vec!["\t\treturn -EINVAL;"]);
        assert_eq!(other_errno("EINVAL"), "ENOMEM");
    }

    #[test]
    fn the_nommu_branch_is_found_by_its_line() {
        let m: Vec<_> = all().into_iter().filter(|m| m.function.ends_with("mmu_only")).collect();
        assert!(m.is_empty(), "both branches return 0 already: {m:?}");
        let m = mutants("mm/thing.c", &FILE.replace("return false;", "return 1;"), &[("nommu_mmu_only", 47)]);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].function.as_str(), m[0].line), ("nommu_mmu_only", 49));
    }
}
