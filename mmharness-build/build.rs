//! Binds `include/scenario.h`, the encoding that every tree's runner and
//! driver share. It names no kernel type, so it needs no kernel tree: the
//! command line can drive any tree's runner without one at build time.
//! Writes only to `OUT_DIR`.

fn main() {
    println!("cargo::rerun-if-changed=include/scenario.h");
    if clang_sys::load().is_err() && !clang_sys::is_loaded() {
        eprintln!("error: libclang is missing, bindgen needs it: install it with `apt-get install libclang-dev`");
        std::process::exit(1);
    }
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    bindgen::Builder::default()
        .header("include/scenario.h")
        .allowlist_type("mmh_.*")
        .allowlist_var("MMH_.*")
        .blocklist_function(".*")
        .derive_default(true)
        .generate()
        .unwrap_or_else(|e| {
            eprintln!("error: bindgen failed on include/scenario.h: {e}");
            std::process::exit(1);
        })
        .write_to_file(out.join("abi.rs"))
        .expect("writing OUT_DIR/abi.rs");
}
