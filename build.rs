//! Turns the linked tree's capabilities (from mmharness-sys) into cfg flags,
//! so a test the tree cannot express is ignored with its reason, never passed.

fn main() {
    let list = |var: &str| std::env::var(var).unwrap_or_default();
    for name in list("DEP_MMHARNESS_KERNEL_ALL_CAPS").split(',').filter(|n| !n.is_empty()) {
        println!("cargo::rustc-check-cfg=cfg(mmh_cap_{name})");
    }
    for name in list("DEP_MMHARNESS_KERNEL_CAPS").split(',').filter(|n| !n.is_empty()) {
        println!("cargo::rustc-cfg=mmh_cap_{name}");
    }
}
