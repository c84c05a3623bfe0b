//! Errors of the data layer.
//!
//! Every error names the file and says what is wrong with it and, where it can, what to do.
//! Loaders never panic on bad input: a truncated download or a file of the wrong kind must
//! give a message, not a backtrace.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::download::DownloadError;

#[derive(Debug, Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("reading {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file was read but its content is not what the format says.
    #[error("{}: {what}", path.display())]
    Invalid { path: PathBuf, what: String },
    /// A dataset is not where it should be, and could not be downloaded.
    #[error("{what}\n{help}")]
    Missing { what: String, help: String },
    #[error(transparent)]
    Download(#[from] DownloadError),
}

impl DataError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn invalid(path: &Path, what: impl Into<String>) -> Self {
        DataError::Invalid {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }
}
