//! Lab 2: a deeper CNN on CIFAR-10.
//!
//! * [`data`]: CIFAR-10 bytes → normalised tensors, with optional flips and shifts;
//! * [`model`]: the Keras reference CNN, and its batch-normalised variant;
//! * [`training`]: train, evaluate on held-out and test images, plots and summary.

pub mod data;
pub mod model;
pub mod training;
