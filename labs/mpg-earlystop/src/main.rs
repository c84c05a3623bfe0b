//! `cargo run -p lab-mpg-earlystop -- --help`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Parser;
use lab_mpg_earlystop::split::{Split, SplitKind};
use lab_mpg_earlystop::{data, inference, training};
use shared::cli::CommonArgs;

/// Lab 9: Auto MPG regression, overfitting on purpose, early stopping, checkpoints.
///
/// Trains TensorFlow's "basic regression" network (Dense 64-64-1, RMSprop) twice from the
/// same first weights: 1,000 epochs without early stopping (part 1, overfit/), then with
/// EarlyStopping(val_loss, patience 10, restore best) and a best-only checkpoint (part 2,
/// early-stopping/). Writes both curves with the stopping epoch marked, the test MAEs, a
/// predicted-vs-true plot and the error histogram to runs/mpg-earlystop/<date-time>/.
///
/// --evaluate and --predict reload a finished run instead of training.
#[derive(Debug, Parser)]
#[command(name = "lab-mpg-earlystop", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// The 80/20 train/test split: `tutorial` is the TensorFlow tutorial's own (pandas'
    /// sample(frac=0.8, random_state=0), reproduced car for car: the same 314 training cars
    /// in the same order, so the same 63 validation cars, and the same 78 test cars);
    /// `seeded` is the course's own shuffle with --split-seed. --seed changes the first
    /// weights and the batch order only, never the split
    #[arg(long, value_enum, default_value = "tutorial")]
    split: SplitKind,

    /// Seed of `--split seeded` [default: 0]
    #[arg(long)]
    split_seed: Option<u64>,

    /// The run folder to reload [default: the newest finished run under --out]
    #[arg(long, value_name = "RUN_FOLDER")]
    run: Option<PathBuf>,

    /// Reload the run's early-stopping checkpoint and print its test MAE
    #[arg(long)]
    evaluate: bool,

    /// Predict the MPG of a car given as name=value pairs (cylinders, displacement,
    /// horsepower, weight, acceleration, model_year, origin USA/Europe/Japan; optionally
    /// name and mpg), e.g. cylinders=4,displacement=120,horsepower=95,weight=2400,acceleration=15,model_year=76,origin=Japan
    /// (several cars: repeat the flag, or separate them by ;)
    #[arg(long, value_name = "CAR")]
    predict: Vec<String>,

    /// Predict the MPG of the cars in a CSV file (a header with the same field names)
    #[arg(long, value_name = "CSV")]
    predict_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let defaults = training::LAB.defaults_help(
        "Defaults (RMSprop, as the TensorFlow tutorial)",
        [
            "on the bundled auto-mpg.data",
            "on the official file in the data folder",
            "",
        ],
    );
    let args: Args = shared::cli::parse_args(defaults);
    shared::cli::exit_code(run(&args))
}

fn run(args: &Args) -> Result<()> {
    let predicting = !args.predict.is_empty() || args.predict_file.is_some();
    if !args.evaluate && !predicting {
        if args.run.is_some() {
            bail!("--run only says which run to reload: add --evaluate or --predict");
        }
        let split = match (args.split, args.split_seed) {
            (SplitKind::Tutorial, Some(_)) => {
                bail!("--split-seed only applies to --split seeded (the tutorial's split has none)")
            }
            (kind, seed) => Split::new(kind, seed.unwrap_or(0)),
        };
        return training::run(&args.common, split).map(|_| ());
    }
    let device = shared::device::select(args.common.device)?;
    let run = match &args.run {
        Some(run) => run.clone(),
        None => inference::newest_run(&args.common.out)?,
    };
    if args.evaluate {
        inference::print_evaluation(&run, &device)?;
    }
    if predicting {
        let mut cars = Vec::new();
        for text in args.predict.iter().flat_map(|t| t.split(';')) {
            cars.push(data::parse_car(text)?);
        }
        if let Some(file) = &args.predict_file {
            cars.extend(data::read_cars_csv(file)?);
        }
        inference::print_predictions(&run, &cars, &device)?;
    }
    Ok(())
}
