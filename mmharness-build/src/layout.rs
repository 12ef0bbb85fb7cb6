//! Struct layouts as bindgen computed them for a tree (from the layout
//! assertions it writes into the bindings), and the differences between two
//! trees' layouts.

use serde::Serialize;
use std::collections::BTreeMap;

/// Sizes and field offsets of the structs of one tree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Layouts {
    pub structs: BTreeMap<String, StructLayout>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StructLayout {
    pub size: Option<u64>,
    /// Fields in order of offset.
    pub fields: Vec<(String, u64)>,
}

/// The structs `diff` and `review` compare.
pub const WATCHED: &[&str] = &["mmap_action", "vm_area_desc", "vm_area_struct", "vm_operations_struct", "mm_struct"];

/// The number before the first `usize]` in `text`: `... - 36usize]`.
fn number_before_usize(text: &str) -> Option<u64> {
    let end = text.find("usize]")?;
    let start = text[..end].rfind(|c: char| !c.is_ascii_digit())? + 1;
    text[start..end].parse().ok()
}

/// Reads bindgen's `["Size of X"]` and `["Offset of field: X::f"]`
/// assertions wherever they are, on one line or wrapped over several: the
/// formatting depends on rustfmt and its configuration, the layout does not.
pub fn parse(bindings: &str) -> Layouts {
    let mut l = Layouts::default();
    for (at, _) in bindings.match_indices("[\"") {
        let rest = &bindings[at + 2..];
        if let Some(rest) = rest.strip_prefix("Size of ") {
            if let (Some(name), Some(n)) = (rest.split('"').next(), number_before_usize(rest)) {
                l.structs.entry(name.to_string()).or_default().size = Some(n);
            }
        } else if let Some(rest) = rest.strip_prefix("Offset of field: ") {
            let path = rest.split('"').next().unwrap_or_default();
            if let (Some((name, field)), Some(n)) = (path.split_once("::"), number_before_usize(rest)) {
                l.structs.entry(name.to_string()).or_default().fields.push((field.to_string(), n));
            }
        }
    }
    for s in l.structs.values_mut() {
        s.fields.sort_by_key(|(_, o)| *o);
    }
    l
}

/// The layout changes of the watched structs from `a` to `b`, in words.
pub fn differences(a: &Layouts, b: &Layouts) -> Vec<String> {
    let mut out = Vec::new();
    for name in WATCHED {
        let (x, y) = (a.structs.get(*name), b.structs.get(*name));
        let (Some(x), Some(y)) = (x, y) else {
            if x.is_some() != y.is_some() {
                out.push(format!("struct {name}: only in {}", if x.is_some() { "the first" } else { "the second" }));
            }
            continue;
        };
        if x.size != y.size {
            out.push(format!("struct {name}: size {} -> {}", show(x.size), show(y.size)));
        }
        let xf: BTreeMap<&str, u64> = x.fields.iter().map(|(f, o)| (f.as_str(), *o)).collect();
        let yf: BTreeMap<&str, u64> = y.fields.iter().map(|(f, o)| (f.as_str(), *o)).collect();
        for (f, o) in &xf {
            match yf.get(f) {
                None => out.push(format!("struct {name}: field {f} removed (was at offset {o})")),
                Some(p) if p != o => out.push(format!("struct {name}: field {f} moved from offset {o} to {p}")),
                _ => {}
            }
        }
        for (f, o) in yf.iter().filter(|(f, _)| !xf.contains_key(*f)) {
            out.push(format!("struct {name}: field {f} added at offset {o}"));
        }
    }
    out
}

fn show(n: Option<u64>) -> String {
    n.map_or("?".into(), |n| n.to_string())
}

/// What a build's layouts come from, besides the tools headers' text: the
/// kernel's own definitions of the watched structs, and the flags of the
/// tools Makefile (`-DNUM_VMA_FLAG_BITS=...`).
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub kernel: BTreeMap<String, crate::c::decl::Definition>,
    pub flags: Vec<String>,
}

impl Sources {
    /// The watched structs' definitions in the kernel headers of `plan`, and its flags.
    pub fn of(plan: &crate::plan::Plan) -> Self {
        let headers = ["include/linux/mm_types.h", "include/linux/mm.h"];
        let kernel = WATCHED
            .iter()
            .filter_map(|name| {
                let def = headers.iter().find_map(|h| plan.file(h)?.aggregate(crate::c::decl::Kind::Struct, name))?;
                Some((name.to_string(), def))
            })
            .collect();
        Self { kernel, flags: plan.flags.iter().filter(|f| f.starts_with("-D")).cloned().collect() }
    }
}

/// The layout changes from `a` to `b`, each with where it comes from: the
/// kernel header's struct, or, when that is unchanged, the tools headers'
/// copy and the tools Makefile's flags.
pub fn attributed(a: (&Layouts, &Sources), b: (&Layouts, &Sources)) -> Vec<String> {
    let (fa, fb): (Vec<&String>, Vec<&String>) = (
        a.1.flags.iter().filter(|f| !b.1.flags.contains(f)).collect(),
        b.1.flags.iter().filter(|f| !a.1.flags.contains(f)).collect(),
    );
    let flags = |fa: &[&String], fb: &[&String]| {
        let join = |v: &[&String]| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
        format!("the tools Makefile's flags {} -> {}", join(fa), join(fb))
    };
    differences(a.0, b.0)
        .into_iter()
        .map(|line| {
            let name = line.trim_start_matches("struct ").split(':').next().unwrap_or("").to_string();
            let origin = match (a.1.kernel.get(&name), b.1.kernel.get(&name)) {
                (Some(x), Some(y)) if x != y => "the kernel's struct changed".to_string(),
                (Some(_), Some(_)) if !fa.is_empty() || !fb.is_empty() => {
                    format!("the kernel's struct is unchanged: from the tools headers and {}", flags(&fa, &fb))
                }
                (Some(_), Some(_)) => "the kernel's struct is unchanged: from the tools headers' copy".to_string(),
                _ => "the kernel header does not define it on both sides".to_string(),
            };
            format!("{line} ({origin})")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"
    ["Size of mmap_action"][::std::mem::size_of::<mmap_action>() - 48usize];
    ["Offset of field: mmap_action::type_"][::std::mem::offset_of!(mmap_action, type_) - 32usize];
    ["Offset of field: mmap_action::error_hook"][::std::mem::offset_of!(mmap_action, error_hook) - 40usize];
"#;
    const B: &str = r#"
    ["Size of mmap_action"][::std::mem::size_of::<mmap_action>() - 40usize];
    ["Offset of field: mmap_action::type_"][::std::mem::offset_of!(mmap_action, type_) - 32usize];
    ["Offset of field: mmap_action::error_override"][::std::mem::offset_of!(mmap_action, error_override) - 36usize];
"#;

    #[test]
    fn reads_sizes_and_offsets() {
        let l = parse(A);
        let s = &l.structs["mmap_action"];
        assert_eq!(s.size, Some(48));
        assert_eq!(s.fields, vec![("type_".to_string(), 32), ("error_hook".to_string(), 40)]);
    }

    /// rustfmt wraps an assertion longer than its `max_width` (100 unless a
    /// rustfmt.toml of the working directory says otherwise), and bindgen
    /// leaves it on one line without rustfmt: the layout is the same.
    #[test]
    fn an_assertion_wrapped_over_lines_reads_the_same() {
        let wrapped = r#"
    ["Offset of field: mmap_action::error_override"]
        [::std::mem::offset_of!(mmap_action, error_override) - 36usize];
    ["Size of mmap_action"][::std::mem::size_of::<mmap_action>() - 40usize];"#;
        let one_line = B.split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(parse(&one_line).structs["mmap_action"].size, Some(40));
        let s = &parse(wrapped).structs["mmap_action"];
        assert_eq!((s.size, s.fields.clone()), (Some(40), vec![("error_override".to_string(), 36)]));
    }

    #[test]
    fn lists_size_field_and_offset_changes() {
        assert_eq!(
            differences(&parse(A), &parse(B)),
            vec![
                "struct mmap_action: size 48 -> 40",
                "struct mmap_action: field error_hook removed (was at offset 40)",
                "struct mmap_action: field error_override added at offset 36",
            ]
        );
        assert!(differences(&parse(A), &parse(A)).is_empty());
    }

    #[test]
    fn a_change_is_attributed_to_the_kernel_struct_or_to_the_tools_flags() {
        let kernel = |text: &str| {
            let f = crate::c::File::new("include/linux/mm_types.h", text).unwrap();
            let def = f.aggregate(crate::c::decl::Kind::Struct, "mmap_action").unwrap();
            BTreeMap::from([("mmap_action".to_string(), def)])
        };
        let old =
            Sources { kernel: kernel("struct mmap_action {\n\tint type;\n};\n"), flags: vec!["-DBITS=128".into()] };
        let new_flags = Sources { flags: vec!["-DBITS=64".into()], ..old.clone() };
        let new_struct = Sources { kernel: kernel("struct mmap_action {\n\tlong type;\n};\n"), ..old.clone() };
        let (a, b) = (parse(A), parse(B));
        assert_eq!(
            attributed((&a, &old), (&b, &new_flags))[0],
            "struct mmap_action: size 48 -> 40 (the kernel's struct is unchanged: from the tools headers and \
             the tools Makefile's flags -DBITS=128 -> -DBITS=64)"
        );
        assert_eq!(
            attributed((&a, &old), (&b, &new_struct))[0],
            "struct mmap_action: size 48 -> 40 (the kernel's struct changed)"
        );
    }
}
