//! `cargo run -p lab-alice-rnn -- --help`

use std::process::ExitCode;

use clap::Parser;
use lab_alice_rnn::training::LAB;
use shared::chars::CharArgs;
use shared::cli::CommonArgs;

/// Lab 5: a SimpleRNN that writes like Alice.
///
/// First the lecture's "hello" example (a tiny RNN learns to continue "h" into "hello") and
/// a measurement of vanishing and exploding gradients (gradients.png). Then a SimpleRNN
/// reads 10 characters of Alice in Wonderland and learns to predict the 11th; after every
/// epoch it writes 100 characters from the seed text, greedily and by temperature sampling.
///
/// The whole book is bundled with the course, so the default run trains on all of it.
/// Outputs go to a run folder (runs/alice-rnn/<date-time>/).
#[derive(Debug, Parser)]
#[command(name = "lab-alice-rnn", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    #[command(flatten)]
    chars: CharArgs,
}

fn main() -> ExitCode {
    let args: Args = shared::cli::parse_args(shared::chars::defaults_help(&LAB));
    shared::cli::exit_code(lab_alice_rnn::training::run(&args.common, &args.chars))
}
