//! Extraction of named definitions from kernel C files, following the call
//! graph from the entry points down to a declared set of leaves.

use crate::scan::{self, Item};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A kernel source file, by its path in the tree (used in `#line`).
#[derive(Debug, Clone)]
pub struct Source {
    pub path: String,
    pub text: String,
}

impl Source {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        Self { path: path.into(), text: text.into() }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExtractError {
    #[error("{file} has no definition of `{name}`")]
    MissingDefinition { file: String, name: String },
    #[error("no declaration of `{name}` found in {files}")]
    MissingDeclaration { name: String, files: String },
}

/// Where to look for what.
pub struct Spec<'a> {
    /// Entry points, each with the file that must define it.
    pub entries: &'a [(&'a str, &'a str)],
    /// Entry points taken when present: they differ between releases.
    pub optional_entries: &'a [&'a str],
    /// Files whose definitions are always the real ones, even where the
    /// tools headers carry a stub of the same name.
    pub code: &'a [Source],
    /// Header files whose inline helpers are taken only where the tools
    /// headers lack them.
    pub fallback: &'a [Source],
    /// Names that are never extracted: our injection points.
    pub leaves: &'a BTreeSet<String>,
    /// Names the tools headers already define or declare.
    pub provided: &'a BTreeSet<String>,
}

/// One extracted definition, ready to be emitted.
#[derive(Debug, Clone)]
pub struct Definition {
    pub name: String,
    pub file: String,
    pub item: Item,
    /// Set for the `#else` branch of `CONFIG_MMU`, emitted as `nommu_<name>`.
    pub nommu: bool,
}

impl Definition {
    /// The name the definition has in the translation unit.
    pub fn emitted_name(&self) -> String {
        if self.nommu {
            format!("nommu_{}", self.name)
        } else {
            self.name.clone()
        }
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

fn is_mmu_group(group: &[String]) -> bool {
    let first = group[0].replace(' ', "");
    first == "#ifdefCONFIG_MMU" || first == "#ifIS_ENABLED(CONFIG_MMU)" || first == "#ifdefined(CONFIG_MMU)"
}

fn in_nommu_branch(item: &Item) -> bool {
    item.conditions
        .iter()
        .any(|g| is_mmu_group(g) && g.last().is_some_and(|d| d.trim_start_matches('#').trim() == "else"))
}

/// The definitions of a set of files, by name.
struct Index<'a> {
    by_name: BTreeMap<String, Vec<(&'a Source, Item)>>,
}

impl<'a> Index<'a> {
    fn new(sources: &'a [Source]) -> Self {
        let mut by_name: BTreeMap<String, Vec<(&Source, Item)>> = BTreeMap::new();
        for s in sources {
            for item in scan::items(&s.text).into_iter().filter(|i| i.body.is_some()) {
                by_name.entry(item.name.clone()).or_default().push((s, item));
            }
        }
        Self { by_name }
    }

    fn get(&self, name: &str) -> Option<&Vec<(&'a Source, Item)>> {
        self.by_name.get(name)
    }
}

/// Follows the call graph from the entry points and returns the definitions
/// to compile.
pub fn extract(spec: &Spec) -> Result<Extract, ExtractError> {
    let code = Index::new(spec.code);
    let fallback = Index::new(spec.fallback);
    let mut out = Extract::default();
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = VecDeque::new();

    for (file, name) in spec.entries {
        let found = code.get(name).is_some_and(|v| v.iter().any(|(s, _)| s.path == *file));
        if !found {
            return Err(ExtractError::MissingDefinition { file: file.to_string(), name: name.to_string() });
        }
        queue.push_back(name.to_string());
    }
    queue.extend(spec.optional_entries.iter().filter(|n| code.get(n).is_some()).map(|n| n.to_string()));

    while let Some(name) = queue.pop_front() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if spec.leaves.contains(&name) {
            out.leaves_reached.insert(name);
            continue;
        }
        let defs = match code.get(&name) {
            Some(d) => d,
            None if spec.provided.contains(&name) => continue,
            None => match fallback.get(&name) {
                Some(d) => d,
                None => continue,
            },
        };
        for (source, item) in defs {
            let body = item.body.as_deref().unwrap_or_default();
            queue.extend(scan::called_identifiers(body).into_iter().filter(|n| !seen.contains(n)));
            out.definitions.push(Definition {
                name: name.clone(),
                file: source.path.clone(),
                item: item.clone(),
                nommu: in_nommu_branch(item),
            });
        }
    }
    Ok(out)
}

/// Removes the storage and inlining keywords from a header: the extracted
/// definitions become ordinary external functions, callable from Rust.
pub fn external_header(header: &str, emitted_name: &str, name: &str) -> String {
    let joined = drop_storage_words(header);
    if emitted_name == name {
        joined
    } else {
        rename_function(&joined, name, emitted_name)
    }
}

/// Drops `static`, `extern` and the inlining keywords, as the kernel's own
/// `tools/testing/shared/shared.mk` does for the files it compiles.
fn drop_storage_words(line: &str) -> String {
    line.split(' ')
        .filter(|w| !matches!(*w, "static" | "inline" | "__always_inline" | "extern"))
        .collect::<Vec<_>>()
        .join(" ")
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

/// The text of a definition's first lines, as written in the tree, with the
/// same keywords removed as in [`external_header`]. Only the header lines are
/// rewritten, so the body keeps its kernel line numbers.
fn external_text(def: &Definition) -> String {
    let text = &def.item.text;
    let body_at = def.item.body.as_ref().and_then(|b| text.find(b.as_str())).unwrap_or(text.len());
    let (head, body) = text.split_at(body_at);
    let mut head_lines: Vec<String> = Vec::new();
    for line in head.split_inclusive('\n') {
        head_lines.push(drop_storage_words(line));
    }
    let mut head = head_lines.concat();
    if def.nommu {
        head = rename_function(&head, &def.name, &def.emitted_name());
    }
    format!("{head}{body}")
}

fn open_groups(groups: &[Vec<String>], drop_mmu: bool) -> (String, String) {
    let mut open = String::new();
    let mut close = String::new();
    for g in groups.iter().filter(|g| !(drop_mmu && is_mmu_group(g))) {
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
    /// preprocessor groups, so definitions can come in any order.
    pub fn prototypes(&self) -> String {
        let mut out = String::new();
        for d in &self.definitions {
            let (open, close) = open_groups(&d.item.conditions, d.nommu);
            let header = external_header(&d.item.header, &d.emitted_name(), &d.name);
            out.push_str(&format!("{open}{header};\n{close}"));
        }
        out
    }

    /// The definitions, each preceded by a `#line` directive that points at
    /// its place in the kernel tree.
    pub fn definitions_text(&self) -> String {
        let mut out = String::new();
        for d in &self.definitions {
            let (open, close) = open_groups(&d.item.conditions, d.nommu);
            out.push_str(&format!("{open}#line {} \"{}\"\n{}{close}", d.item.line, d.file, external_text(d)));
        }
        out
    }

    /// Names the translation unit defines.
    pub fn names(&self) -> BTreeSet<String> {
        self.definitions.iter().map(Definition::emitted_name).collect()
    }
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
        let code = [Source::new("mm/util.c", UTIL), Source::new("mm/memory.c", MEMORY)];
        let fallback = [Source::new("include/linux/mm.h", MM_H)];
        let leaves = BTreeSet::from(["do_munmap".to_string()]);
        // `stubbed` is in the tools headers too: the real one is still taken.
        let provided = BTreeSet::from(["provided_by_tools".to_string(), "stubbed".to_string()]);
        extract(&Spec {
            entries,
            optional_entries: &["not_in_this_release"],
            code: &code,
            fallback: &fallback,
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
        // A helper from the fallback header points at that header.
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
}
