// Links libember. EMBER_LIB_DIR names the directory holding libember.so (ctest passes the
// build tree's); without it the source tree's build/lib is used if present, else the system
// linker path (a `cmake --install` prefix). The directory is also put in the rpath, so test
// and example binaries find the same library at run time.
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=EMBER_LIB_DIR");
    let dir = match env::var_os("EMBER_LIB_DIR") {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
            let in_tree = manifest.join("..").join("..").join("build").join("lib");
            if in_tree.exists() {
                Some(in_tree)
            } else {
                None
            }
        }
    };
    if let Some(dir) = dir {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    println!("cargo:rustc-link-lib=dylib=ember");
}
