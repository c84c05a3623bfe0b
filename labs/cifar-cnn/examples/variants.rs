//! Plots runs of lab 2 made separately (for example a plain and a `--strong` run on the
//! full data, hours each) together, as `--compare` does for the two it trains itself.
//!
//! ```text
//! cargo run --release -p lab-cifar-cnn --example variants -- RUN_FOLDER RUN_FOLDER... OUT.png
//! ```
//!
//! Each line is labelled with the run's variant, its epochs and its last held-out accuracy.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use burn::config::Config;
use lab_cifar_cnn::training::{LabConfig, plot_variants};
use shared::train::History;

fn label_and_history(run: &Path) -> Result<(String, History)> {
    let config = LabConfig::load(run.join("config.json"))
        .with_context(|| format!("{} is not a run folder of lab 2", run.display()))?;
    let history = History::load(&run.join("history.json"))?;
    let Some(last) = history.last() else {
        bail!("{} has no finished epoch yet", run.display());
    };
    let label = format!(
        "{}, {} epoch{} (held-out {:.1}%)",
        config.variant(),
        last.epoch,
        if last.epoch == 1 { "" } else { "s" },
        100.0 * last.valid_metric
    );
    Ok((label, history))
}

fn run(args: &[PathBuf]) -> Result<()> {
    let [runs @ .., out] = args else {
        bail!("usage: variants RUN_FOLDER [RUN_FOLDER...] OUT.png");
    };
    if runs.is_empty() || out.extension().is_none_or(|e| e != "png") {
        bail!("usage: variants RUN_FOLDER [RUN_FOLDER...] OUT.png");
    }
    let loaded = runs
        .iter()
        .map(|run| label_and_history(run))
        .collect::<Result<Vec<_>>>()?;
    let lines: Vec<(String, &History)> = loaded.iter().map(|(l, h)| (l.clone(), h)).collect();
    plot_variants(out, &lines)?;
    println!("wrote {}", out.display());
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    shared::cli::exit_code(run(&args))
}
