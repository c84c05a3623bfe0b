//! `cargo run -p lab-imdb-lstm -- --help`

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Parser;
use lab_imdb_lstm::predict;
use lab_imdb_lstm::training::{self, LAB, Options};
use shared::cli::CommonArgs;

/// Lab 8: IMDB sentiment with an LSTM (many-to-one).
///
/// Reads movie reviews as Keras's imdb.load_data(num_words=10000) gives them (word indices
/// by frequency, <PAD> 0, <START> 1, <UNK> 2), padded at the front to 200, and trains
/// Embedding(10000, 128) → LSTM(64) → Dense(1, sigmoid) with binary cross-entropy and Adam,
/// stopped early on the validation loss; then a bag-of-words baseline (word order ignored)
/// on the same split. The test reviews are used once, at the end: accuracy, confusion
/// matrix, accuracy by review length, the most confidently right and wrong reviews.
///
/// By default it trains on the 300 + 300 reviews bundled with the course (about a minute);
/// --full uses the official 25,000 + 25,000. --predict "text" scores new text with a
/// finished run (the newest, or --run DIR).
#[derive(Debug, Parser)]
#[command(name = "lab-imdb-lstm", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// The LSTM's units (per direction)
    #[arg(long, default_value_t = 64)]
    units: usize,

    /// Keras's Bidirectional(LSTM): a second LSTM reads each review backwards
    #[arg(long)]
    bidirectional: bool,

    /// While training, set this share of the word vectors and of the LSTM's last state to
    /// zero (Keras's Dropout after the Embedding and before the Dense); 0: no dropout
    #[arg(long, default_value_t = 0.0)]
    dropout: f64,

    /// Multiply the learning rate by this after every epoch (1 keeps it constant)
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    lr_decay: f64,

    /// Reviews are padded and cut (at the front) to this many word indices
    #[arg(long, default_value_t = 200)]
    maxlen: usize,

    /// Skip the bag-of-words baseline
    #[arg(long)]
    no_baseline: bool,

    /// Do not touch the test reviews: for runs that choose settings (epochs, maxlen, units)
    /// on the validation reviews; run once more without it at the end
    #[arg(long)]
    no_test: bool,

    /// Score this text with a finished run instead of training (repeatable)
    #[arg(long, value_name = "TEXT")]
    predict: Vec<String>,

    /// Score the text of this file (UTF-8, one review) with a finished run
    #[arg(long, value_name = "PATH")]
    predict_file: Vec<PathBuf>,

    /// The run folder --predict uses [default: the newest finished run under --out]
    #[arg(long, value_name = "DIR")]
    run: Option<PathBuf>,
}

fn main() -> ExitCode {
    let defaults = LAB.defaults_help(
        "Defaults (Adam with Keras's settings, binary cross-entropy, early stopping on the \
         validation loss with patience 2; epochs is the most it trains)",
        [
            "(300 + 300 bundled reviews, 60 of the 300 for validation)",
            "(25,000 + 25,000 reviews, 5,000 for validation; batch 32 as the Keras example)",
            "(200 + 100 reviews, 40 of the 200 for validation)",
        ],
    );
    let args: Args = shared::cli::parse_args(defaults);
    shared::cli::exit_code(run(&args))
}

fn run(args: &Args) -> Result<()> {
    if args.predict.is_empty() && args.predict_file.is_empty() {
        if args.run.is_some() {
            bail!("--run only says which run --predict uses: add --predict \"some text\"");
        }
        let options = Options {
            units: args.units,
            bidirectional: args.bidirectional,
            dropout: args.dropout,
            lr_decay: args.lr_decay,
            maxlen: args.maxlen,
            baseline: !args.no_baseline,
            test: !args.no_test,
        };
        return training::run(&args.common, options).map(|_| ());
    }
    let device = shared::device::select(args.common.device)?;
    let run = match &args.run {
        Some(run) => run.clone(),
        None => predict::newest_run(&args.common.out)?,
    };
    let mut texts: Vec<(String, String)> = args
        .predict
        .iter()
        .map(|t| {
            let shown: String = t.chars().take(40).collect();
            let more = if t.chars().count() > 40 { "…" } else { "" };
            (format!("{shown:?}{more}"), t.clone())
        })
        .collect();
    for path in &args.predict_file {
        texts.push((path.display().to_string(), predict::read_text(path)?));
    }
    predict::print_predictions(&run, &texts, &device)
}
