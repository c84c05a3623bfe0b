//! Lab 6: an LSTM that writes like Alice, compared with lab 5's SimpleRNN.
//!
//! * [`model`]: the LSTM's gates written out, and the character model;
//! * [`training`]: the run, and the comparison with the SimpleRNN.
//!
//! Data, batches, generation and the training loop come from `shared::chars`; the
//! SimpleRNN it is compared with is lab 5's own model (`lab_alice_rnn::model::CharRnn`).

pub mod model;
pub mod training;
