//! `cargo run -p lab-lenet -- --help`

use std::process::ExitCode;

use clap::Parser;
use lab_lenet::training::{self, LAB, LR_DECAY, Options};
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

    /// Multiply the learning rate by this after every epoch (1 keeps it constant)
    #[arg(long, value_name = "FACTOR", default_value_t = LR_DECAY)]
    lr_decay: f64,

    /// Do not touch the test digits: for runs that choose settings (batch size, learning
    /// rate, decay, epochs) on the validation digits; run once more without it at the end
    #[arg(long)]
    no_test: bool,
}

fn main() -> ExitCode {
    let defaults = LAB.defaults_help(
        "Defaults (Adam, learning rate decaying x0.8 per epoch: --lr-decay)",
        ["", "", ""],
    );
    let args: Args = shared::cli::parse_args(defaults);
    let options = Options {
        lr_decay: args.lr_decay,
        test: !args.no_test,
    };
    shared::cli::exit_code(training::run(&args.common, options))
}
