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

/// mm/vma.c's caller of `mmap_action_complete` releases the rmap lock
/// after it, as `call_action_complete` did before 7.1 (the statement that
/// `rmap_unlock_in_vma_c` takes out of mm/util.c).
pub fn rmap_unlock_after_complete(path: &str, text: &str) -> String {
    let f = lexed(path, text);
    let l = &f.lexed;
    let mut edits = Vec::new();
    for item in f.items.iter().filter(|d| d.is_definition()) {
        for i in item.body_tokens.clone().into_iter().flatten() {
            if l.is(i, "mmap_action_complete") && l.is(i + 1, "(") {
                let end = l.next_code(l.closing(i + 1).unwrap() + 1);
                assert!(l.is(end, ";"), "{path}: mmap_action_complete() ends a statement");
                let at = span(&f, end..end + 1).end;
                let unlock = "\n\t\tif (desc.action.hide_from_rmap_until_complete)\n\t\t\t\
                              i_mmap_unlock_write(vma->vm_file->f_mapping);";
                edits.push((at..at, unlock.to_string()));
            }
        }
    }
    assert!(!edits.is_empty(), "{path}: a call of mmap_action_complete()");
    apply(text, edits)
}

/// `vm_operations_struct` loses its `mapped` member, and mm/util.c
/// `call_vma_mapped()` and its call in `mmap_action_finish`: before 7.1 a
/// driver learnt of success only through the action's `success_hook`.
pub fn no_vm_ops_mapped(path: &str, text: &str) -> String {
    let f = lexed(path, text);
    let l = &f.lexed;
    let mut edits = Vec::new();
    if let Some(body) = struct_body(&f, "vm_operations_struct") {
        // `int (*mapped)(...);`: from after the previous member to its `;`.
        if let Some(name) =
            (body.start + 2..body.end).find(|&i| l.is(i - 2, "(") && l.is(i - 1, "*") && l.is(i, "mapped"))
        {
            let start = (body.start..name).rev().find(|&i| l.is(i, ";") || l.is(i, "{")).unwrap() + 1;
            let end = statement_end(&f, name);
            edits.push((span(&f, l.next_code(start)..end + 1), String::new()));
        }
    }
    for item in f.definitions("call_vma_mapped") {
        edits.push((item.lines.clone(), String::new()));
    }
    for i in find_in(&f, "mmap_action_finish", &["call_vma_mapped"]) {
        let stmt = (0..i).rev().find(|&j| l.is(j, "if")).expect("if (!err) err = call_vma_mapped(vma);");
        edits.push((span(&f, stmt..statement_end(&f, i) + 1), String::new()));
    }
    apply(text, edits)
}

/// The action types 7.1 added, `MMAP_SIMPLE_IO_REMAP` and
/// `MMAP_MAP_KERNEL_PAGES`, go: their enumerators, their members of
/// `struct mmap_action`'s union, their `case`s (a label alone where it
/// shares its statements with another), and the inline helpers of
/// include/linux/mm.h that set them.
pub fn action_types_before_7_1(path: &str, text: &str) -> String {
    const TYPES: [&str; 2] = ["MMAP_SIMPLE_IO_REMAP", "MMAP_MAP_KERNEL_PAGES"];
    const MEMBERS: [&str; 2] = ["simple_ioremap", "map_kernel"];
    const HELPERS: [&str; 3] =
        ["mmap_action_simple_ioremap", "mmap_action_map_kernel_pages", "mmap_action_map_kernel_pages_full"];
    let f = lexed(path, text);
    let l = &f.lexed;
    let n = l.tokens.len();
    let mut edits = Vec::new();
    for i in 0..n.saturating_sub(2) {
        let name = l.at(i);
        if TYPES.contains(&name) && l.is(i + 1, ",") {
            edits.push((span(&f, i..i + 2), String::new()));
        }
        if l.is(i, "struct") && l.is(i + 1, "{") {
            let close = l.closing(i + 1).unwrap();
            if MEMBERS.iter().any(|m| l.is(close + 1, m)) && l.is(close + 2, ";") {
                edits.push((span(&f, i..close + 3), String::new()));
            }
        }
        if l.is(i, "case") && TYPES.contains(&l.at(i + 1)) && l.is(i + 2, ":") {
            let shares = l.is(i + 3, "case") || (i >= 3 && l.is(i - 3, "case") && l.is(i - 1, ":"));
            let mut end = i + 3;
            if !shares {
                // Its statements, up to the next label or the switch's end.
                while !(l.is(end, "case") || l.is(end, "default") || l.is(end, "}")) {
                    end = if l.is(end, "{") || l.is(end, "(") { l.closing(end).unwrap() + 1 } else { end + 1 };
                }
            }
            edits.push((span(&f, i..end), String::new()));
        }
    }
    for item in f.items.iter().filter(|i| i.is_definition() && HELPERS.contains(&i.name.as_str())) {
        edits.push((item.lines.clone(), String::new()));
    }
    apply(text, edits)
}

/// As before 7.1, an I/O remap stays one through prepare, which only
/// rewrites its pfn, and complete performs it with the decrypted pgprot:
/// `io_remap_pfn_range_prepare` no longer sets `MMAP_REMAP_PFN` or the
/// pgprot, and complete's "should have been delegated" case for
/// `MMAP_IO_REMAP_PFN` remaps (where the label has statements of its own:
/// the nommu one shares its WARN with the other types).
pub fn io_remap_in_complete(path: &str, text: &str) -> String {
    let f = lexed(path, text);
    let l = &f.lexed;
    let mut edits = Vec::new();
    for pat in [
        &["action", "->", "type", "=", "MMAP_REMAP_PFN"][..],
        &["action", "->", "remap", ".", "pgprot", "="],
        &["const", "pgprot_t", "orig_pgprot", "="],
    ] {
        for i in find_in(&f, "io_remap_pfn_range_prepare", pat) {
            edits.push((span(&f, i..statement_end(&f, i) + 1), String::new()));
        }
    }
    for i in find_in(&f, "mmap_action_complete", &["case", "MMAP_IO_REMAP_PFN", ":"]) {
        if l.is(i + 3, "case") || l.is(i - 1, ":") {
            continue;
        }
        let brk = (i..l.tokens.len()).find(|&j| l.is(j, "break")).expect("the case's break");
        let io = "case MMAP_IO_REMAP_PFN:\n\t\taction->remap.pgprot = pgprot_decrypted(action->remap.pgprot);\n\t\t\
                  err = remap_pfn_range_complete(vma, action);\n\t\tbreak;";
        edits.push((span(&f, i..brk + 2), io.to_string()));
    }
    apply(text, edits)
}

/// `vm_area_desc`'s flags are `vm_flags_t vm_flags`, as before 7.1, which
/// is what a driver sets. The 7.2 helpers the shape keeps (`vma_desc_test()`
/// and the rest, which 7.0 did not have) read the same word as a
/// `vma_flags_t` through a member of an anonymous union beside it,
/// `vma_flags_view`, so they need no rewriting of their own; the tree has no
/// `vma_flags` member.
pub fn desc_vm_flags(path: &str, text: &str) -> String {
    let f = lexed(path, text);
    let l = &f.lexed;
    let mut edits = Vec::new();
    if let Some(body) = struct_body(&f, "vm_area_desc") {
        let d = member_decl(&f, &body, "vma_flags").unwrap_or_else(|| panic!("{path}: no vm_area_desc.vma_flags"));
        let union = "union {\n\t\tvm_flags_t vm_flags;\n\t\tvma_flags_t vma_flags_view;\n\t};";
        edits.push((span(&f, d.start..d.end + 1), union.to_string()));
    }
    for i in 0..l.tokens.len().saturating_sub(2) {
        if l.is(i, "desc") && l.is(i + 1, "->") && l.is(i + 2, "vma_flags") {
            edits.push((span(&f, i + 2..i + 3), "vma_flags_view".to_string()));
        }
    }
    apply(text, edits)
}

/// The first `;` at or after token `i`.
fn statement_end(f: &File, i: usize) -> usize {
    (i..f.lexed.tokens.len()).find(|&j| f.lexed.is(j, ";")).expect("a statement's end")
}

/// Token indices in the bodies of `function`'s definitions where `pat`
/// (one token each) starts.
fn find_in(f: &File, function: &str, pat: &[&str]) -> Vec<usize> {
    let l = &f.lexed;
    f.definitions(function)
        .flat_map(|item| item.body_tokens.clone().into_iter().flatten())
        .filter(|&i| pat.iter().enumerate().all(|(k, p)| l.is(i + k, p)))
        .collect()
}

/// `struct mmap_action`'s `int error_override` becomes the hooks of 6.19
/// to 7.1, `success_hook` and `error_hook`.
pub fn hook_members(path: &str, text: &str) -> String {
    let f = lexed(path, text);
    let Some(body) = struct_body(&f, "mmap_action") else { return text.to_string() };
    let d = member_decl(&f, &body, "error_override").unwrap_or_else(|| panic!("{path}: no error_override"));
    let hooks = "int (*success_hook)(const struct vm_area_struct *vma);\n\tint (*error_hook)(int err);";
    apply(text, vec![(span(&f, d.start..d.end + 1), hooks.to_string())])
}

/// `mmap_action_finish` uses the hooks as 7.1 does: a `success_hook` error
/// takes the error path and unmaps.
pub fn hooks_in_finish(path: &str, text: &str) -> String {
    hooks(path, text, "if (!err && action->success_hook)\n\t\terr = action->success_hook(vma);\n\t")
}

/// As before 7.1: a `success_hook`'s error is returned as it is, the VMA
/// left mapped.
pub fn hooks_in_finish_returning(path: &str, text: &str) -> String {
    hooks(path, text, "if (!err && action->success_hook)\n\t\treturn action->success_hook(vma);\n\t")
}

/// `error_hook` filters the error, which it must not clear; `success_hook`
/// as `success` says; `check_mmap_action` has no override left to check.
fn hooks(path: &str, text: &str, success: &str) -> String {
    let f = lexed(path, text);
    let l = &f.lexed;
    let mut edits = Vec::new();
    for i in find_in(&f, "mmap_action_finish", &["return", "action", "->", "error_override"]) {
        let hook = "if (action->error_hook) {\n\t\terr = action->error_hook(err);\n\t\tVM_WARN_ON_ONCE(!err);\n\t}\n\treturn err;";
        edits.push((span(&f, i..statement_end(&f, i) + 1), hook.to_string()));
    }
    for i in find_in(&f, "mmap_action_finish", &["call_vma_mapped"]) {
        let stmt = (0..i).rev().find(|&j| l.is(j, "if")).expect("if (!err) err = call_vma_mapped(vma);");
        let at = l.tokens[stmt].start;
        edits.push((at..at, success.to_string()));
    }
    for i in find_in(&f, "check_mmap_action", &["action", "->", "error_override"]) {
        edits.push((span(&f, i..i + 3), "0".to_string()));
    }
    apply(text, edits)
}

/// /dev/mem's `desc->action.error_override = X;` becomes an error hook
/// that returns X, defined before `mmap_mem_prepare`.
pub fn devmem_error_hook(path: &str, text: &str) -> String {
    let f = lexed(path, text);
    let l = &f.lexed;
    let mut edits = Vec::new();
    for i in find_in(&f, "mmap_mem_prepare", &["desc", "->", "action", ".", "error_override", "="]) {
        let end = statement_end(&f, i);
        let value = l.joined(i + 6..end);
        edits.push((span(&f, i..end + 1), "desc->action.error_hook = mmap_mem_error_hook;".to_string()));
        let at = f.definitions("mmap_mem_prepare").next().unwrap().lines.start;
        edits.push((at..at, format!("static int mmap_mem_error_hook(int err)\n{{\n\treturn {value};\n}}\n\n")));
    }
    apply(text, edits)
}

/// Reads `path` of `tree`, runs `rewrites` over it in order.
fn rewritten(tree: &Path, path: &str, rewrites: &[fn(&str, &str) -> String]) -> String {
    let text = std::fs::read_to_string(tree.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
    rewrites.iter().fold(text, |t, r| r(path, &t))
}

/// The 7.0 shape: const descriptor members, the hooks (a failing
/// `success_hook` not unmapping), no `vm_ops->mapped`, a `void` prepare,
/// the two-argument `mmap_action_complete(action, vma)`, the rmap lock
/// released outside mm/util.c, no simple I/O remap or kernel pages
/// actions, I/O remaps performed by complete, and the descriptor's flags
/// in `vm_flags`.
pub fn v7_0(tree: &Path) -> Shape {
    overlay("7.0", tree, &files_7_0(tree))
}

type Rewrite = fn(&str, &str) -> String;

fn files_7_0(tree: &Path) -> Vec<(&'static str, String)> {
    let types: &[Rewrite] = &[
        const_desc_members,
        write_const_desc_members,
        hook_members,
        no_vm_ops_mapped,
        action_types_before_7_1,
        desc_vm_flags,
    ];
    let util: &[Rewrite] = &[
        write_const_desc_members,
        void_prepare,
        action_vma_complete,
        rmap_unlock_in_vma_c,
        hooks_in_finish_returning,
        no_vm_ops_mapped,
        action_types_before_7_1,
        io_remap_in_complete,
        desc_vm_flags,
    ];
    let mm_h: &[Rewrite] =
        &[void_prepare, action_vma_complete, no_vm_ops_mapped, action_types_before_7_1, desc_vm_flags];
    vec![
        (TYPE_FILES[0], rewritten(tree, TYPE_FILES[0], types)),
        (TYPE_FILES[1], rewritten(tree, TYPE_FILES[1], types)),
        ("mm/util.c", rewritten(tree, "mm/util.c", util)),
        ("mm/internal.h", rewritten(tree, "mm/internal.h", &[io_remap_in_complete])),
        ("include/linux/mm.h", rewritten(tree, "include/linux/mm.h", mm_h)),
        ("mm/vma.h", rewritten(tree, "mm/vma.h", &[desc_vm_flags])),
        ("drivers/char/mem.c", rewritten(tree, "drivers/char/mem.c", &[devmem_error_hook, desc_vm_flags])),
        ("mm/vma.c", rewritten(tree, "mm/vma.c", &[rmap_unlock_after_complete])),
    ]
}

fn overlay(name: &'static str, tree: &Path, files: &[(&'static str, String)]) -> Shape {
    let refs: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    Shape { name, overlay: Overlay::new(tree, &refs).expect("an overlay of the 7.2 tree") }
}

/// The 7.1 shape: 7.2's prototypes and members, with the hooks where 7.2
/// has `error_override`.
pub fn v7_1(tree: &Path) -> Shape {
    overlay("7.1", tree, &files_7_1(tree, &[hook_members], &[hooks_in_finish]))
}

fn files_7_1(tree: &Path, types: &[Rewrite], util: &[Rewrite]) -> Vec<(&'static str, String)> {
    vec![
        (TYPE_FILES[0], rewritten(tree, TYPE_FILES[0], types)),
        (TYPE_FILES[1], rewritten(tree, TYPE_FILES[1], types)),
        ("mm/util.c", rewritten(tree, "mm/util.c", &[&[write_const_desc_members as Rewrite], util].concat())),
        ("drivers/char/mem.c", rewritten(tree, "drivers/char/mem.c", &[devmem_error_hook])),
    ]
}

/// The 7.0.y stable shape: 7.1's prototypes backported onto 7.0, whose
/// descriptor members are still const, whose hooks are still there and
/// whose `vm_operations_struct` has no `mapped` (a 7.1 feature, not a fix).
pub fn v7_0_stable(tree: &Path) -> Shape {
    let types: &[Rewrite] = &[const_desc_members, write_const_desc_members, hook_members, no_vm_ops_mapped];
    let mut files = files_7_1(tree, types, &[hooks_in_finish, no_vm_ops_mapped]);
    files.push(("include/linux/mm.h", rewritten(tree, "include/linux/mm.h", &[no_vm_ops_mapped])));
    overlay("7.0.y", tree, &files)
}

/// The 6.19 shape: 7.0's, with `tools/testing/vma` a single
/// `vma_internal.h`, its `include/*.h` folded in where it included them.
pub fn v6_19(tree: &Path) -> Shape {
    const INTERNAL: &str = "tools/testing/vma/vma_internal.h";
    let mut files = files_7_0(tree);
    let tools_types = files.iter().find(|(p, _)| *p == TYPE_FILES[1]).unwrap().1.clone();
    let internal = std::fs::read_to_string(tree.join(INTERNAL)).unwrap();
    let f = lexed(INTERNAL, &internal);
    let mut edits = Vec::new();
    for t in f.lexed.tokens.iter().filter(|t| t.kind == mmharness_build::c::lex::Kind::Directive) {
        let d = &internal[t.start..t.end];
        let Some(inc) = d.strip_prefix("#include \"include/").and_then(|r| r.strip_suffix('"')) else { continue };
        let path = format!("tools/testing/vma/include/{inc}");
        let text = if path == TYPE_FILES[1] {
            tools_types.clone()
        } else {
            std::fs::read_to_string(tree.join(&path)).unwrap()
        };
        edits.push((t.start..t.end, text));
    }
    assert_eq!(edits.len(), 3, "{INTERNAL} includes stubs.h, dup.h and custom.h");
    files.retain(|(p, _)| *p != TYPE_FILES[1]);
    files.push((INTERNAL, apply(&internal, edits)));
    let shape = overlay("6.19", tree, &files);
    // Links into the 7.2 tree, or a directory of them: only the overlay's own entries go.
    let include = shape.overlay.path().join("tools/testing/vma/include");
    if include.symlink_metadata().unwrap().file_type().is_symlink() {
        std::fs::remove_file(&include).unwrap();
    } else {
        std::fs::remove_dir_all(&include).unwrap();
    }
    shape
}
