//! `cargo run -p lab-cifar-cnn -- --help`

use std::process::ExitCode;

use clap::Parser;
use lab_cifar_cnn::training::LAB;
use shared::cli::CommonArgs;

/// Lab 2: a deeper CNN on CIFAR-10 colour images.
///
/// Trains the lecture's Keras reference CNN (two blocks of two 3x3 convolutions, max
/// pooling and dropout, then a dense layer of 512) on 32x32 colour images of ten classes,
/// reports the accuracy on held-out training images and on the test images, and writes
/// curves, the confusion matrix, a per-class accuracy table, test images with their
/// predictions, the model and its config to runs/cifar-cnn/<date-time>/.
///
/// --strong adds batch normalisation and data augmentation (random flips and shifts);
/// --compare trains both variants and plots them together (variants.png).
#[derive(Debug, Parser)]
#[command(name = "lab-cifar-cnn", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// The stronger variant: batch normalisation after every convolution, and random
    /// flips and 4-pixel shifts of the training images
    #[arg(long)]
    strong: bool,

    /// Train the plain and the stronger variant, one after the other, and plot both
    #[arg(long, conflicts_with_all = ["strong", "resume"])]
    compare: bool,
}

fn main() -> ExitCode {
    let defaults = LAB.defaults_help(
        "Defaults (Adam, learning rate x0.95 per epoch, 10% of the training images held out)",
        [
            "(500 training / 200 test images bundled)",
            "(the official 50,000 training images)",
            "",
        ],
    );
    let args: Args = shared::cli::parse_args(defaults);
    shared::cli::exit_code(lab_cifar_cnn::training::run(
        &args.common,
        args.strong,
        args.compare,
    ))
}
