//! The flags every lab shares. A lab flattens [`CommonArgs`] into its own `clap` parser and
//! adds only the flags of its lesson.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::{Deserialize, Serialize};

use crate::datasets::{DataSource, data_dir};
use crate::device::DeviceChoice;
use crate::train::Checkpoints;

#[derive(Debug, Clone, Args, Serialize)]
pub struct CommonArgs {
    /// Passes over the training set; 0 trains nothing and evaluates the starting model
    /// [default: depends on the lab and on --full/--quick]
    #[arg(long)]
    pub epochs: Option<usize>,

    /// Images (or sequences) per training step [default: depends on the lab]
    #[arg(long)]
    pub batch_size: Option<usize>,

    /// Learning rate of the optimiser [default: depends on the lab]
    #[arg(long)]
    pub lr: Option<f64>,

    /// Seed for weight initialisation, shuffling and the validation split
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Backend to run on; GPU backends need the matching cargo feature
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,

    /// Folder for full datasets (one sub-folder per dataset, official file names)
    /// [default: $BURN_LABS_DATA, else data/ in the repository]
    #[arg(long)]
    pub data_dir: Option<PathBuf>,

    /// Folder for run folders: each run writes to <out>/<lab>/<date-time>/
    #[arg(long, default_value = "runs")]
    pub out: PathBuf,

    /// Train on the official full dataset (downloaded to the data folder if missing)
    /// instead of the small sample bundled with the course
    #[arg(long, conflicts_with = "quick")]
    pub full: bool,

    /// A seconds-long smoke run on a slice of the bundled sample
    #[arg(long)]
    pub quick: bool,

    /// Continue an interrupted run from the last checkpoint in this run folder
    #[arg(long, value_name = "RUN_FOLDER")]
    pub resume: Option<PathBuf>,

    /// When to save the model and optimiser state that --resume needs [default: every-epoch]
    #[arg(long, value_enum)]
    pub checkpoints: Option<Checkpoints>,
}

/// Defaults a lab picks for each mode: sample (the default), `--full` and `--quick`.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
}

impl Defaults {
    pub const fn new(epochs: usize, batch_size: usize, lr: f64) -> Defaults {
        Defaults {
            epochs,
            batch_size,
            lr,
        }
    }
}

/// The three modes of every lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Sample,
    Full,
    Quick,
}

impl burn::config::Config for Mode {}

impl Mode {
    /// `sample`, `full` or `quick`, as a run's `config.json` saves it.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Sample => "sample",
            Mode::Full => "full",
            Mode::Quick => "quick",
        }
    }
}

/// The lab's flags from the command line, with `after_help` (its defaults) under `--help`.
/// A wrong flag prints clap's message and exits with code 2.
pub fn parse_args<A: clap::Parser>(after_help: String) -> A {
    let matches = A::command().after_help(after_help).get_matches();
    A::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

/// What `main` returns for a lab's result: success, or the error and its causes on stderr
/// (`error: reading x: …`) and exit code 1. Never a panic for a user's mistake.
pub fn exit_code<T>(result: anyhow::Result<T>) -> ExitCode {
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

impl CommonArgs {
    pub fn mode(&self) -> Mode {
        if self.quick {
            Mode::Quick
        } else if self.full {
            Mode::Full
        } else {
            Mode::Sample
        }
    }

    /// Where the data comes from for this mode.
    pub fn source(&self) -> DataSource {
        match self.mode() {
            Mode::Full => DataSource::Full {
                data_dir: data_dir(self.data_dir.as_deref()),
            },
            Mode::Sample | Mode::Quick => DataSource::Sample,
        }
    }
}
