//! Tells the tests whether the course material's pretrained weights
//! (`../shared/models/efficientnet-lite0-57934424.pth` beside the checkout) are here, so that
//! the tests that need them are reported as ignored, with the reason, where they are absent,
//! instead of passing without checking anything.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(course_model)");
    println!("cargo::rerun-if-changed=build.rs");
    let weights = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/models/efficientnet-lite0-57934424.pth");
    if weights.exists() {
        println!("cargo::rustc-cfg=course_model");
        // Rerun (and so ignore those tests again) if the weights go away.
        println!("cargo::rerun-if-changed={}", weights.display());
    }
}
