//! `cargo run -p lab-save-load -- --help`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use lab_save_load::training::{LAB, LabOptions};
use shared::cli::CommonArgs;

/// Lab 3: save and restore a model.
///
/// Saves LeNet-5's architecture as JSON and as YAML and rebuilds the model from each, trains
/// it on MNIST with a checkpoint after every epoch, saves the weights in Keras's HDF5 layout,
/// as burnpack and as safetensors, and loads every file back into a model rebuilt from the
/// YAML, checking that the weights come back bit for bit. Output goes to
/// runs/save-load/<date-time>/.
#[derive(Debug, Parser)]
#[command(name = "lab-save-load", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// Build this architecture instead of LeNet-5: a .json or .yaml file like the
    /// architecture.json/.yaml a run writes (edit one and pass it here)
    #[arg(long, value_name = "FILE")]
    architecture: Option<PathBuf>,

    /// Start from the weights in this Keras HDF5 file, report their test accuracy, then
    /// train (--epochs 0 only evaluates). The same architecture saved by Keras 2
    /// save_weights("x.h5"), Keras 2 or 3 model.save("x.h5") or Keras 3
    /// save_weights("x.weights.h5"), or one of a run's epochs/weights-NN.h5
    #[arg(long, value_name = "FILE")]
    load_h5: Option<PathBuf>,
}

fn main() -> ExitCode {
    let defaults = LAB.defaults_help(
        "Defaults (Adam, learning rate decaying x0.8 per epoch)",
        ["", "", ""],
    ) + "\n\nA Keras LeNet-5 to load: labs/save-load/keras/lenet5_keras.h5 (made by make_fixture.py there).";
    let args: Args = shared::cli::parse_args(defaults);
    let options = LabOptions {
        architecture: args.architecture,
        load_h5: args.load_h5,
    };
    shared::cli::exit_code(lab_save_load::training::run(&args.common, &options))
}
