//! `cargo run --release -p lab-alice-rnn -- --help`

use std::process::ExitCode;

use clap::Parser;
use lab_alice_rnn::training::LAB;
use shared::chars::CellImpl;
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

    /// Hidden units of the SimpleRNN
    #[arg(long, default_value_t = 128)]
    units: usize,

    /// Which implementation of the recurrence trains: the lab's cell with its hand-written
    /// backward pass (fastest), the same cell one differentiable step at a time, or burn's Rnn
    #[arg(long, value_enum, default_value_t = CellImpl::Lab)]
    cell: CellImpl,

    /// The text generation starts from (lower case; characters of the book only)
    #[arg(long, default_value = "alice look")]
    seed_text: String,
}

fn main() -> ExitCode {
    let defaults = shared::chars::defaults_help(&LAB);
    let args: Args = shared::cli::parse_args(defaults);
    if args.units == 0 {
        eprintln!("error: --units must be at least 1");
        return ExitCode::FAILURE;
    }
    shared::cli::exit_code(lab_alice_rnn::training::run(
        &args.common,
        args.units,
        args.cell,
        &args.seed_text,
    ))
}
