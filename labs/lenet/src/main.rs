//! `cargo run --release -p lab-lenet -- --help`

use std::process::ExitCode;

use clap::Parser;
use lab_lenet::training::LAB;
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
    let defaults = LAB.defaults_help(
        "Defaults (Adam, learning rate decaying x0.8 per epoch)",
        ["", "", ""],
    );
    let args: Args = shared::cli::parse_args(defaults);
    shared::cli::exit_code(lab_lenet::training::run(&args.common))
}
