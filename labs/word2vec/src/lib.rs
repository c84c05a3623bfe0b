//! # Lab 7: word2vec, from one-hot vectors to word vectors
//!
//! A one-hot vector (원-핫 벡터) gives each word its own axis: every two words are equally far
//! apart, and "king" is no closer to "queen" than to "kimchi". word2vec (Mikolov et al.,
//! 2013) learns a short dense vector per word (임베딩, embedding) from nothing but which words
//! appear near which: words used alike end up pointing alike, and some relations become
//! directions (king − queen ≈ man − woman).
//!
//! Read it in this order:
//!
//! 1. [`corpus`]: text → sentences of words (the toy sentences, Alice, IMDB);
//! 2. [`vocab`]: the vocabulary, subsampling of frequent words, the noise table;
//! 3. [`windows`]: what the network trains on: skip-gram pairs, CBOW contexts;
//! 4. [`softmax`]: the lecture's network, one-hot in → hidden layer → softmax (burn);
//! 5. [`sgns`]: negative sampling, the fast way, on plain tables with its own gradient;
//! 6. [`eval`]: cosine similarity, nearest neighbours, analogies, PCA;
//! 7. [`output`]: `vectors.vec`, the Embedding Projector's TSV files, the pictures;
//! 8. [`training`]: the run, with its settings in [`config`] and what it prints and
//!    writes in [`report`]. `main.rs` only parses flags.
//!
//! ```text
//! cargo run -p lab-word2vec                                  # toy corpus: seconds
//! cargo run -p lab-word2vec -- --mode cbow --loss softmax
//! cargo run -p lab-word2vec -- --corpus alice
//! cargo run -p lab-word2vec -- --corpus imdb --full --data-dir ../shared/datasets
//! ```

pub mod config;
pub mod corpus;
pub mod eval;
pub mod output;
pub mod report;
pub mod sgns;
pub mod softmax;
pub mod training;
pub mod vocab;
pub mod windows;
