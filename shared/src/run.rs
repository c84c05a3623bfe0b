//! The run folder: everything one run of a lab produced, in one place.
//!
//! ```text
//! runs/<lab>/<YYYYMMDD-HHMMSS>/
//!   config.json        the settings of the run (enough to rebuild the model)
//!   history.csv/json   metrics per epoch
//!   model.bpk          the trained weights (burnpack)
//!   *.png              plots
//!   summary.txt        what the run printed at the end
//!   checkpoint/        model, optimiser and history after the last epoch (for --resume)
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde::Serialize;

#[derive(Debug, Clone)]
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    /// A new, empty folder `<out>/<lab>/<date-time>` (UTC). Never reuses an existing one.
    pub fn create(out: &Path, lab: &str) -> Result<RunDir> {
        let parent = out.join(lab);
        fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
        let stamp = utc_timestamp();
        for n in 0..1000 {
            let name = if n == 0 {
                stamp.clone()
            } else {
                format!("{stamp}-{n}")
            };
            let path = parent.join(name);
            match fs::create_dir(&path) {
                Ok(()) => return Ok(RunDir { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e).with_context(|| format!("creating {}", path.display())),
            }
        }
        bail!(
            "could not find a free run folder name in {}",
            parent.display()
        )
    }

    /// An existing run folder, for `--resume`.
    pub fn open(path: &Path) -> Result<RunDir> {
        if !path.join("config.json").exists() {
            bail!(
                "{} is not a run folder of this course (it has no config.json)",
                path.display()
            );
        }
        Ok(RunDir {
            path: path.to_path_buf(),
        })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<()> {
        write_atomic(
            &self.file(name),
            serde_json::to_string_pretty(value)?.as_bytes(),
        )
    }

    pub fn write_text(&self, name: &str, text: &str) -> Result<()> {
        write_atomic(&self.file(name), text.as_bytes())
    }
}

/// The run folder and the settings of a lab run. A new run gets a new folder with
/// `fresh()` saved as its `config.json`; `--resume <folder>` reopens that folder and its saved
/// settings, with `--epochs`, when given, replacing the saved count so that the run can go on
/// for longer.
pub fn start<C: burn::config::Config>(
    args: &crate::cli::CommonArgs,
    lab: &str,
    fresh: impl FnOnce() -> C,
    epochs: impl FnOnce(&mut C) -> &mut usize,
) -> Result<(RunDir, C)> {
    match &args.resume {
        Some(path) => {
            let run = RunDir::open(path)?;
            let mut config = C::load(run.file("config.json"))
                .with_context(|| format!("reading {}", run.file("config.json").display()))?;
            if let Some(n) = args.epochs {
                *epochs(&mut config) = n;
            }
            Ok((run, config))
        }
        None => {
            let config = fresh();
            let run = RunDir::create(&args.out, lab)?;
            config
                .save(run.file("config.json"))
                .with_context(|| format!("writing {}", run.file("config.json").display()))?;
            Ok((run, config))
        }
    }
}

/// Writes a file through a temporary neighbour and a rename: readers see the old file or
/// the new one, never half of one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_os_string();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// `YYYYMMDD-HHMMSS` in UTC.
pub fn utc_timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to a (year, month, day) date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_785), (2026, 11, 28));
    }
}
