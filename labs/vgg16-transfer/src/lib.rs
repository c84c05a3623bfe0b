//! # Lab 4: a pretrained ImageNet network, and transfer learning
//!
//! Training a large network from scratch takes a million labelled images and days of GPU
//! time. Someone has done it already: the weights of networks trained on ImageNet (1.3
//! million photos, 1,000 classes) are published, and they recognise cats, cups and rockets in
//! any photo out of the box (part 1). Their early layers detect edges, textures and parts
//! that are useful for *other* image tasks too, so a new task with few labelled images can
//! start from them instead of from random weights (part 2, transfer learning).
//!
//! Read it in this order: [`vgg`] (VGG-16 as on the slide) → [`efficientnet`] (a small
//! modern network whose real weights we can use on a laptop) → [`weights`] (PyTorch and Keras
//! files into burn) → [`classify`] (part 1) → [`transfer`] (part 2). `main.rs` only parses
//! flags.
//!
//! ```text
//! cargo run -p lab-vgg16-transfer                               # the bundled photos, EfficientNet-Lite0
//! cargo run -p lab-vgg16-transfer -- classify my-cat.jpg --model vgg16
//! cargo run -p lab-vgg16-transfer -- transfer --train head       # a new head on a frozen base
//! cargo run -p lab-vgg16-transfer -- compare                     # accuracy vs labelled images
//! ```

pub mod classify;
pub mod efficientnet;
pub mod network;
pub mod transfer;
pub mod vgg;
pub mod weights;
