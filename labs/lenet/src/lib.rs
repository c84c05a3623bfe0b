//! # Lab 1: LeNet-5 on MNIST
//!
//! The first convolutional network of the course (합성곱 신경망, convolutional neural
//! network), as Yann LeCun drew it in 1998: two convolution + pooling stages that learn local
//! features, then three dense layers that classify them.
//!
//! Read it in this order: [`data`] (how digits become tensors) → [`model`] (the network,
//! layer by layer) → [`training`] (train, evaluate, plot, save). `main.rs` only parses flags.
//!
//! ```text
//! cargo run -p lab-lenet              # bundled sample, about a minute on a laptop
//! cargo run -p lab-lenet -- --full    # the official 60,000/10,000 digits
//! cargo run -p lab-lenet -- --help
//! ```

pub mod data;
pub mod model;
pub mod training;
