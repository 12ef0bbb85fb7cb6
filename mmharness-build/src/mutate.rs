//! Mutants of the extracted kernel code, made mechanically from a kernel
//! file's tokens: each changes one place in one extracted function body. A
//! mutant keeps the file's line count, so the extract's `#line` directives,
//! and the WARNs and compiler errors they name, still point at kernel lines.

use crate::c::decl;
use crate::c::items::{split_commas, Item};
use crate::c::lex::{Kind, Lexed};
use crate::c::File;
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
    /// An argument of a call is off by one page (an address or a length in
    /// bytes) or by one unit (anything else, a page offset included).
    ArgOffByOne,
    /// Two neighbouring arguments of a call change places.
    SwapArgs,
    /// An argument that is a variable becomes another parameter or local
    /// of the function with the same type.
    ReplaceArg,
}

impl Operator {
    pub fn name(self) -> &'static str {
        match self {
            Self::NegateIf => "negate-if",
            Self::DropStatement => "drop-statement",
            Self::ReturnZero => "return-0",
            Self::SwapErrno => "swap-errno",
            Self::ArgOffByOne => "arg-off-by-one",
            Self::SwapArgs => "swap-args",
            Self::ReplaceArg => "replace-arg",
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

/// Every mutant of the extracted definitions `(name, line)` of one file,
/// with `name` and `line` as the artifact manifest lists them. A definition
/// that is not at its line has no mutants.
pub fn mutants(file: &File, definitions: &[(&str, usize)]) -> Vec<Mutant> {
    let t = Text { l: &file.lexed };
    let text = file.text();
    let mut out = Vec::new();
    for &(name, line) in definitions {
        let item = file.items.iter().find(|i| {
            i.line == line && i.is_definition() && (i.name == name || name.strip_prefix("nommu_") == Some(&i.name))
        });
        let Some((item, body)) = item.and_then(|i| Some((i, i.body_tokens.clone()?))) else { continue };
        let scope = t.scope(item, body.start, body.end - 1);
        for e in t.edits(body.start, body.end - 1, &scope) {
            out.push(Mutant {
                file: file.path().to_string(),
                text: format!("{}{}{}", &text[..e.from], e.with, &text[e.to..]),
                function: name.to_string(),
                line: e.line,
                operator: e.operator,
                description: e.description,
            });
        }
    }
    out
}

/// Replace bytes `from..to` by `with`; `line` is where the changed code starts.
struct Edit {
    line: usize,
    from: usize,
    to: usize,
    with: String,
    operator: Operator,
    description: String,
}

/// A parameter or local of the function being mutated.
struct Var {
    name: String,
    /// Its type without qualifiers, as `decl::join` spells it.
    ty: String,
    /// The first token where it is declared, so visible.
    from: usize,
}

/// A type's words without the qualifiers that do not change what a value
/// of it can be: `const struct file *` is `struct file *`.
fn unqualified<'a>(words: impl IntoIterator<Item = &'a str>) -> String {
    let w: Vec<String> = words.into_iter().filter(|w| !matches!(*w, "const" | "volatile")).map(String::from).collect();
    decl::join(&w)
}

/// Token positions inside one file.
struct Text<'a> {
    l: &'a Lexed,
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

impl Text<'_> {
    fn start(&self, i: usize) -> usize {
        self.l.tokens[i].start
    }

    fn end(&self, i: usize) -> usize {
        self.l.tokens[i].end
    }

    fn ident(&self, i: usize) -> Option<&str> {
        (self.l.kind(i) == Some(Kind::Ident)).then(|| self.l.at(i))
    }

    /// Source text of tokens `from..=to` with its blank space folded,
    /// short enough for one line.
    fn squash(&self, from: usize, to: usize) -> String {
        let s = self.l.text[self.start(from)..self.end(to)].split_whitespace().collect::<Vec<_>>().join(" ");
        if s.chars().count() > 90 {
            format!("{}...", s.chars().take(87).collect::<String>())
        } else {
            s
        }
    }

    /// Every mutation of the body whose braces are tokens `open` and
    /// `close`, in a function whose variables are `scope`.
    fn edits(&self, open: usize, close: usize, scope: &[Var]) -> Vec<Edit> {
        let mut out = self.negated_ifs(open, close);
        out.extend(self.argument_edits(open, close, scope));
        for (segment, semi) in self.statements(open, close) {
            self.statement(segment, semi, &mut out);
        }
        out
    }

    /// Each statement of the body as `(segment, semi)`: statements end at a
    /// `;` outside parentheses and start after the previous `;` or brace; a
    /// `for (;;)` header is one parenthesis.
    fn statements(&self, open: usize, close: usize) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut paren = 0usize;
        let mut segment = open + 1;
        for i in open + 1..close {
            if self.l.kind(i) != Some(Kind::Punct) {
                continue;
            }
            match self.l.at(i) {
                "(" => paren += 1,
                ")" => paren = paren.saturating_sub(1),
                "{" | "}" if paren == 0 => segment = i + 1,
                ";" if paren == 0 => {
                    out.push((segment, i));
                    segment = i + 1;
                }
                _ => {}
            }
        }
        out
    }

    /// `int x` or `struct file *f = ...` at `p`: a declaration, not an
    /// expression statement.
    fn is_declaration(&self, p: usize) -> bool {
        self.ident(p).is_some_and(|w| {
            !NOT_TYPES.contains(&w) && (self.l.kind(p + 1) == Some(Kind::Ident) || self.l.is(p + 1, "*"))
        })
    }

    /// The item's named parameters, visible in the whole body, and the
    /// locals its body declares, each visible from its declaration on.
    fn scope(&self, item: &Item, open: usize, close: usize) -> Vec<Var> {
        let mut out: Vec<Var> = item
            .params
            .iter()
            .filter_map(|p| Some(Var { name: p.name.clone()?, ty: unqualified(p.ty.split_whitespace()), from: open }))
            .collect();
        for (segment, semi) in self.statements(open, close) {
            let p = self.statement_start(segment, semi);
            if p >= semi || !self.is_declaration(p) || (p..semi).any(|i| self.l.kind(i) == Some(Kind::Directive)) {
                continue;
            }
            // `unsigned long nr_pages, end;`: the first declarator carries
            // the base type the others share.
            let mut base: Vec<String> = Vec::new();
            for (n, d) in split_commas(self.l, p..semi).into_iter().enumerate() {
                let end = d.clone().find(|&i| self.l.is(i, "=")).unwrap_or(d.end);
                let own = (d.start..end).map(|i| self.l.at(i).to_string());
                let words: Vec<String> = base.iter().cloned().chain(own).collect();
                let (ty, Some(name)) = decl::split_param(&words) else { continue };
                if n == 0 {
                    base = ty.iter().filter(|w| *w != "*").cloned().collect();
                }
                out.push(Var { name: name.clone(), ty: unqualified(ty.iter().map(String::as_str)), from: semi });
            }
        }
        out
    }

    fn negated_ifs(&self, open: usize, close: usize) -> Vec<Edit> {
        let mut out = Vec::new();
        for i in open..close {
            if self.ident(i) != Some("if") || !self.l.is(i + 1, "(") {
                continue;
            }
            let Some(end) = self.l.closing(i + 1) else { continue };
            let (from, to) = (self.end(i + 1), self.start(end));
            let cond = &self.l.text[from..to];
            let c = self.squash(i + 2, end - 1);
            out.push(Edit {
                line: self.l.tokens[i].line,
                from,
                to,
                with: format!("!({cond})"),
                operator: Operator::NegateIf,
                description: format!("if ({c}) -> if (!({c}))"),
            });
        }
        out
    }

    /// The arguments of the call whose `(` is token `open`, as token ranges
    /// `first..=last`; none when a directive or nothing lies between.
    fn arguments(&self, open: usize, close: usize) -> Vec<(usize, usize)> {
        let mut args = Vec::new();
        let (mut depth, mut first) = (0usize, open + 1);
        for i in open + 1..=close {
            if self.l.kind(i) == Some(Kind::Directive) {
                return Vec::new();
            }
            if self.l.kind(i) != Some(Kind::Punct) {
                continue;
            }
            match self.l.at(i) {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" if i < close => depth = depth.saturating_sub(1),
                "," if depth == 0 => {
                    args.push((first, i - 1));
                    first = i + 1;
                }
                _ => {}
            }
            if i == close && first < close {
                args.push((first, close - 1));
            }
        }
        args
    }

    /// Each argument of each call to a function (not to a keyword or an
    /// upper-case macro such as `WARN_ON`, whose argument is a condition)
    /// off by one, each that is a variable replaced by every other variable
    /// of `scope` of its type, and each pair of neighbouring arguments
    /// swapped.
    fn argument_edits(&self, open: usize, close: usize, scope: &[Var]) -> Vec<Edit> {
        let mut out = Vec::new();
        for i in open + 1..close {
            let Some(name) = self.ident(i) else { continue };
            let keyword = matches!(name, "if" | "while" | "for" | "switch" | "return" | "sizeof");
            if keyword || name.bytes().all(|c| !c.is_ascii_lowercase()) || !self.l.is(i + 1, "(") {
                continue;
            }
            let Some(end) = self.l.closing(i + 1).filter(|&e| e < close) else { continue };
            let args = self.arguments(i + 1, end);
            let call = self.squash(i, end);
            let line = self.l.tokens[i].line;
            for &(a, b) in &args {
                let text = &self.l.text[self.start(a)..self.end(b)];
                let arg = self.squash(a, b);
                let bytes =
                    ["start", "end", "addr", "len", "size"].iter().any(|w| arg.contains(w)) && !arg.contains("pgoff");
                let by = if bytes { "PAGE_SIZE" } else { "1" };
                out.push(Edit {
                    line,
                    from: self.start(a),
                    to: self.end(b),
                    with: format!("({text}) + {by}"),
                    operator: Operator::ArgOffByOne,
                    description: format!("`{call}`: {arg} -> ({arg}) + {by}"),
                });
                let visible = |v: &&Var| v.from <= a;
                let Some(var) = scope.iter().filter(visible).rfind(|v| a == b && v.name == text) else {
                    continue;
                };
                for other in scope.iter().filter(visible).filter(|v| v.ty == var.ty && v.name != var.name) {
                    out.push(Edit {
                        line,
                        from: self.start(a),
                        to: self.end(b),
                        with: other.name.clone(),
                        operator: Operator::ReplaceArg,
                        description: format!("`{call}`: {arg} -> {} ({})", other.name, var.ty),
                    });
                }
            }
            for w in args.windows(2) {
                let ((a0, a1), (b0, b1)) = (w[0], w[1]);
                let (x, y) = (&self.l.text[self.start(a0)..self.end(a1)], &self.l.text[self.start(b0)..self.end(b1)]);
                if x == y || x.contains('\n') || y.contains('\n') {
                    continue;
                }
                let between = &self.l.text[self.end(a1)..self.start(b0)];
                out.push(Edit {
                    line,
                    from: self.start(a0),
                    to: self.end(b1),
                    with: format!("{y}{between}{x}"),
                    operator: Operator::SwapArgs,
                    description: format!("`{call}`: swap {} and {}", self.squash(a0, a1), self.squash(b0, b1)),
                });
            }
        }
        out
    }

    /// Where the statement proper starts in tokens `segment..semi`, after
    /// the `if (...)`, `else`, loop headers and labels that control it.
    fn statement_start(&self, segment: usize, semi: usize) -> usize {
        let mut p = self.l.next_code(segment);
        while p < semi {
            let next = match self.ident(p) {
                Some("if" | "while" | "for" | "switch") if self.l.is(p + 1, "(") => {
                    self.l.closing(p + 1).map(|c| c + 1)
                }
                Some("else" | "do") => Some(p + 1),
                Some("case") => (p..semi).find(|&j| self.l.is(j, ":")).map(|c| c + 1),
                Some(_) if self.l.is(p + 1, ":") => Some(p + 2),
                _ => None,
            };
            match next {
                Some(n) => p = self.l.next_code(n),
                None => return p,
            }
        }
        p
    }

    fn statement(&self, segment: usize, semi: usize, out: &mut Vec<Edit>) {
        let p = self.statement_start(segment, semi);
        let directive_inside = (p..semi).any(|i| self.l.kind(i) == Some(Kind::Directive));
        if p >= semi || directive_inside {
            return;
        }
        if self.ident(p) == Some("return") {
            self.returned(p, semi, out);
            return;
        }
        if self.is_declaration(p) || self.ident(p).is_some_and(|w| NOT_TYPES.contains(&w)) {
            return;
        }
        let dropped = &self.l.text[self.start(p)..self.start(semi)];
        out.push(Edit {
            line: self.l.tokens[p].line,
            from: self.start(p),
            to: self.end(semi),
            with: format!(";{}", newlines(dropped)),
            operator: Operator::DropStatement,
            description: format!("drop `{}`", self.squash(p, semi)),
        });
        // `err = -EINVAL;`: the error is returned later.
        for (minus, name) in self.errnos(p, semi) {
            if minus > p && self.l.is(minus - 1, "=") {
                out.push(self.swapped(name, p, semi));
            }
        }
    }

    /// `return e;` at `p`: `return 0;`, and each errno in `e` swapped.
    fn returned(&self, p: usize, semi: usize, out: &mut Vec<Edit>) {
        let e = p + 1;
        if e == semi {
            return;
        }
        let value = self.squash(e, semi - 1);
        if value != "0" && value != "false" {
            let replaced = &self.l.text[self.start(e)..self.start(semi)];
            out.push(Edit {
                line: self.l.tokens[p].line,
                from: self.start(e),
                to: self.start(semi),
                with: format!("0{}", newlines(replaced)),
                operator: Operator::ReturnZero,
                description: format!("return {value}; -> return 0;"),
            });
        }
        for (_, name) in self.errnos(e, semi) {
            out.push(self.swapped(name, p, semi));
        }
    }

    /// Each `-EXXX` in tokens `from..to`: where its minus and its name are.
    fn errnos(&self, from: usize, to: usize) -> Vec<(usize, usize)> {
        (from..to)
            .filter(|&i| self.l.is(i, "-") && self.ident(i + 1).is_some_and(is_errno))
            .map(|i| (i, i + 1))
            .collect()
    }

    fn swapped(&self, name: usize, p: usize, semi: usize) -> Edit {
        let errno = self.l.at(name);
        let other = other_errno(errno);
        Edit {
            line: self.l.tokens[name].line,
            from: self.start(name),
            to: self.end(name),
            with: other.to_string(),
            operator: Operator::SwapErrno,
            description: format!("`{}`: -{errno} -> -{other}", self.squash(p, semi)),
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
        let f = File::new("mm/thing.c", FILE).unwrap();
        mutants(&f, &[("helper", 9), ("nothing_back", 34), ("mmu_only", 42), ("nommu_mmu_only", 47)])
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
    fn moves_each_call_argument_by_a_page_or_a_unit_and_swaps_neighbours() {
        let call = "`call_with_many(t, len, /* flag= */true)`";
        assert_eq!(
            of(Operator::ArgOffByOne),
            vec![
                (17, "`poke(t)`: t -> (t) + 1".to_string()),
                (21, format!("{call}: t -> (t) + 1")),
                (21, format!("{call}: len -> (len) + PAGE_SIZE")),
                (21, format!("{call}: true -> (true) + 1")),
            ]
        );
        assert_eq!(
            of(Operator::SwapArgs),
            vec![(21, format!("{call}: swap t and len")), (21, format!("{call}: swap len and true"))]
        );
        let m = all().into_iter().find(|m| m.description.ends_with("swap t and len")).unwrap();
        assert_eq!(changed(&m), vec!["\tcall_with_many(len, t,"]);
    }

    #[test]
    fn replaces_a_variable_argument_by_each_other_parameter_or_local_of_its_type() {
        // `t` and `other` are both `struct thing *`; `len` has no twin, and
        // `const` does not make another type.
        let call = "`call_with_many(t, len, /* flag= */true)`";
        assert_eq!(
            of(Operator::ReplaceArg),
            vec![
                (17, "`poke(t)`: t -> other (struct thing *)".to_string()),
                (21, format!("{call}: t -> other (struct thing *)")),
            ]
        );
        let m = all().into_iter().find(|m| m.operator == Operator::ReplaceArg).unwrap();
        assert_eq!(changed(&m), vec!["\t\tpoke(other);"]);
        // A local is not in scope before its declaration.
        let f = File::new("mm/x.c", "int f(long a)\n{\n\tg(a);\n\tlong b = a;\n\treturn h(b);\n}\n").unwrap();
        let ops: Vec<String> = mutants(&f, &[("f", 1)])
            .into_iter()
            .filter(|m| m.operator == Operator::ReplaceArg)
            .map(|m| m.description)
            .collect();
        assert_eq!(ops, vec!["`h(b)`: b -> a (long)"]);
    }

    #[test]
    fn the_nommu_branch_is_found_by_its_line() {
        let m: Vec<_> = all().into_iter().filter(|m| m.function.ends_with("mmu_only")).collect();
        assert!(m.is_empty(), "both branches return 0 already: {m:?}");
        let f = File::new("mm/thing.c", &FILE.replace("return false;", "return 1;")).unwrap();
        let m = mutants(&f, &[("nommu_mmu_only", 47)]);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].function.as_str(), m[0].line), ("nommu_mmu_only", 49));
    }
}
