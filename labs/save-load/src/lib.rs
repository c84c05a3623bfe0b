//! # Lab 3: saving and loading models
//!
//! A trained network is two things: its **architecture** (which layers, in which order, with
//! which settings) and its **weights** (the numbers training found). The lecture saves them
//! separately, as Keras does: the architecture as JSON or YAML, the weights as HDF5, plus a
//! checkpoint after every epoch so that a long training can be resumed.
//!
//! Read it in this order: [`architecture`] (the layer list as data, JSON and YAML, and why
//! YAML is safe here) → [`model`] (the burn network built from that list) → [`keras_h5`]
//! (weights in Keras's HDF5 layout) → [`formats`] (burnpack, safetensors, bit-exact checks)
//! → [`training`] (the lab itself). `main.rs` only parses flags.
//!
//! ```text
//! cargo run -p lab-save-load                  # LeNet-5 on the bundled sample
//! cargo run -p lab-save-load -- --load-h5 labs/save-load/keras/lenet5_keras.h5 --epochs 0
//! cargo run -p lab-save-load -- --architecture my-net.yaml
//! cargo run -p lab-save-load -- --help
//! ```

pub mod architecture;
pub mod formats;
pub mod keras_h5;
pub mod model;
pub mod training;
