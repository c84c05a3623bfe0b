//! Lab 5: a SimpleRNN that writes like Alice.
//!
//! * [`hello`]: the smallest recurrent problem, "hell" → "ello";
//! * [`gradients`]: vanishing and exploding gradients, measured;
//! * [`model`]: the SimpleRNN cell written out, and the character model;
//! * [`training`]: the run.
//!
//! The book cut into 10-character windows, their one-hot batches and text generation
//! (greedy and temperature sampling) are in `shared::chars`, because lab 6 uses them too.

pub mod gradients;
pub mod hello;
pub mod model;
pub mod training;
