//! # Lab 8: IMDB sentiment with an LSTM
//!
//! The lecture's exercise: "Keras IMDB, 25,000 movie reviews, positive/negative, already
//! preprocessed as word indexes (index = frequency rank), an LSTM RNN of the many-to-one
//! type." Each review is read word by word by an LSTM (장단기 메모리); its state after the
//! last word decides positive or negative (감성 분석, sentiment analysis). A bag-of-words
//! baseline, which sees which words occur but not their order, trains on the same split:
//! what the LSTM adds over it is what word order is worth.
//!
//! Read it in this order: [`data`] (text → word indices → padded sequences, the vocabulary)
//! → [`model`] (Embedding → LSTM → Dense, and the baseline) → [`training`] (train, stop
//! early, test once, report) → [`predict`] (a saved run scoring new text). `main.rs` only
//! parses flags.
//!
//! ```text
//! cargo run -p lab-imdb-lstm                       # bundled sample, about a minute
//! cargo run -p lab-imdb-lstm -- --full             # 25,000 + 25,000 reviews
//! cargo run -p lab-imdb-lstm -- --full --bidirectional
//! cargo run -p lab-imdb-lstm -- --predict "A moving, beautifully acted film."
//! ```

pub mod data;
pub mod model;
pub mod predict;
pub mod training;
