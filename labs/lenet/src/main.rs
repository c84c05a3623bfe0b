//! `cargo run --release -p lab-lenet -- --help`

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};
use lab_lenet::training::{FULL, QUICK, SAMPLE};
use shared::cli::CommonArgs;

/// Lab 1: LeNet-5 on MNIST.
///
/// Trains the 1998 convolutional network on handwritten digits, reports the test accuracy
/// and writes curves, a confusion matrix, misclassified digits, the learned C1 filters,
/// feature maps, the model and its config to a run folder (runs/lenet/<date-time>/).
///
/// By default it trains on the small MNIST sample bundled with the course (about half a
/// minute on a laptop); --full downloads and uses the official 60,000 + 10,000 digits.
#[derive(Debug, Parser)]
#[command(name = "lab-lenet", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,
}

fn main() -> ExitCode {
    let defaults = format!(
        "Defaults (Adam, learning rate decaying x0.8 per epoch):\n  \
         sample   {} epochs, batch {}, lr {}\n  \
         --full   {} epochs, batch {}, lr {}\n  \
         --quick  {} epochs, batch {}, lr {}",
        SAMPLE.epochs,
        SAMPLE.batch_size,
        SAMPLE.lr,
        FULL.epochs,
        FULL.batch_size,
        FULL.lr,
        QUICK.epochs,
        QUICK.batch_size,
        QUICK.lr,
    );
    let matches = Args::command().after_help(defaults).get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(error) => error.exit(),
    };
    match lab_lenet::training::run(&args.common) {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
