//! The leaves of the extracted call graph: where the real code stops and our
//! injection points begin. Each leaf's shim takes the signature the tree
//! declares, so one list works across releases whose leaves changed shape.

use crate::extract::{ExtractError, Source};
use crate::scan;

/// A leaf and the files (in the tree) where its declaration lives.
pub struct Leaf {
    pub name: &'static str,
    pub declared_in: &'static [&'static str],
}

/// Leaves with a declaration the shim follows. `pgprot_decrypted` is a leaf
/// too, but a macro: `include/arch.h` shims it by hand.
pub const LEAVES: &[Leaf] = &[
    Leaf { name: "do_remap_pfn_range", declared_in: &["mm/memory.c"] },
    Leaf { name: "insert_pages", declared_in: &["mm/memory.c"] },
    Leaf { name: "do_munmap", declared_in: &["include/linux/mm.h"] },
    Leaf { name: "i_mmap_unlock_write", declared_in: &["include/linux/fs.h"] },
    Leaf { name: "mmap_read_trylock", declared_in: &["include/linux/mmap_lock.h"] },
    // /dev/mem's checks, so a scenario can make each one refuse.
    Leaf { name: "valid_mmap_phys_addr_range", declared_in: &["drivers/char/mem.c"] },
    Leaf { name: "private_mapping_ok", declared_in: &["drivers/char/mem.c"] },
    Leaf { name: "range_is_allowed", declared_in: &["include/linux/io.h"] },
    Leaf { name: "phys_mem_access_prot_allowed", declared_in: &["include/linux/pgtable.h"] },
    Leaf { name: "phys_mem_access_prot", declared_in: &["drivers/char/mem.c"] },
];

/// Files the leaves are declared in, beyond the extracted code's own.
pub const DECLARATION_FILES: &[&str] = &[
    "include/linux/mm.h",
    "include/linux/fs.h",
    "include/linux/mmap_lock.h",
    "include/linux/io.h",
    "include/linux/pgtable.h",
];

pub const MACRO_LEAVES: &[&str] = &["pgprot_decrypted"];

/// Every leaf name, for the extractor to stop at.
pub fn names() -> std::collections::BTreeSet<String> {
    LEAVES.iter().map(|l| l.name.to_string()).chain(MACRO_LEAVES.iter().map(|s| s.to_string())).collect()
}

/// A parsed function signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub ret: String,
    pub name: String,
    /// Parameter types, without names.
    pub params: Vec<String>,
}

const NOT_A_NAME: &[&str] = &[
    "int", "long", "short", "char", "unsigned", "signed", "float", "double", "void", "bool", "_Bool", "const",
    "volatile",
];
const DROPPED: &[&str] = &["static", "inline", "__always_inline", "extern", "__must_check", "noinline"];

/// Parses a header like `static inline bool __must_check f(struct mm_struct *mm)`.
pub fn parse_signature(header: &str, name: &str) -> Option<Signature> {
    let at = header.find(&format!("{name}("))?;
    let ret = header[..at].split_whitespace().filter(|w| !DROPPED.contains(w)).collect::<Vec<_>>().join(" ");
    let inner = header[at + name.len() + 1..].rsplit_once(')')?.0.trim();
    let params =
        if inner.is_empty() || inner == "void" { Vec::new() } else { inner.split(',').map(param_type).collect() };
    Some(Signature { ret, name: name.to_string(), params })
}

/// The type of a parameter declaration, without its name if it has one.
fn param_type(param: &str) -> String {
    let p = param.trim();
    let split = p.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    let (ty, last) = p.split_at(split);
    let before = ty.trim_end();
    let tag = before.ends_with("struct") || before.ends_with("union") || before.ends_with("enum");
    let named = !before.is_empty() && !last.is_empty() && !NOT_A_NAME.contains(&last) && !tag;
    if named {
        before.to_string()
    } else {
        p.to_string()
    }
}

/// A macro that records where the extracted code calls `name`: defined after
/// the shims and before the extract, so `__FILE__` and `__LINE__` are the
/// kernel's (through `#line`), and undefined after it.
pub fn site_macro(name: &str) -> String {
    format!("#define {name}(...) (mmh_site(__FILE__, __LINE__), {name}(__VA_ARGS__))\n")
}

impl Signature {
    /// A definition that forwards every argument, in order, to
    /// `MMH_LEAF_<name>` (defined in `include/leaves.h`).
    pub fn shim(&self) -> String {
        let params: Vec<String> = self.params.iter().enumerate().map(|(i, t)| format!("{t} a{i}")).collect();
        let args: Vec<String> = (0..self.params.len()).map(|i| format!("a{i}")).collect();
        let params = if params.is_empty() { "void".to_string() } else { params.join(", ") };
        // Every argument is passed on; the macro picks the ones it records.
        let unused: String = args.iter().map(|a| format!("\t(void){a};\n")).collect();
        let call = format!("MMH_LEAF_{}({})", self.name, args.join(", "));
        let body = if self.ret == "void" { format!("{call};") } else { format!("return {call};") };
        format!("{} {}({})\n{{\n{unused}\t{}\n}}\n", self.ret, self.name, params, body)
    }
}

/// Finds the signature of `leaf` in the files it is declared in.
pub fn signature(leaf: &Leaf, files: &[Source]) -> Result<Signature, ExtractError> {
    files
        .iter()
        .filter(|f| leaf.declared_in.contains(&f.path.as_str()))
        .flat_map(|f| scan::items(&f.text))
        .filter(|i| i.name == leaf.name)
        .find_map(|i| parse_signature(&i.header, leaf.name))
        .ok_or_else(|| ExtractError::MissingDeclaration {
            name: leaf.name.to_string(),
            files: leaf.declared_in.join(", "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_unnamed_and_named_parameters() {
        let s = parse_signature(
            "extern int do_munmap(struct mm_struct *, unsigned long, size_t, struct list_head *uf)",
            "do_munmap",
        )
        .unwrap();
        assert_eq!(s.ret, "int");
        assert_eq!(s.params, vec!["struct mm_struct *", "unsigned long", "size_t", "struct list_head *"]);
    }

    #[test]
    fn drops_storage_and_attributes_from_the_return_type() {
        let s = parse_signature(
            "static inline bool __must_check mmap_read_trylock(struct mm_struct *mm)",
            "mmap_read_trylock",
        )
        .unwrap();
        assert_eq!(s.ret, "bool");
        assert_eq!(s.params, vec!["struct mm_struct *"]);
    }

    #[test]
    fn the_shim_forwards_every_argument_in_order() {
        let s = parse_signature("static int insert_pages(struct vm_area_struct *vma, unsigned long addr, struct page **pages, unsigned long *num, pgprot_t prot)", "insert_pages").unwrap();
        assert_eq!(
            s.shim(),
            "int insert_pages(struct vm_area_struct * a0, unsigned long a1, struct page ** a2, unsigned long * a3, pgprot_t a4)\n{\n\t(void)a0;\n\t(void)a1;\n\t(void)a2;\n\t(void)a3;\n\t(void)a4;\n\treturn MMH_LEAF_insert_pages(a0, a1, a2, a3, a4);\n}\n"
        );
        let v = parse_signature(
            "static inline void i_mmap_unlock_write(struct address_space *mapping)",
            "i_mmap_unlock_write",
        )
        .unwrap();
        assert!(v.shim().contains("\n\tMMH_LEAF_i_mmap_unlock_write(a0);\n"));
    }

    #[test]
    fn a_missing_leaf_names_where_it_was_looked_for() {
        let err = signature(&LEAVES[2], &[Source::new("include/linux/mm.h", "int other(void);\n")]).unwrap_err();
        assert_eq!(err.to_string(), "no declaration of `do_munmap` found in include/linux/mm.h");
    }
}
