//! Where the real code stops and our injection points begin: the leaves of
//! the extracted call graph (functions), and the hooks the code calls
//! through function pointers (`vm_ops->mapped`, the hook era's
//! `success_hook` and `error_hook`). Each shim takes the signature the tree
//! declares, so one list works across releases whose leaves changed shape,
//! and no function is ever called through a pointer of another type.

use crate::c::decl::{self, Definition};
use crate::c::{File, Item};
use crate::extract::ExtractError;

/// Leaves with a declaration the shim follows, searched for in the code
/// files first, then in the headers, in the order of the inputs table.
pub const LEAVES: &[&str] = &[
    "do_remap_pfn_range",
    "insert_pages",
    "do_munmap",
    "i_mmap_unlock_write",
    "mmap_read_trylock",
    // /dev/mem's checks, so a scenario can make each one refuse.
    "valid_mmap_phys_addr_range",
    "private_mapping_ok",
    "range_is_allowed",
    "phys_mem_access_prot_allowed",
    "phys_mem_access_prot",
];

/// Leaves that are macros: no declaration to follow, `include/arch.h`
/// shims them by hand.
pub const MACRO_LEAVES: &[&str] = &["pgprot_decrypted"];

/// Every leaf name, for the extractor to stop at.
pub fn names() -> std::collections::BTreeSet<String> {
    LEAVES.iter().chain(MACRO_LEAVES).map(|s| s.to_string()).collect()
}

/// A function-pointer member the code calls, and the shim that stands for it.
pub struct Hook {
    pub aggregate: &'static str,
    pub member: &'static str,
    /// The function `driver.c` stores in the member.
    pub shim: &'static str,
}

pub const HOOKS: &[Hook] = &[
    Hook { aggregate: "vm_operations_struct", member: "mapped", shim: "mmh_mapped" },
    Hook { aggregate: "mmap_action", member: "success_hook", shim: "mmh_success_hook" },
    Hook { aggregate: "mmap_action", member: "error_hook", shim: "mmh_error_hook" },
];

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub ret: String,
    pub name: String,
    /// Parameter types, without names.
    pub params: Vec<String>,
}

/// Words before a name that are not part of its return type.
const NOT_RETURN_TYPE: &[&str] =
    &["static", "inline", "__always_inline", "extern", "__must_check", "noinline", "__weak", "__init"];

impl Signature {
    /// The signature of an item as declared.
    pub fn of(item: &Item) -> Self {
        let ret: Vec<String> = item.prefix.iter().filter(|w| !NOT_RETURN_TYPE.contains(&w.as_str())).cloned().collect();
        Self {
            ret: decl::join(&ret),
            name: item.name.clone(),
            params: item.params.iter().map(|p| p.ty.clone()).collect(),
        }
    }

    /// The signature of a function-pointer member `RET (*)(P1, P2)`, for a
    /// function called `name`.
    pub fn of_pointer(ty: &str, name: &str) -> Option<Self> {
        let (ret, rest) = ty.split_once("(*)")?;
        let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
        let params = if inner.trim().is_empty() || inner.trim() == "void" {
            Vec::new()
        } else {
            split_top_commas(inner).into_iter().map(|p| p.trim().to_string()).collect()
        };
        Some(Self { ret: ret.trim().to_string(), name: name.to_string(), params })
    }

    /// A definition that forwards every argument, in order, to the macro
    /// `{forward}` (defined in `include/leaves.h`), which picks the
    /// arguments it records: a leaf that gains a parameter still builds.
    pub fn shim(&self, storage: &str, forward: &str) -> String {
        let params: Vec<String> = self.params.iter().enumerate().map(|(i, t)| format!("{t} a{i}")).collect();
        let args: Vec<String> = (0..self.params.len()).map(|i| format!("a{i}")).collect();
        let params = if params.is_empty() { "void".to_string() } else { params.join(", ") };
        let unused: String = args.iter().map(|a| format!("\t(void){a};\n")).collect();
        let call = format!("{forward}({})", args.join(", "));
        let body = if self.ret == "void" { format!("{call};") } else { format!("return {call};") };
        format!("{storage}{} {}({})\n{{\n{unused}\t{}\n}}\n", self.ret, self.name, params, body)
    }
}

fn split_top_commas(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// A macro that records where the extracted code calls `name`: defined after
/// the shims and before the extract, so `__FILE__` and `__LINE__` are the
/// kernel's (through `#line`), and undefined after it.
pub fn site_macro(name: &str) -> String {
    format!("#define {name}(...) (mmh_site(__FILE__, __LINE__), {name}(__VA_ARGS__))\n")
}

/// Finds the signature of the leaf `name` in `files`, in order.
pub fn signature(name: &str, files: &[&File]) -> Result<Signature, ExtractError> {
    files.iter().find_map(|f| f.declaration(name)).map(Signature::of).ok_or_else(|| ExtractError::MissingDeclaration {
        name: name.to_string(),
        files: files.iter().map(|f| f.path()).collect::<Vec<_>>().join(", "),
    })
}

/// The shim of each hook the tree's types declare, with the member's own
/// prototype; a hook the tree lacks has none (the driver is told by the
/// capabilities).
pub fn hook_shims(aggregates: &[Option<Definition>]) -> String {
    let mut out = String::new();
    for h in HOOKS {
        let field = aggregates
            .iter()
            .flatten()
            .filter(|d| d.name == h.aggregate)
            .flat_map(|d| d.fields.iter())
            .find(|f| f.path == h.member);
        if let Some(sig) = field.and_then(|f| Signature::of_pointer(&f.ty, h.shim)) {
            out.push_str(&sig.shim("static ", &format!("MMH_HOOK_{}", h.member)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(header: &str, name: &str) -> Signature {
        let f = File::new("t.h", &format!("{header};\n")).unwrap();
        signature(name, &[&f]).unwrap()
    }

    #[test]
    fn parses_unnamed_and_named_parameters() {
        let s =
            sig("extern int do_munmap(struct mm_struct *, unsigned long, size_t, struct list_head *uf)", "do_munmap");
        assert_eq!(s.ret, "int");
        assert_eq!(s.params, vec!["struct mm_struct *", "unsigned long", "size_t", "struct list_head *"]);
    }

    #[test]
    fn drops_storage_and_attributes_from_the_return_type() {
        let s = sig("static inline bool __must_check mmap_read_trylock(struct mm_struct *mm)", "mmap_read_trylock");
        assert_eq!((s.ret.as_str(), s.params.as_slice()), ("bool", &["struct mm_struct *".to_string()][..]));
        let s = sig(
            "int __weak phys_mem_access_prot_allowed(struct file *file, unsigned long pfn)",
            "phys_mem_access_prot_allowed",
        );
        assert_eq!(s.ret, "int");
    }

    #[test]
    fn the_shim_forwards_every_argument_in_order() {
        let s = sig("static int insert_pages(struct vm_area_struct *vma, unsigned long addr, struct page **pages, unsigned long *num, pgprot_t prot)", "insert_pages");
        assert_eq!(
            s.shim("", "MMH_LEAF_insert_pages"),
            "int insert_pages(struct vm_area_struct * a0, unsigned long a1, struct page ** a2, unsigned long * a3, pgprot_t a4)\n{\n\t(void)a0;\n\t(void)a1;\n\t(void)a2;\n\t(void)a3;\n\t(void)a4;\n\treturn MMH_LEAF_insert_pages(a0, a1, a2, a3, a4);\n}\n"
        );
        let v = sig("static inline void i_mmap_unlock_write(struct address_space *mapping)", "i_mmap_unlock_write");
        assert!(v.shim("", "MMH_LEAF_i_mmap_unlock_write").contains("\n\tMMH_LEAF_i_mmap_unlock_write(a0);\n"));
    }

    #[test]
    fn a_missing_leaf_names_where_it_was_looked_for() {
        let f = File::new("include/linux/mm.h", "int other(void);\n").unwrap();
        let err = signature("do_munmap", &[&f]).unwrap_err();
        assert_eq!(err.to_string(), "no declaration of `do_munmap` found in include/linux/mm.h");
    }

    #[test]
    fn a_hook_shim_has_the_members_own_prototype() {
        let f = File::new(
            "dup.h",
            "struct vm_operations_struct {\n\tint (*mapped)(unsigned long start, unsigned long end, pgoff_t pgoff,\n\t\t      const struct file *file, void **vm_private_data);\n};\n",
        )
        .unwrap();
        let ops = f.aggregate(decl::Kind::Struct, "vm_operations_struct");
        assert_eq!(
            hook_shims(&[ops]),
            "static int mmh_mapped(unsigned long a0, unsigned long a1, pgoff_t a2, const struct file * a3, void ** a4)\n{\n\t(void)a0;\n\t(void)a1;\n\t(void)a2;\n\t(void)a3;\n\t(void)a4;\n\treturn MMH_HOOK_mapped(a0, a1, a2, a3, a4);\n}\n"
        );
    }
}
