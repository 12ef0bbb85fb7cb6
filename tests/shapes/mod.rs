//! Trees of the older API shapes, derived at test time from the fetched 7.2
//! tree by semantic rewrites on the lexer's tokens: no older tree can be
//! fetched here, and the repository holds no kernel code. Each rewrite
//! changes one point of the API as NOTES.md section 2 and 6 record it, and
//! each fixture is named after the generation it imitates.

use mmharness_build::c::File;
use mmharness_build::overlay::Overlay;
use std::ops::Range;
use std::path::Path;

/// The kernel's and the tools' copies of the mm types. The tools' copies of
/// the compat helpers keep calling the tools' own stubs, so only their
/// types change.
const TYPE_FILES: &[&str] = &["include/linux/mm_types.h", "tools/testing/vma/include/dup.h"];
/// The files that define or declare the entry points.
const CODE_FILES: &[&str] = &["mm/util.c", "include/linux/mm.h"];

/// A derived tree: an overlay of the 7.2 tree with the rewritten files.
pub struct Shape {
    pub name: &'static str,
    pub overlay: Overlay,
}

/// Byte replacements on one text, applied from the end.
fn apply(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut out = text.to_string();
    for (r, s) in edits {
        out.replace_range(r, &s);
    }
    out
}

fn lexed(path: &str, text: &str) -> File {
    File::new(path, text).unwrap_or_else(|e| panic!("lexing {path}: {e}"))
}

/// The byte span of tokens `r`.
fn span(f: &File, r: Range<usize>) -> Range<usize> {
    f.lexed.tokens[r.start].start..f.lexed.tokens[r.end - 1].end
}

/// `struct NAME {`'s braces, as token indices.
fn struct_body(f: &File, name: &str) -> Option<Range<usize>> {
    let l = &f.lexed;
    let open = (0..l.tokens.len().saturating_sub(2))
        .find(|&i| l.is(i, "struct") && l.is(i + 1, name) && l.is(i + 2, "{"))?
        + 2;
    Some(open..l.closing(open)?)
}

/// The tokens of the member declaration that declares `member` in `body`.
fn member_decl(f: &File, body: &Range<usize>, member: &str) -> Option<Range<usize>> {
    let l = &f.lexed;
    let name = (body.start + 1..body.end).find(|&i| l.is(i, member) && l.is(l.next_code(i + 1), ";"))?;
    let start = (body.start..name).rev().find(|&i| l.is(i, ";") || l.is(i, "{"))? + 1;
    Some(l.next_code(start)..name + 1)
}

/// Makes `vm_area_desc`'s `mm` a `const struct mm_struct *const` and its
/// `file` a `struct file *const`, as they were before 7.1.
pub fn const_desc_members(path: &str, text: &str) -> String {
    let f = lexed(path, text);
    let Some(body) = struct_body(&f, "vm_area_desc") else { return text.to_string() };
    let mut edits = Vec::new();
    for (member, pointee_const) in [("mm", true), ("file", false)] {
        let d = member_decl(&f, &body, member).unwrap_or_else(|| panic!("{path}: no vm_area_desc.{member}"));
        let name = &f.lexed.tokens[d.end - 1];
        edits.push((name.start..name.start, "const ".to_string()));
        if pointee_const {
            let first = f.lexed.tokens[d.start].start;
            edits.push((first..first, "const ".to_string()));
        }
    }
    apply(text, edits)
}

/// Assignments `desc->mm = X;` and `desc->file = X;` (7.2's
/// `compat_set_desc_from_vma`) become writes through a cast, as a
/// designated initialiser of the old descriptor would have set them.
pub fn write_const_desc_members(path: &str, text: &str) -> String {
    let f = lexed(path, text);
    let l = &f.lexed;
    let mut edits = Vec::new();
    for i in 0..l.tokens.len().saturating_sub(3) {
        for (member, ty) in [("mm", "struct mm_struct *"), ("file", "struct file *")] {
            if l.is(i, "desc") && l.is(i + 1, "->") && l.is(i + 2, member) && l.is(i + 3, "=") {
                edits.push((span(&f, i..i + 3), format!("*({ty}*)&desc->{member}")));
            }
        }
    }
    apply(text, edits)
}

/// Calls `NAME(args)` outside NAME's own definitions, with their argument
/// token ranges.
fn calls(f: &File, name: &str) -> Vec<(Range<usize>, Vec<Range<usize>>)> {
    let l = &f.lexed;
    let own: Vec<Range<usize>> = f
        .items
        .iter()
        .filter(|i| i.name == name)
        .map(|i| i.header_tokens.start..i.body_tokens.clone().map_or(i.header_tokens.end, |b| b.end))
        .collect();
    (0..l.tokens.len().saturating_sub(1))
        .filter(|&i| l.is(i, name) && l.is(i + 1, "(") && !own.iter().any(|r| r.contains(&i)))
        .filter_map(|i| {
            let close = l.closing(i + 1)?;
            Some((i..close + 1, mmharness_build::c::items::split_commas(l, i + 2..close)))
        })
        .collect()
}

/// `int mmap_action_prepare(desc)` becomes 6.19's and 7.0's
/// `void mmap_action_prepare(action, desc)`, which cannot fail: its returns
/// drop their values, and callers get 0.
pub fn void_prepare(path: &str, text: &str) -> String {
    const NAME: &str = "mmap_action_prepare";
    let f = lexed(path, text);
    let l = &f.lexed;
    let mut edits = Vec::new();
    for item in f.items.iter().filter(|i| i.name == NAME) {
        let header = format!("void {NAME}(struct mmap_action *action, struct vm_area_desc *desc)");
        let name = item.header_tokens.clone().find(|&i| l.is(i, NAME)).unwrap();
        let ret = l.prev_code(name).filter(|&i| l.is(i, "int")).expect("int mmap_action_prepare");
        let close = l.closing(name + 1).expect("a parameter list");
        edits.push((span(&f, ret..close + 1), header));
        let Some(body) = item.body_tokens.clone() else { continue };
        let mut i = body.start;
        while i < body.end {
            if l.is(i, "struct")
                && l.is(i + 1, "mmap_action")
                && l.is(i + 2, "*")
                && l.is(i + 3, "action")
                && l.is(i + 4, "=")
            {
                // The parameter now: the local that pointed at desc->action goes.
                let end = (i..body.end).find(|&j| l.is(j, ";")).unwrap();
                edits.push((span(&f, i..end + 1), String::new()));
                i = end;
            } else if l.is(i, "return") {
                let end = (i..body.end).find(|&j| l.is(j, ";")).unwrap();
                let value = l.joined(i + 1..end);
                let stmt = if value.is_empty() || value == "0" {
                    "return;".to_string()
                } else {
                    format!("{{ (void)({value}); return; }}")
                };
                edits.push((span(&f, i..end + 1), stmt));
                i = end;
            }
            i += 1;
        }
    }
    for (call, args) in calls(&f, NAME) {
        let desc = l.joined(args[0].clone());
        edits.push((span(&f, call), format!("({NAME}(&({desc})->action, {desc}), 0)")));
    }
    apply(text, edits)
}

/// `mmap_action_complete(vma, action, is_compat)` becomes 6.19's and 7.0's
/// `mmap_action_complete(action, vma)`: no caller says it is the compat
/// layer, so every error unmaps (the path CVE-2026-53373 fixed).
pub fn action_vma_complete(path: &str, text: &str) -> String {
    const NAME: &str = "mmap_action_complete";
    let f = lexed(path, text);
    let l = &f.lexed;
    let mut edits = Vec::new();
    for item in f.items.iter().filter(|i| i.name == NAME) {
        let open = (item.header_tokens.clone()).find(|&i| l.is(i, NAME)).unwrap() + 1;
        let close = l.closing(open).unwrap();
        edits.push((span(&f, open..close + 1), "(struct mmap_action *action, struct vm_area_struct *vma)".to_string()));
        for i in item.body_tokens.clone().into_iter().flatten() {
            if l.is(i, "is_compat") {
                edits.push((span(&f, i..i + 1), "false".to_string()));
            }
        }
    }
    for (call, args) in calls(&f, NAME) {
        let (vma, action) = (l.joined(args[0].clone()), l.joined(args[1].clone()));
        edits.push((span(&f, call), format!("{NAME}({action}, {vma})")));
    }
    apply(text, edits)
}

/// The statement calling `maybe_rmap_unlock_action()` leaves
/// `mmap_action_finish`: before 7.1 mm/vma.c's `call_action_complete`
/// released the rmap lock.
pub fn rmap_unlock_in_vma_c(path: &str, text: &str) -> String {
    let f = lexed(path, text);
    let l = &f.lexed;
    let mut edits = Vec::new();
    for item in f.definitions("mmap_action_finish") {
        for i in item.body_tokens.clone().into_iter().flatten() {
            if l.is(i, "maybe_rmap_unlock_action") && l.is(i + 1, "(") {
                let end = l.next_code(l.closing(i + 1).unwrap() + 1);
                assert!(l.is(end, ";"), "{path}: maybe_rmap_unlock_action() as a statement");
                edits.push((span(&f, i..end + 1), String::new()));
            }
        }
    }
    apply(text, edits)
}

/// Reads `path` of `tree`, runs `rewrites` over it in order.
fn rewritten(tree: &Path, path: &str, rewrites: &[fn(&str, &str) -> String]) -> String {
    let text = std::fs::read_to_string(tree.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    rewrites.iter().fold(text, |t, r| r(path, &t))
}

/// The 7.0 shape: const descriptor members, a `void` prepare, the
/// two-argument `mmap_action_complete(action, vma)`, and the rmap lock
/// released outside mm/util.c.
pub fn v7_0(tree: &Path) -> Shape {
    let mut files: Vec<(&str, String)> = Vec::new();
    for path in TYPE_FILES {
        files.push((path, rewritten(tree, path, &[const_desc_members, write_const_desc_members])));
    }
    for path in CODE_FILES {
        files.push((
            path,
            rewritten(tree, path, &[write_const_desc_members, void_prepare, action_vma_complete, rmap_unlock_in_vma_c]),
        ));
    }
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    Shape { name: "7.0", overlay: Overlay::new(tree, &refs).expect("an overlay of the 7.2 tree") }
}
