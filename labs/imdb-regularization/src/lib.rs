//! # Lab 10: overfitting on IMDB, and what L2 and dropout do about it
//!
//! TensorFlow's classic "overfit and underfit" tutorial (Chollet, *Deep Learning with
//! Python*, ch. 4): movie reviews as bags of words, classified positive or negative by small
//! dense networks. A network that can memorise its training reviews does so: its training
//! loss keeps falling while its validation loss turns and climbs (과적합, overfitting). The
//! lab trains six networks on the same reviews and shows how size, L2 weight regularisation
//! (가중치 규제) and dropout (드롭아웃) change that.
//!
//! Read it in this order: [`data`] (reviews → multi-hot rows, built per batch) → [`model`]
//! (the six networks, the L2 penalty, dropout) → [`training`] (train each into its own
//! sub-folder, then the plots and the table). `main.rs` only parses flags.
//!
//! ```text
//! cargo run -p lab-imdb-regularization                  # bundled sample, about 30 s
//! cargo run -p lab-imdb-regularization -- --models medium,l2
//! cargo run -p lab-imdb-regularization -- --full        # 25,000 + 25,000 reviews
//! ```

pub mod data;
pub mod model;
pub mod training;
