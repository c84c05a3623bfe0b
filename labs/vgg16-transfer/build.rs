//! Tells the tests whether the course material's pretrained weights and photos (`../shared`
//! beside the checkout) are here, so that the tests that need them are reported as ignored,
//! with the reason, where they are absent, instead of passing without checking anything.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(course_model)");
    println!("cargo::rerun-if-changed=build.rs");
    let material = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let weights = material.join("models/efficientnet-lite0-57934424.pth");
    let photos = material.join("datasets/imagenet/photos/chelsea.jpg");
    // Watched whether or not they exist, so that the cfg follows them as they come and go.
    for path in [&weights, &photos] {
        println!("cargo::rerun-if-changed={}", path.display());
    }
    if weights.exists() && photos.exists() {
        println!("cargo::rustc-cfg=course_model");
    }
}
