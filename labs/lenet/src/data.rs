//! From MNIST bytes to the tensors LeNet eats.
//!
//! The batcher lives in `shared::batchers` because lab 3 (save and load) feeds the same
//! digits to the same network: pixels are scaled to `(x / 255 - mean) / std` and stacked into
//! `[batch, 1, 28, 28]` images with their `[batch]` labels.

pub use shared::batchers::{MnistBatch, MnistBatcher};
