//! The one lexer of kernel C. It turns a file into tokens with byte spans
//! and lines, keeps each preprocessor directive as one token, drops
//! comments, and checks that conditional groups balance: an unbalanced
//! group is an error naming the file and line, as gcc would refuse it.
//!
//! It does not expand macros or evaluate conditions: a kernel file cannot
//! be preprocessed without a configured build, and the extract must keep
//! both branches of `#ifdef CONFIG_MMU`.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Number,
    Str,
    Char,
    Punct,
    /// A whole directive line, continuations and comments included.
    Directive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    /// 1-based line of the first byte.
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct LexError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// A file's tokens, and for each token the conditional groups open there.
#[derive(Debug, Clone)]
pub struct Lexed {
    pub path: String,
    pub text: String,
    pub tokens: Vec<Token>,
    line_starts: Vec<usize>,
    /// For each token, an index into `states`.
    state_of: Vec<u32>,
    /// Open groups, outermost first; each group is the token indices of
    /// its directives so far (`#ifdef X`, then any `#elif` and `#else`).
    states: Vec<Vec<Vec<usize>>>,
}

/// Multi-character punctuators, longest first within each lead byte.
const PUNCTS: &[&str] = &[
    "<<=", ">>=", "...", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "##",
];

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    line: usize,
}

impl Scanner<'_> {
    fn peek(&self, k: usize) -> u8 {
        self.b.get(self.i + k).copied().unwrap_or(0)
    }

    fn bump(&mut self) {
        if self.b[self.i] == b'\n' {
            self.line += 1;
        }
        self.i += 1;
    }

    fn skip_block_comment(&mut self) {
        self.i += 2;
        while self.i < self.b.len() && !(self.b[self.i] == b'*' && self.peek(1) == b'/') {
            self.bump();
        }
        self.i = (self.i + 2).min(self.b.len());
    }

    fn skip_line_comment(&mut self) {
        while self.i < self.b.len() && self.b[self.i] != b'\n' {
            self.i += 1;
        }
    }

    /// A directive runs to the end of its line, through `\`-continuations
    /// and through block comments that span lines.
    fn directive(&mut self) {
        while self.i < self.b.len() && self.b[self.i] != b'\n' {
            match (self.b[self.i], self.peek(1)) {
                (b'\\', b'\n') => {
                    self.i += 1;
                    self.bump();
                }
                (b'/', b'*') => self.skip_block_comment(),
                (b'/', b'/') => self.skip_line_comment(),
                _ => self.i += 1,
            }
        }
    }

    fn quoted(&mut self, quote: u8) {
        self.i += 1;
        while self.i < self.b.len() && self.b[self.i] != quote && self.b[self.i] != b'\n' {
            if self.b[self.i] == b'\\' {
                self.i += 1;
            }
            self.i += 1;
        }
        self.i = (self.i + 1).min(self.b.len());
    }

    fn number(&mut self) {
        while self.i < self.b.len() {
            let c = self.b[self.i];
            let exp = matches!(c, b'e' | b'E' | b'p' | b'P') && matches!(self.peek(1), b'+' | b'-');
            if exp {
                self.i += 2;
            } else if is_ident_byte(c) || c == b'.' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    fn punct(&mut self) {
        let rest = &self.b[self.i..];
        let len = PUNCTS.iter().find(|p| rest.starts_with(p.as_bytes())).map_or(1, |p| p.len());
        self.i += len;
    }
}

/// Splits `text` into tokens; comments and blanks are dropped.
fn tokenize(text: &str) -> Vec<Token> {
    let mut s = Scanner { b: text.as_bytes(), i: 0, line: 1 };
    let mut out = Vec::new();
    let mut line_start = true;
    while s.i < s.b.len() {
        let c = s.b[s.i];
        match (c, s.peek(1)) {
            (b'\n', _) => {
                s.bump();
                line_start = true;
                continue;
            }
            (b' ' | b'\t' | b'\r' | b'\x0c' | b'\x0b', _) => {
                s.i += 1;
                continue;
            }
            (b'\\', b'\n') => {
                s.i += 1;
                s.bump();
                continue;
            }
            (b'/', b'*') => {
                s.skip_block_comment();
                continue;
            }
            (b'/', b'/') => {
                s.skip_line_comment();
                continue;
            }
            _ => {}
        }
        let (start, line) = (s.i, s.line);
        let kind = match c {
            b'#' if line_start => {
                s.directive();
                Kind::Directive
            }
            b'"' => {
                s.quoted(b'"');
                Kind::Str
            }
            b'\'' => {
                s.quoted(b'\'');
                Kind::Char
            }
            b'0'..=b'9' => {
                s.number();
                Kind::Number
            }
            b'.' if s.peek(1).is_ascii_digit() => {
                s.number();
                Kind::Number
            }
            c if is_ident_byte(c) || c >= 0x80 => {
                while s.i < s.b.len() && (is_ident_byte(s.b[s.i]) || s.b[s.i] >= 0x80) {
                    s.i += 1;
                }
                Kind::Ident
            }
            _ => {
                s.punct();
                Kind::Punct
            }
        };
        line_start = false;
        out.push(Token { kind, start, end: s.i, line });
    }
    out
}

/// The directive's name: `if`, `ifdef`, `else`, `define`, ...
pub fn directive_name(d: &str) -> &str {
    let rest = d.trim_start().trim_start_matches('#').trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
    &rest[..end]
}

/// A directive's text on one line: continuations joined, comments out,
/// blanks folded: `#if defined(CONFIG_MMU)`.
pub fn clean_directive(raw: &str) -> String {
    let mut s = raw.replace("\\\n", " ");
    while let Some(p) = s.find("/*") {
        let end = s[p..].find("*/").map_or(s.len(), |e| p + e + 2);
        s.replace_range(p..end, " ");
    }
    if let Some(p) = s.find("//") {
        s.truncate(p);
    }
    let body = s.trim_start().trim_start_matches('#');
    format!("#{}", body.split_whitespace().collect::<Vec<_>>().join(" "))
}

impl Lexed {
    /// Lexes `text`, the file at `path` in the tree (for errors).
    pub fn new(path: &str, text: &str) -> Result<Self, LexError> {
        let tokens = tokenize(text);
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let mut lexed = Self {
            path: path.to_string(),
            text: text.to_string(),
            tokens,
            line_starts,
            state_of: Vec::new(),
            states: vec![Vec::new()],
        };
        lexed.balance()?;
        Ok(lexed)
    }

    fn error(&self, line: usize, message: String) -> LexError {
        LexError { file: self.path.clone(), line, message }
    }

    /// Pairs every `#if*` with its `#elif`/`#else`/`#endif`, and records
    /// the open groups at each token.
    fn balance(&mut self) -> Result<(), LexError> {
        let mut stack: Vec<Vec<usize>> = Vec::new();
        let mut state_of = Vec::with_capacity(self.tokens.len());
        for (i, t) in self.tokens.iter().enumerate() {
            if t.kind == Kind::Directive {
                let name = directive_name(&self.text[t.start..t.end]);
                match name {
                    "if" | "ifdef" | "ifndef" => stack.push(vec![i]),
                    "elif" | "elifdef" | "elifndef" | "else" | "endif" => {
                        let Some(top) = stack.last_mut() else {
                            return Err(self.error(t.line, format!("#{name} without a matching #if")));
                        };
                        let last = &self.text[self.tokens[*top.last().expect("a group")].start..];
                        if directive_name(last) == "else" && name != "endif" {
                            return Err(self.error(t.line, format!("#{name} after #else")));
                        }
                        if name == "endif" {
                            stack.pop();
                        } else {
                            top.push(i);
                        }
                    }
                    _ => {}
                }
                if matches!(name, "if" | "ifdef" | "ifndef" | "elif" | "elifdef" | "elifndef" | "else" | "endif") {
                    self.states.push(stack.clone());
                }
            }
            state_of.push((self.states.len() - 1) as u32);
        }
        if let Some(open) = stack.last() {
            let t = self.tokens[open[0]];
            let d = clean_directive(&self.text[t.start..t.end]);
            return Err(self.error(t.line, format!("`{d}` is never closed by #endif")));
        }
        self.state_of = state_of;
        Ok(())
    }

    pub fn str(&self, t: &Token) -> &str {
        &self.text[t.start..t.end]
    }

    /// The text of token `i`.
    pub fn at(&self, i: usize) -> &str {
        self.str(&self.tokens[i])
    }

    pub fn is(&self, i: usize, s: &str) -> bool {
        self.tokens.get(i).is_some_and(|t| t.kind != Kind::Directive && self.str(t) == s)
    }

    pub fn kind(&self, i: usize) -> Option<Kind> {
        self.tokens.get(i).map(|t| t.kind)
    }

    /// The open groups at token `i`, outermost first, each as its cleaned
    /// directives so far. The directive token itself counts as inside.
    pub fn groups_at(&self, i: usize) -> Vec<Vec<String>> {
        let state = &self.states[self.state_of[i] as usize];
        state.iter().map(|g| g.iter().map(|&d| clean_directive(self.at(d))).collect()).collect()
    }

    /// 1-based line of byte `pos`.
    pub fn line_of(&self, pos: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= pos)
    }

    /// Byte offset where 1-based `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts[line - 1]
    }

    /// The byte range of whole lines from token `from`'s line to the end
    /// of token `to`'s line (newline included).
    pub fn whole_lines(&self, from: usize, to: usize) -> Range<usize> {
        let start = self.line_start(self.tokens[from].line);
        let end = self.tokens[to].end;
        let end = self.text[end..].find('\n').map_or(self.text.len(), |p| end + p + 1);
        start..end
    }

    /// Tokens `range` joined with single spaces where the source had blanks.
    pub fn joined(&self, range: Range<usize>) -> String {
        let mut s = String::new();
        for i in range {
            let t = &self.tokens[i];
            if t.kind == Kind::Directive {
                continue;
            }
            if !s.is_empty() && i > 0 && self.tokens[i - 1].end < t.start {
                s.push(' ');
            }
            s.push_str(self.str(t));
        }
        s
    }

    /// The index of the bracket closing the one at `open` (`(`, `[` or `{`),
    /// skipping directives; `None` if it is never closed.
    pub fn closing(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for i in open..self.tokens.len() {
            if self.tokens[i].kind != Kind::Punct {
                continue;
            }
            match self.at(i) {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// The next token at or after `i` that is not a directive.
    pub fn next_code(&self, mut i: usize) -> usize {
        while self.kind(i) == Some(Kind::Directive) {
            i += 1;
        }
        i
    }

    /// The previous token before `i` that is not a directive.
    pub fn prev_code(&self, i: usize) -> Option<usize> {
        (0..i).rev().find(|&j| self.tokens[j].kind != Kind::Directive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, String)> {
        let l = Lexed::new("t.c", text).unwrap();
        l.tokens.iter().map(|t| (t.kind, l.str(t).to_string())).collect()
    }

    #[test]
    fn tokens_skip_comments_and_keep_literals_whole() {
        let k = kinds("a->b /* x { */ + \"}\\\"\" // c(\n'\\'' 0x1fUL 1e+5 .5 x...y <<= ;");
        let words: Vec<&str> = k.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            words,
            vec!["a", "->", "b", "+", "\"}\\\"\"", "'\\''", "0x1fUL", "1e+5", ".5", "x", "...", "y", "<<=", ";"]
        );
        assert_eq!(k[4].0, Kind::Str);
        assert_eq!(k[5].0, Kind::Char);
        assert_eq!(k[6].0, Kind::Number);
    }

    #[test]
    fn a_directive_is_one_token_through_continuations_and_comments() {
        let l =
            Lexed::new("t.c", "#define X(a) \\\n\tdo { a; } while (0)\n#endif_not /* a\n b */ z\nint y;\n").unwrap();
        assert_eq!(l.tokens[0].kind, Kind::Directive);
        assert_eq!(l.at(0), "#define X(a) \\\n\tdo { a; } while (0)");
        assert_eq!(l.tokens[1].kind, Kind::Directive);
        assert_eq!(clean_directive(l.at(1)), "#endif_not z");
        assert_eq!((l.at(2), l.tokens[2].line), ("int", 5));
    }

    #[test]
    fn a_hash_inside_a_line_is_not_a_directive() {
        let k = kinds("x = a # b;\n  #  if A\n#endif\n");
        assert_eq!(k[3], (Kind::Punct, "#".to_string()));
        assert_eq!(k[6].0, Kind::Directive);
        assert_eq!(directive_name(&k[6].1), "if");
    }

    #[test]
    fn groups_record_each_branch() {
        let text = "#ifndef G\n#ifdef CONFIG_MMU\nint a;\n#else\nint b;\n#endif\nint c;\n#endif\nint d;\n";
        let l = Lexed::new("t.h", text).unwrap();
        let at = |word: &str| (0..l.tokens.len()).find(|&i| l.at(i) == word).unwrap();
        assert_eq!(l.groups_at(at("a")), vec![vec!["#ifndef G"], vec!["#ifdef CONFIG_MMU"]]);
        assert_eq!(l.groups_at(at("b")), vec![vec!["#ifndef G"], vec!["#ifdef CONFIG_MMU", "#else"]]);
        assert_eq!(l.groups_at(at("c")), vec![vec!["#ifndef G"]]);
        assert!(l.groups_at(at("d")).is_empty());
    }

    #[test]
    fn an_unclosed_group_names_its_line() {
        let err = Lexed::new("mm/util.c", "int a;\n#ifdef CONFIG_X\nint b;\n").unwrap_err();
        assert_eq!(err.to_string(), "mm/util.c:2: `#ifdef CONFIG_X` is never closed by #endif");
    }

    #[test]
    fn a_stray_else_or_endif_names_its_line() {
        let err = Lexed::new("mm/util.c", "int a;\n#endif\n").unwrap_err();
        assert_eq!(err.to_string(), "mm/util.c:2: #endif without a matching #if");
        let err = Lexed::new("mm/util.c", "#if A\n#else\n#elif B\n#endif\n").unwrap_err();
        assert_eq!(err.to_string(), "mm/util.c:3: #elif after #else");
    }

    #[test]
    fn closing_finds_the_matching_bracket() {
        let l = Lexed::new("t.c", "f(a, (b), c[1]) { g(); }").unwrap();
        assert_eq!(l.closing(1), Some(12));
        assert_eq!(l.at(l.closing(13).unwrap()), "}");
        assert_eq!(l.joined(0..13), "f(a, (b), c[1])");
    }
}
