//! `cargo run -p lab-alice-lstm -- --help`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use lab_alice_lstm::training::{Comparison, LAB};
use shared::chars::CharArgs;
use shared::cli::CommonArgs;

/// Lab 6: an LSTM that writes like Alice, compared with the SimpleRNN of lab 5.
///
/// The LSTM reads 10 characters of Alice in Wonderland and learns to predict the 11th;
/// after every epoch it writes 100 characters from the seed text, greedily and by
/// temperature sampling. Then it is compared with a SimpleRNN of about the same number of
/// parameters: both validation-loss curves on one plot (comparison.png) and both texts side
/// by side (comparison.txt).
///
/// The SimpleRNN comes from the newest finished run of lab 5 under --out, from --rnn-run,
/// or is trained here with --compare. Outputs go to runs/alice-lstm/<date-time>/.
#[derive(Debug, Parser)]
#[command(name = "lab-alice-lstm", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    #[command(flatten)]
    chars: CharArgs,

    /// Also train a SimpleRNN with about the LSTM's parameter count, same data and settings
    #[arg(long, conflicts_with = "rnn_run")]
    compare: bool,

    /// Compare with this finished run folder of lab 5 (runs/alice-rnn/<date-time>)
    #[arg(long, value_name = "RUN_FOLDER")]
    rnn_run: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args: Args = shared::cli::parse_args(shared::chars::defaults_help(&LAB));
    let comparison = match (args.compare, args.rnn_run) {
        (true, _) => Comparison::Train,
        (false, Some(folder)) => Comparison::Folder(folder),
        (false, None) => Comparison::Latest,
    };
    shared::cli::exit_code(lab_alice_lstm::training::run(
        &args.common,
        &args.chars,
        comparison,
    ))
}
