//! Tells the tests whether the course material (`../shared` beside the checkout: the full
//! datasets) is here, so that the tests that need it are reported as ignored, with the
//! reason, where it is absent, instead of passing without checking anything.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(course_material)");
    println!("cargo::rerun-if-changed=build.rs");
    let material =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/PROVENANCE.md");
    if material.exists() {
        println!("cargo::rustc-cfg=course_material");
        // Rerun (and so ignore those tests again) if the material goes away.
        println!("cargo::rerun-if-changed={}", material.display());
    }
}
