//! Extraction of named definitions from kernel C files, following the call
//! graph from the entry points down to a declared set of leaves.

use crate::c::{items, File, Item};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    #[error("{file} has no definition of `{name}`")]
    MissingDefinition { file: String, name: String },
    #[error("no declaration of `{name}` found in {files}")]
    MissingDeclaration { name: String, files: String },
    #[error("{0}")]
    Lex(#[from] crate::c::LexError),
}

/// Where to look for what.
pub struct Spec<'a> {
    /// Entry points, each with the file that must define it.
    pub entries: &'a [(&'a str, &'a str)],
    /// Entry points taken when present: they differ between releases.
    pub optional_entries: &'a [&'a str],
    /// Files whose definitions are always the real ones, even where the
    /// tools headers carry a stub of the same name.
    pub code: &'a [&'a File],
    /// Headers whose inline helpers are taken only where the tools headers
    /// lack them.
    pub helpers: &'a [&'a File],
    /// Names that are never extracted: our injection points.
    pub leaves: &'a BTreeSet<String>,
    /// Names the tools headers already define or declare.
    pub provided: &'a BTreeSet<String>,
}

/// One extracted definition, ready to be emitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    pub name: String,
    pub file: String,
    pub line: usize,
    pub end_line: usize,
    /// The header, its tokens joined.
    pub header: String,
    /// The return type, storage class and attributes before the name.
    pub prefix: Vec<String>,
    pub params: Vec<items::Param>,
    /// Whole source lines, header to closing brace.
    pub text: String,
    /// Where the body's `{` is in `text`.
    pub body_at: usize,
    /// Open conditional groups around it, outermost first.
    pub conditions: Vec<Vec<String>>,
    /// Set for a branch not taken with `CONFIG_MMU`, emitted as `nommu_<name>`.
    pub nommu: bool,
    /// Names the body refers to, and members it names.
    pub references: BTreeSet<String>,
    pub members: BTreeSet<String>,
}

impl Definition {
    fn new(file: &File, item: &Item) -> Self {
        let l = &file.lexed;
        let body = item.body_tokens.clone().expect("a definition");
        let text = file.item_text(item).to_string();
        Self {
            name: item.name.clone(),
            file: file.path().to_string(),
            line: item.line,
            end_line: item.end_line,
            header: item.header.clone(),
            prefix: item.prefix.clone(),
            params: item.params.clone(),
            body_at: l.tokens[body.start].start - item.lines.start,
            text,
            conditions: item.conditions.clone(),
            nommu: item.conditions.iter().any(|g| mmu_branch(g) == Some(false)),
            references: items::referenced(l, body.clone()),
            members: items::members(l, body),
        }
    }

    /// The name the definition has in the translation unit.
    pub fn emitted_name(&self) -> String {
        if self.nommu {
            format!("nommu_{}", self.name)
        } else {
            self.name.clone()
        }
    }

    /// The body, braces included.
    pub fn body(&self) -> &str {
        &self.text[self.body_at..]
    }
}

/// Whether the branch a group is in is the one compiled with `CONFIG_MMU`
/// (`Some(true)`), the other one (`Some(false)`), or the group is not
/// about `CONFIG_MMU` (`None`).
pub fn mmu_branch(group: &[String]) -> Option<bool> {
    let first = group[0].replace(' ', "");
    let positive = match first.as_str() {
        "#ifdefCONFIG_MMU" | "#ifIS_ENABLED(CONFIG_MMU)" | "#ifdefined(CONFIG_MMU)" | "#ifCONFIG_MMU" => true,
        "#ifndefCONFIG_MMU" | "#if!IS_ENABLED(CONFIG_MMU)" | "#if!defined(CONFIG_MMU)" => false,
        _ => return None,
    };
    match group.len() {
        1 => Some(positive),
        2 if group[1] == "#else" => Some(!positive),
        _ => None,
    }
}

/// The result of following the call graph.
#[derive(Debug, Clone, Default)]
pub struct Extract {
    /// In discovery order; callers before callees.
    pub definitions: Vec<Definition>,
    /// Leaves that the extracted code reaches.
    pub leaves_reached: BTreeSet<String>,
}

/// The definitions of a set of files, by name.
fn index<'a>(files: &[&'a File]) -> BTreeMap<&'a str, Vec<(&'a File, &'a Item)>> {
    let mut by_name: BTreeMap<&str, Vec<(&File, &Item)>> = BTreeMap::new();
    for f in files {
        for item in f.items.iter().filter(|i| i.is_definition()) {
            by_name.entry(item.name.as_str()).or_default().push((f, item));
        }
    }
    by_name
}

/// Follows the call graph from the entry points and returns the definitions
/// to compile.
pub fn extract(spec: &Spec) -> Result<Extract, ExtractError> {
    let code = index(spec.code);
    let helpers = index(spec.helpers);
    let mut out = Extract::default();
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = VecDeque::new();

    for (file, name) in spec.entries {
        if !code.get(name).is_some_and(|v| v.iter().any(|(f, _)| f.path() == *file)) {
            return Err(ExtractError::MissingDefinition { file: file.to_string(), name: name.to_string() });
        }
        queue.push_back(name.to_string());
    }
    queue.extend(spec.optional_entries.iter().filter(|n| code.contains_key(**n)).map(|n| n.to_string()));

    while let Some(name) = queue.pop_front() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if spec.leaves.contains(&name) {
            out.leaves_reached.insert(name);
            continue;
        }
        let defs = match code.get(name.as_str()) {
            Some(d) => d,
            None if spec.provided.contains(&name) => continue,
            None => match helpers.get(name.as_str()) {
                Some(d) => d,
                None => continue,
            },
        };
        for (file, item) in defs {
            let d = Definition::new(file, item);
            queue.extend(d.references.iter().filter(|n| !seen.contains(*n)).cloned());
            out.definitions.push(d);
        }
    }
    Ok(out)
}

/// Storage and inlining words, dropped as the kernel's own
/// `tools/testing/shared/shared.mk` drops `static` for the files it
/// compiles: the definitions become external functions, callable from Rust.
const STORAGE: &[&str] = &["static", "inline", "__always_inline", "extern"];

fn drop_storage_words(line: &str) -> String {
    line.split(' ').filter(|w| !STORAGE.contains(w)).collect::<Vec<_>>().join(" ")
}

/// Renames the function `name` in a header (the first `name` followed by `(`).
fn rename_function(header: &str, name: &str, new: &str) -> String {
    let b = header.as_bytes();
    let mut from = 0;
    while let Some(p) = header[from..].find(name) {
        let at = from + p;
        let end = at + name.len();
        let bounded = (at == 0 || !(b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_'))
            && header[end..].trim_start().starts_with('(');
        if bounded {
            return format!("{}{}{}", &header[..at], new, &header[end..]);
        }
        from = end;
    }
    header.to_string()
}

/// A definition's text as written in the tree, with the storage words
/// dropped from its header lines only, so the body keeps its kernel lines.
fn external_text(def: &Definition) -> String {
    let (head, body) = def.text.split_at(def.body_at);
    let mut head: String = head.split_inclusive('\n').map(drop_storage_words).collect();
    if def.nommu {
        head = rename_function(&head, &def.name, &def.emitted_name());
    }
    format!("{head}{body}")
}

fn open_groups(groups: &[Vec<String>], drop_mmu: bool) -> (String, String) {
    let mut open = String::new();
    let mut close = String::new();
    for g in groups.iter().filter(|g| !(drop_mmu && mmu_branch(g).is_some())) {
        for d in g {
            open.push_str(d);
            open.push('\n');
        }
        close.push_str("#endif\n");
    }
    (open, close)
}

impl Extract {
    /// Prototypes for every extracted definition, each inside its own
    /// conditional groups, so definitions can come in any order.
    pub fn prototypes(&self) -> String {
        let mut out = String::new();
        for d in &self.definitions {
            let (open, close) = open_groups(&d.conditions, d.nommu);
            let header = rename_function(&drop_storage_words(&d.header), &d.name, &d.emitted_name());
            out.push_str(&format!("{open}{header};\n{close}"));
        }
        out
    }

    /// The definitions, each preceded by a `#line` directive that points at
    /// its place in the kernel tree.
    pub fn definitions_text(&self) -> String {
        let mut out = String::new();
        for d in &self.definitions {
            let (open, close) = open_groups(&d.conditions, d.nommu);
            out.push_str(&format!("{open}#line {} \"{}\"\n{}{close}", d.line, d.file, external_text(d)));
        }
        out
    }

    /// Names the translation unit defines.
    pub fn names(&self) -> BTreeSet<String> {
        self.definitions.iter().map(Definition::emitted_name).collect()
    }

    /// Members the extracted code names.
    pub fn members(&self) -> BTreeSet<String> {
        self.definitions.iter().flat_map(|d| d.members.iter().cloned()).collect()
    }

    /// The definition the tree compiles with `CONFIG_MMU` of `name`.
    pub fn mmu(&self, name: &str) -> Option<&Definition> {
        self.definitions.iter().find(|d| d.name == name && !d.nommu)
    }

    /// Where each definition came from, for the manifest.
    pub fn places(&self) -> Vec<Extracted> {
        self.definitions
            .iter()
            .map(|d| Extracted { name: d.emitted_name(), file: d.file.clone(), line: d.line, end_line: d.end_line })
            .collect()
    }
}

/// Where one extracted definition came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Extracted {
    pub name: String,
    pub file: String,
    pub line: usize,
    /// The line of the closing brace.
    pub end_line: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    const UTIL: &str = "\
static int finish(int err)
{
\tif (err)
\t\tdo_munmap(err);
\treturn helper_in_header(err) + stubbed(err);
}

#ifdef CONFIG_MMU
int entry(int x)
{
\treturn finish(x) + from_memory(x);
}
EXPORT_SYMBOL(entry);
#else
int entry(int x)
{
\treturn finish(0);
}
#endif
";
    const MEMORY: &str = "\
int from_memory(int x)
{
\treturn x;
}

int never_called(void)
{
\treturn 1;
}

int stubbed(int x)
{
\treturn x;
}
";
    const MM_H: &str = "\
static inline int helper_in_header(int x)
{
\treturn x + 1;
}

static inline int provided_by_tools(int x)
{
\treturn x;
}
";

    fn run(entries: &[(&str, &str)]) -> Result<Extract, ExtractError> {
        let util = File::new("mm/util.c", UTIL).unwrap();
        let memory = File::new("mm/memory.c", MEMORY).unwrap();
        let mm_h = File::new("include/linux/mm.h", MM_H).unwrap();
        let leaves = BTreeSet::from(["do_munmap".to_string()]);
        // `stubbed` is in the tools headers too: the real one is still taken.
        let provided = BTreeSet::from(["provided_by_tools".to_string(), "stubbed".to_string()]);
        extract(&Spec {
            entries,
            optional_entries: &["not_in_this_release"],
            code: &[&util, &memory],
            helpers: &[&mm_h],
            leaves: &leaves,
            provided: &provided,
        })
    }

    #[test]
    fn follows_the_call_graph_to_the_leaves() {
        let x = run(&[("mm/util.c", "entry")]).unwrap();
        let names: Vec<_> = x.definitions.iter().map(|d| d.emitted_name()).collect();
        assert_eq!(names, vec!["entry", "nommu_entry", "finish", "from_memory", "helper_in_header", "stubbed"]);
        assert_eq!(x.leaves_reached, BTreeSet::from(["do_munmap".to_string()]));
    }

    #[test]
    fn a_missing_entry_names_the_file_and_the_function() {
        let err = run(&[("mm/util.c", "mmap_action_prepare")]).unwrap_err();
        assert_eq!(err.to_string(), "mm/util.c has no definition of `mmap_action_prepare`");
    }

    #[test]
    fn definitions_carry_line_directives_and_lose_static() {
        let x = run(&[("mm/util.c", "entry")]).unwrap();
        let text = x.definitions_text();
        assert!(text.contains("#line 1 \"mm/util.c\"\nint finish(int err)\n{"));
        // A helper from the header points at that header.
        assert!(text.contains("#line 1 \"include/linux/mm.h\"\nint helper_in_header"), "{text}");
        assert!(!text.contains("EXPORT_SYMBOL"));
    }

    #[test]
    fn keeps_the_mmu_group_and_renames_the_nommu_branch() {
        let x = run(&[("mm/util.c", "entry")]).unwrap();
        let text = x.definitions_text();
        assert!(text.contains("#ifdef CONFIG_MMU\n#line 9 \"mm/util.c\"\nint entry(int x)\n{\n\treturn finish(x) + from_memory(x);\n}\n#endif\n"));
        assert!(text.contains("#line 15 \"mm/util.c\"\nint nommu_entry(int x)\n"));
        let protos = x.prototypes();
        assert!(protos.contains("#ifdef CONFIG_MMU\nint entry(int x);\n#endif\n"));
        assert!(protos.contains("int nommu_entry(int x);\n"));
        assert!(protos.contains("int helper_in_header(int x);\n"));
    }

    #[test]
    fn the_mmu_branch_is_read_from_the_group() {
        let g = |d: &[&str]| d.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(mmu_branch(&g(&["#ifdef CONFIG_MMU"])), Some(true));
        assert_eq!(mmu_branch(&g(&["#ifdef CONFIG_MMU", "#else"])), Some(false));
        assert_eq!(mmu_branch(&g(&["#ifndef CONFIG_MMU"])), Some(false));
        assert_eq!(mmu_branch(&g(&["#if !defined(CONFIG_MMU)", "#else"])), Some(true));
        assert_eq!(mmu_branch(&g(&["#ifdef CONFIG_X"])), None);
    }

    #[test]
    fn a_stray_ifdef_before_an_entry_is_an_error_naming_its_line() {
        let broken = format!("#ifdef CONFIG_STRAY\n{UTIL}");
        let err = File::new("mm/util.c", &broken).unwrap_err();
        assert_eq!(err.to_string(), "mm/util.c:1: `#ifdef CONFIG_STRAY` is never closed by #endif");
    }
}
