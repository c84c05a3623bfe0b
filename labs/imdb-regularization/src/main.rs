//! `cargo run -p lab-imdb-regularization -- --help`

use std::process::ExitCode;

use clap::Parser;
use lab_imdb_regularization::training::{ALL_MODELS, LAB};
use shared::cli::CommonArgs;

/// Lab 10: overfitting on IMDB, and what L2 and dropout do about it.
///
/// Trains dense networks on movie reviews (multi-hot over the 10,000 most frequent words):
/// small 4-4-1, medium (the baseline) 16-16-1 and big 512-512-1, then the baseline with
/// L2(0.001) on its kernels, with Dropout(0.5), and with both. Each model trains into its
/// own sub-folder of one run folder (runs/imdb-regularization/<date-time>/); the comparison
/// plots (training solid, validation dashed) and the table go to the top.
///
/// By default it trains on the 300 + 300 reviews bundled with the course (a few minutes for
/// all six models); --full uses the official 25,000 + 25,000.
#[derive(Debug, Parser)]
#[command(name = "lab-imdb-regularization", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// The models to train, comma-separated, from: small, medium, big, l2, dropout, l2+dropout
    #[arg(long, default_value = ALL_MODELS)]
    models: String,
}

fn main() -> ExitCode {
    let defaults = LAB.defaults_help(
        "Defaults (Adam with Keras's settings, binary cross-entropy, validation held out of \
         the training reviews)",
        [
            "(300 + 300 bundled reviews, half of the 300 for validation)",
            "(the tutorial's settings; 25,000 + 25,000 reviews, 5,000 for validation)",
            "(200 + 100 reviews, half of the 200 for validation)",
        ],
    );
    let args: Args = shared::cli::parse_args(defaults);
    shared::cli::exit_code(lab_imdb_regularization::training::run(
        &args.common,
        &args.models,
    ))
}
