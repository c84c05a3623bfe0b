//! Plots runs of lab 2 made separately (for example a plain and a `--strong` run on the
//! full data, hours each) together, as `--compare` does for the two it trains itself.
//!
//! ```text
//! cargo run -p lab-cifar-cnn --example variants -- RUN_FOLDER RUN_FOLDER... OUT.png
//! ```
//!
//! Each line is labelled with the run's variant, its epochs and its last held-out accuracy.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: variants RUN_FOLDER [RUN_FOLDER...] OUT.png";

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    shared::cli::exit_code(match args.as_slice() {
        [runs @ .., out] if !runs.is_empty() && out.extension().is_some_and(|e| e == "png") => {
            lab_cifar_cnn::training::plot_runs(runs, out)
                .map(|()| println!("wrote {}", out.display()))
        }
        _ => Err(anyhow::anyhow!(USAGE)),
    })
}
