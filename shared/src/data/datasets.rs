//! Where the data lives.
//!
//! * **Bundled samples** ship with the course in the repository's `datasets/` folder: small
//!   cuts of the real datasets, in the official file formats, so every lab runs offline out
//!   of the box.
//! * **Full datasets** go to a *data directory*, one folder per dataset with the official file
//!   names (`<data-dir>/mnist/train-images-idx3-ubyte.gz`, …). They are downloaded on first use
//!   with `--full`; a file you fetched by hand and put there is used as it is.
//!
//! The data directory is, in order: `--data-dir`, the `BURN_LABS_DATA` environment variable,
//! or `data/` at the top of the repository.

use std::path::{Path, PathBuf};

use burn::config::Config;

use crate::cli::Mode;

/// The repository's top folder, as seen when the labs were compiled.
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The folder of bundled samples (`datasets/` in the repository).
///
/// `BURN_LABS_SAMPLES` overrides it, for a binary copied away from its checkout.
pub fn samples_dir() -> PathBuf {
    match std::env::var_os("BURN_LABS_SAMPLES") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repository_root().join("datasets"),
    }
}

/// The data directory for full datasets: `--data-dir`, else `BURN_LABS_DATA`, else `data/`
/// at the top of the repository.
pub fn data_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    match std::env::var_os("BURN_LABS_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repository_root().join("data"),
    }
}

/// Which copy of a dataset a lab trains on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// The small real sample bundled in `datasets/`.
    Sample,
    /// The official full dataset in (or downloaded to) this data directory.
    Full { data_dir: PathBuf },
}

impl DataSource {
    /// The source of a run whose `config.json` saved `mode` (`sample`, `full`, `quick`) and
    /// the data folder of a `--full` run.
    pub fn saved(mode: &str, data_dir: Option<&Path>) -> DataSource {
        match data_dir {
            Some(dir) if mode == "full" => DataSource::Full {
                data_dir: dir.to_path_buf(),
            },
            _ => DataSource::Sample,
        }
    }

    /// The data folder of a full-dataset source, as a config saves it.
    pub fn data_dir(&self) -> Option<PathBuf> {
        match self {
            DataSource::Full { data_dir } => Some(data_dir.clone()),
            DataSource::Sample => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            DataSource::Sample => format!("bundled sample ({})", samples_dir().display()),
            DataSource::Full { data_dir } => format!("full dataset ({})", data_dir.display()),
        }
    }
}

/// Which data a run uses: the mode and, for `--full`, the data folder.
#[derive(Config, Debug, PartialEq)]
pub struct DataChoice {
    pub mode: Mode,
    pub data_dir: Option<PathBuf>,
    /// Share of the training items held out to watch for overfitting (Keras's
    /// `validation_split`); the test set is only used once, at the end.
    #[config(default = 0.1)]
    pub validation_split: f64,
}

impl DataChoice {
    pub fn source(&self) -> DataSource {
        match (&self.data_dir, self.mode) {
            (Some(dir), Mode::Full) => DataSource::Full {
                data_dir: dir.clone(),
            },
            _ => DataSource::Sample,
        }
    }

    pub fn is_quick(&self) -> bool {
        self.mode == Mode::Quick
    }
}
