//! Auto MPG (UCI, Quinlan 1993): fuel consumption of 398 cars from the 1970s and 80s.
//!
//! `auto-mpg.data` has one car per line: eight whitespace-separated numbers, a tab, and the
//! car's name in double quotes. Horsepower is `?` for six cars.
//!
//! ```text
//! 18.0   8   307.0      130.0      3504.      12.0   70  1<TAB>"chevrolet chevelle malibu"
//! mpg    cyl displacem. horsepower weight     accel. year origin (1 USA, 2 Europe, 3 Japan)
//! ```
//!
//! The lab predicts `mpg` from the rest, as TensorFlow's "basic regression" tutorial does:
//! `origin` becomes three one-hot columns, 80% of the cars (shuffled) train and 20% test, and
//! every feature is standardised with the mean and deviation of the *training* cars only, so
//! nothing about the test cars leaks into training.

use std::path::{Path, PathBuf};

use crate::DataError;
use crate::datasets::{DataSource, samples_dir};
use crate::download::{Downloader, RemoteFile};
use crate::rng::Rng;

pub const FILE: &str = "auto-mpg.data";

pub fn remote_file() -> RemoteFile {
    RemoteFile::new(
        FILE,
        &["https://archive.ics.uci.edu/ml/machine-learning-databases/auto-mpg/auto-mpg.data"],
        "48b830e11feee5572525f8f1691ddb9d38d3d7b7063edcd8fca672c2a5e17d8d",
    )
}

/// The names of the columns [`features`] returns.
pub const FEATURE_NAMES: [&str; 9] = [
    "cylinders",
    "displacement",
    "horsepower",
    "weight",
    "acceleration",
    "model year",
    "USA",
    "Europe",
    "Japan",
];

#[derive(Debug, Clone, PartialEq)]
pub struct Car {
    pub mpg: f32,
    pub cylinders: f32,
    pub displacement: f32,
    /// `None` where the file has `?`.
    pub horsepower: Option<f32>,
    pub weight: f32,
    pub acceleration: f32,
    pub model_year: f32,
    /// 1 USA, 2 Europe, 3 Japan.
    pub origin: u8,
    pub name: String,
}

/// What to do with the six cars whose horsepower is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Leave them out (392 cars remain), as the TensorFlow tutorial does.
    Drop,
    /// Fill in the mean horsepower of the other cars.
    Impute,
}

/// The bundled copy is the whole official file (30 KB), so `Sample` and `Full` read the same
/// bytes; `Full` reads (or downloads) `<data-dir>/auto-mpg/auto-mpg.data`.
pub fn load(source: &DataSource, downloader: &Downloader) -> Result<Vec<Car>, DataError> {
    let path: PathBuf = match source {
        DataSource::Sample => samples_dir().join("auto-mpg").join(FILE),
        DataSource::Full { data_dir } => {
            downloader.ensure(&remote_file(), &data_dir.join("auto-mpg"))?
        }
    };
    read(&path)
}

pub fn read(path: &Path) -> Result<Vec<Car>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    parse(&text).map_err(|(line, what)| DataError::invalid(path, format!("line {line}: {what}")))
}

/// Parses the file's text; an error is `(line number, what is wrong)`.
pub fn parse(text: &str) -> Result<Vec<Car>, (usize, String)> {
    let mut cars = Vec::new();
    for (number, line) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        if line.trim().is_empty() {
            continue;
        }
        let (numbers, name) = line
            .split_once('"')
            .ok_or((number, "no quoted car name".to_string()))?;
        let name = name
            .strip_suffix('"')
            .ok_or((number, "the car name has no closing quote".to_string()))?;
        let fields: Vec<&str> = numbers.split_whitespace().collect();
        if fields.len() != 8 {
            return Err((
                number,
                format!("expected 8 numbers before the name, found {}", fields.len()),
            ));
        }
        let value = |i: usize, what: &str| -> Result<f32, (usize, String)> {
            fields[i]
                .parse::<f32>()
                .map_err(|_| (number, format!("{what} is `{}`, not a number", fields[i])))
        };
        let horsepower = match fields[3] {
            "?" => None,
            _ => Some(value(3, "horsepower")?),
        };
        let origin = value(7, "origin")?;
        if ![1.0, 2.0, 3.0].contains(&origin) {
            return Err((number, format!("origin is {origin}, expected 1, 2 or 3")));
        }
        cars.push(Car {
            mpg: value(0, "mpg")?,
            cylinders: value(1, "cylinders")?,
            displacement: value(2, "displacement")?,
            horsepower,
            weight: value(4, "weight")?,
            acceleration: value(5, "acceleration")?,
            model_year: value(6, "model year")?,
            origin: origin as u8,
            name: name.to_string(),
        });
    }
    Ok(cars)
}

/// Drops or fills in the cars with unknown horsepower.
pub fn handle_missing(cars: &[Car], missing: Missing) -> Vec<Car> {
    match missing {
        Missing::Drop => cars
            .iter()
            .filter(|c| c.horsepower.is_some())
            .cloned()
            .collect(),
        Missing::Impute => {
            let known: Vec<f32> = cars.iter().filter_map(|c| c.horsepower).collect();
            let mean = known.iter().sum::<f32>() / known.len().max(1) as f32;
            cars.iter()
                .map(|c| Car {
                    horsepower: Some(c.horsepower.unwrap_or(mean)),
                    ..c.clone()
                })
                .collect()
        }
    }
}

/// The feature row of a car ([`FEATURE_NAMES`]); unknown horsepower is NaN.
pub fn features(car: &Car) -> [f32; 9] {
    [
        car.cylinders,
        car.displacement,
        car.horsepower.unwrap_or(f32::NAN),
        car.weight,
        car.acceleration,
        car.model_year,
        (car.origin == 1) as u8 as f32,
        (car.origin == 2) as u8 as f32,
        (car.origin == 3) as u8 as f32,
    ]
}

/// Shuffles with `seed` and splits: `(train, test)` with `train_fraction` of the cars in train.
pub fn split(cars: &[Car], train_fraction: f64, seed: u64) -> (Vec<Car>, Vec<Car>) {
    let order = Rng::new(seed).permutation(cars.len());
    let n_train = (cars.len() as f64 * train_fraction).round() as usize;
    let pick = |idx: &[usize]| idx.iter().map(|&i| cars[i].clone()).collect::<Vec<_>>();
    (pick(&order[..n_train]), pick(&order[n_train..]))
}

/// Z-score standardisation, `(x - mean) / std` per column, fitted on training rows only.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Standardizer {
    pub fn fit(rows: &[[f32; 9]]) -> Standardizer {
        let n = rows.len().max(1) as f64;
        let mut mean = vec![0f32; 9];
        let mut std = vec![0f32; 9];
        for column in 0..9 {
            let m = rows.iter().map(|r| r[column] as f64).sum::<f64>() / n;
            // Sample standard deviation (n - 1), as pandas' `describe()` in the tutorial.
            let var = rows
                .iter()
                .map(|r| (r[column] as f64 - m).powi(2))
                .sum::<f64>()
                / (n - 1.0).max(1.0);
            mean[column] = m as f32;
            std[column] = (var.sqrt() as f32).max(1e-6);
        }
        Standardizer { mean, std }
    }

    pub fn apply(&self, row: &[f32; 9]) -> [f32; 9] {
        std::array::from_fn(|i| (row[i] - self.mean[i]) / self.std[i])
    }
}
