//! Lab 6: an LSTM that writes like Alice, compared with lab 5's SimpleRNN.
//!
//! * [`model`]: the LSTM's gates written out, and the character model;
//! * [`training`]: the run, and the comparison with the SimpleRNN.
//!
//! Data, generation and the training loop come from lab 5 (`lab_alice_rnn`).

pub mod model;
pub mod training;
