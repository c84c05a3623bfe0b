//! Lab 5: a SimpleRNN that writes like Alice.
//!
//! * [`hello`]: the smallest recurrent problem, "hell" → "ello";
//! * [`gradients`]: vanishing and exploding gradients, measured;
//! * [`data`]: the book as 10-character windows and the next character;
//! * [`model`]: the SimpleRNN cell written out, and the character model;
//! * [`generate`]: greedy and temperature sampling;
//! * [`training`]: the run (shared with lab 6).

pub mod data;
pub mod generate;
pub mod gradients;
pub mod hello;
pub mod model;
pub mod training;
