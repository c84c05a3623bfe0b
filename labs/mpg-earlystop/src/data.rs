//! From `auto-mpg.data` to the tensors the network eats, as TensorFlow's "basic regression"
//! tutorial prepares them.
//!
//! ```text
//! 398 cars ──drop the 6 with `?` horsepower──▶ 392 cars
//!   ──origin 1/2/3 → one-hot USA/Europe/Japan──▶ 9 features per car
//!   ──pandas' sample(frac=0.8, random_state=0), reproduced (split.rs)──▶ 314 train, 78 test
//!   ──z-score with the means and stds of the 314 training cars only──▶ features ≈ N(0, 1)
//!   ──the last 20% of the training cars (Keras's validation_split=0.2)──▶ 251 fit, 63 valid
//! ```
//!
//! Why the statistics come from the training cars only: the test cars stand for cars the
//! model has never seen. Their mean would leak a little of them into training, and a
//! reloaded model must normalise a new car with the very numbers it was trained with, so
//! they are saved beside the weights (`normalisation.json`).

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use shared::auto_mpg::{self, Car, FEATURE_NAMES, Missing, Standardizer};
use shared::train::Batcher;

use crate::split::{self, Split};

/// The share of the cars used for training (the rest is the test set).
pub const TRAIN_FRACTION: f64 = 0.8;

/// The data of a run, split and normalised.
pub struct Prepared {
    /// Cars in the file.
    pub read: usize,
    /// The cars left out because their horsepower is unknown (`?`).
    pub dropped: Vec<Car>,
    /// What the weights are fitted on (80% of the 80%).
    pub train: Vec<Car>,
    /// Held out from training to watch for overfitting and to stop early.
    pub valid: Vec<Car>,
    /// Used once, at the end.
    pub test: Vec<Car>,
    pub normalisation: Normalisation,
}

/// Splits and normalises the cars as the tutorial does: `split` chooses the 80/20
/// train/test split ([`Split::Tutorial`]: the tutorial's own, car for car); `validation_split`
/// of the training cars (the last ones, as Keras's `fit(validation_split=…)` takes them) are
/// held out for validation.
pub fn prepare(cars: Vec<Car>, split: Split, validation_split: f64) -> Result<Prepared> {
    if !(0.0..1.0).contains(&validation_split) {
        bail!("the validation split must be at least 0 and below 1, not {validation_split}");
    }
    let read = cars.len();
    let dropped: Vec<Car> = cars
        .iter()
        .filter(|c| c.horsepower.is_none())
        .cloned()
        .collect();
    let known = auto_mpg::handle_missing(&cars, Missing::Drop);
    let (mut train, test) = match split {
        // The training cars in the order pandas' `sample` returns them, the test cars in
        // file order: `train_dataset` and `dataset.drop(train_dataset.index)`.
        Split::Tutorial => {
            let (train, test) =
                split::pandas_sample(known.len(), TRAIN_FRACTION, split::TUTORIAL_RANDOM_STATE);
            let pick = |positions: &[usize]| -> Vec<Car> {
                positions.iter().map(|&i| known[i].clone()).collect()
            };
            (pick(&train), pick(&test))
        }
        Split::Seeded(seed) => auto_mpg::split(&known, TRAIN_FRACTION, seed),
    };
    // The statistics of all training cars, before the validation cars are set aside: the
    // tutorial computes them on `train_dataset`, and Keras splits off validation later.
    let normalisation = Normalisation::fit(&train);
    // Keras: `split_at = floor(n * (1 - validation_split))`; the cars after it validate.
    let split_at = (train.len() as f64 * (1.0 - validation_split)).floor() as usize;
    let valid = train.split_off(split_at);
    if train.is_empty() || valid.is_empty() || test.is_empty() {
        bail!(
            "too few cars to train, validate and test ({} train, {} valid, {} test)",
            train.len(),
            valid.len(),
            test.len()
        );
    }
    Ok(Prepared {
        read,
        dropped,
        train,
        valid,
        test,
        normalisation,
    })
}

impl Prepared {
    /// `392 cars (6 of 398 dropped): 251 train, 63 valid, 78 test`.
    pub fn describe(&self) -> String {
        format!(
            "{} cars ({} of {} dropped): {} train, {} valid, {} test",
            self.read - self.dropped.len(),
            self.dropped.len(),
            self.read,
            self.train.len(),
            self.valid.len(),
            self.test.len()
        )
    }

    /// Every car with the set it went to (`train`, `valid`, `test`), as a CSV with the
    /// file's own values: the Keras script (`bench/keras_mpg.py`) reads the same split, and
    /// `--evaluate` the same test cars.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from(
            "set,mpg,cylinders,displacement,horsepower,weight,acceleration,model_year,origin,name\n",
        );
        for (set, cars) in [
            ("train", &self.train),
            ("valid", &self.valid),
            ("test", &self.test),
        ] {
            for c in cars.iter() {
                csv += &format!(
                    "{set},{},{},{},{},{},{},{},{},\"{}\"\n",
                    c.mpg,
                    c.cylinders,
                    c.displacement,
                    c.horsepower.unwrap_or(f32::NAN),
                    c.weight,
                    c.acceleration,
                    c.model_year,
                    c.origin,
                    c.name.replace('"', "'"),
                );
            }
        }
        csv
    }
}

/// Reads back the cars of one set (`test`, …) from a run's `cars.csv`.
pub fn read_split(path: &Path, set: &str) -> Result<Vec<Car>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut cars = Vec::new();
    for (number, line) in text.lines().enumerate().skip(1) {
        let (values, name) = line.split_once(",\"").unwrap_or((line, ""));
        let fields: Vec<&str> = values.split(',').collect();
        if fields.len() != 9 {
            bail!(
                "{} line {}: expected 10 columns",
                path.display(),
                number + 1
            );
        }
        if fields[0] != set {
            continue;
        }
        let value = |i: usize| -> Result<f32> {
            fields[i]
                .parse()
                .with_context(|| format!("{} line {}: `{}`", path.display(), number + 1, fields[i]))
        };
        cars.push(Car {
            mpg: value(1)?,
            cylinders: value(2)?,
            displacement: value(3)?,
            horsepower: Some(value(4)?),
            weight: value(5)?,
            acceleration: value(6)?,
            model_year: value(7)?,
            origin: value(8)? as u8,
            name: name.trim_end_matches('"').to_string(),
        });
    }
    Ok(cars)
}

/// The z-score of each feature: `(x - mean) / std`, with the training cars' statistics,
/// saved with the model as `normalisation.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    /// The feature names, in column order ([`FEATURE_NAMES`]).
    pub features: Vec<String>,
    pub mean: Vec<f32>,
    /// Sample standard deviations (n - 1), as pandas' `describe()` in the tutorial.
    pub std: Vec<f32>,
    /// How many cars the statistics come from.
    pub cars: usize,
}

impl Normalisation {
    /// The statistics of these cars' features.
    pub fn fit(cars: &[Car]) -> Normalisation {
        let rows: Vec<[f32; 9]> = cars.iter().map(auto_mpg::features).collect();
        let Standardizer { mean, std } = Standardizer::fit(&rows);
        Normalisation {
            features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
            mean,
            std,
            cars: cars.len(),
        }
    }

    /// A car's raw features (cylinders, …, Japan) → its z-scores.
    pub fn apply(&self, raw: &[f32; 9]) -> [f32; 9] {
        std::array::from_fn(|i| (raw[i] - self.mean[i]) / self.std[i])
    }

    /// The table the run prints: one line per feature.
    pub fn table(&self) -> String {
        let mut text = format!("{:<14} {:>10} {:>10}\n", "feature", "mean", "std");
        for ((name, mean), std) in self.features.iter().zip(&self.mean).zip(&self.std) {
            text += &format!("{name:<14} {mean:>10.3} {std:>10.3}\n");
        }
        text
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        shared::run::write_atomic(path, serde_json::to_string_pretty(self)?.as_bytes())
    }

    /// Reads `normalisation.json`, refusing one whose features are not this lab's.
    pub fn load(path: &Path) -> Result<Normalisation> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let n: Normalisation = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a normalisation file", path.display()))?;
        if n.features != FEATURE_NAMES || n.mean.len() != 9 || n.std.len() != 9 {
            bail!(
                "{} does not describe the 9 features {FEATURE_NAMES:?}",
                path.display()
            );
        }
        Ok(n)
    }
}

/// Normalised feature rows and their MPG, ready to be cut into batches.
pub struct MpgBatcher {
    pub features: Vec<[f32; 9]>,
    pub mpg: Vec<f32>,
}

/// A batch: features `[batch, 9]` and the true MPG `[batch, 1]`.
#[derive(Debug, Clone)]
pub struct MpgBatch {
    pub features: Tensor<2>,
    pub mpg: Tensor<2>,
}

impl MpgBatcher {
    pub fn new(cars: &[Car], normalisation: &Normalisation) -> MpgBatcher {
        MpgBatcher {
            features: cars
                .iter()
                .map(|c| normalisation.apply(&auto_mpg::features(c)))
                .collect(),
            mpg: cars.iter().map(|c| c.mpg).collect(),
        }
    }
}

impl Batcher<MpgBatch> for MpgBatcher {
    fn len(&self) -> usize {
        self.mpg.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> MpgBatch {
        let n = indices.len();
        let features: Vec<f32> = indices.iter().flat_map(|&i| self.features[i]).collect();
        let mpg: Vec<f32> = indices.iter().map(|&i| self.mpg[i]).collect();
        MpgBatch {
            features: Tensor::from_data(TensorData::new(features, [n, 9]), device), // [n, 9]
            mpg: Tensor::from_data(TensorData::new(mpg, [n, 1]), device),           // [n, 1]
        }
    }
}

/// A car to predict, as a student types it: its raw features, and a name and true MPG if
/// given.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCar {
    /// cylinders, displacement, horsepower, weight, acceleration, model year, USA, Europe,
    /// Japan (not yet normalised).
    pub features: [f32; 9],
    pub name: Option<String>,
    pub mpg: Option<f32>,
}

/// The fields a new car needs, as they are typed.
pub const CAR_FIELDS: [&str; 7] = [
    "cylinders",
    "displacement",
    "horsepower",
    "weight",
    "acceleration",
    "model_year",
    "origin",
];

/// `cylinders=4,displacement=120,horsepower=95,weight=2400,acceleration=15,model_year=76,
/// origin=Japan`: a car from `name=value` pairs. Refuses a missing, repeated, unknown or
/// non-numeric field and an origin other than USA, Europe, Japan (or 1, 2, 3), by name.
pub fn parse_car(text: &str) -> Result<NewCar> {
    let pairs = text
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').with_context(|| {
                format!("`{}` is not name=value (e.g. cylinders=4)", pair.trim())
            })?;
            Ok((key.trim().to_string(), value.trim().to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    car_from_pairs(&pairs)
}

/// A car from its `(field, value)` pairs, in any order (see [`parse_car`]).
pub fn car_from_pairs(pairs: &[(String, String)]) -> Result<NewCar> {
    let mut values: [Option<&str>; 7] = [None; 7];
    let (mut name, mut mpg) = (None, None);
    for (key, value) in pairs {
        let key_name = key.to_lowercase().replace([' ', '-'], "_");
        match key_name.as_str() {
            "name" => name = Some(value.trim_matches('"').to_string()),
            "mpg" if value.is_empty() => {}
            "mpg" => mpg = Some(number("mpg", value)?),
            _ => {
                let Some(i) = CAR_FIELDS.iter().position(|f| *f == key_name) else {
                    bail!(
                        "unknown field `{key}`: a car has {} (and optionally name, mpg)",
                        CAR_FIELDS.join(", ")
                    );
                };
                if values[i].replace(value).is_some() {
                    bail!("the field {} is given twice", CAR_FIELDS[i]);
                }
            }
        }
    }
    let mut raw = [0f32; 6];
    for (i, slot) in raw.iter_mut().enumerate() {
        let value = values[i].with_context(|| format!("the field {} is missing", CAR_FIELDS[i]))?;
        *slot = number(CAR_FIELDS[i], value)?;
    }
    let origin = values[6].context("the field origin is missing")?;
    let origin = match origin.to_lowercase().as_str() {
        "usa" | "1" => 1,
        "europe" | "2" => 2,
        "japan" | "3" => 3,
        _ => bail!("unknown origin `{origin}`: use USA, Europe or Japan (or 1, 2, 3)"),
    };
    let car = Car {
        mpg: 0.0,
        cylinders: raw[0],
        displacement: raw[1],
        horsepower: Some(raw[2]),
        weight: raw[3],
        acceleration: raw[4],
        model_year: raw[5],
        origin,
        name: String::new(),
    };
    Ok(NewCar {
        features: auto_mpg::features(&car),
        name,
        mpg,
    })
}

fn number(field: &str, value: &str) -> Result<f32> {
    match value.parse::<f32>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => bail!("the field {field} is `{value}`, not a number"),
    }
}

/// Cars from a CSV file: a header with the field names (any order; `name` and `mpg` may be
/// there too), then one car per line.
pub fn read_cars_csv(path: &Path) -> Result<Vec<NewCar>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines
        .next()
        .with_context(|| format!("{} is empty: it needs a header line", path.display()))?;
    let names: Vec<String> = split_csv(header)
        .into_iter()
        .map(|s| s.to_string())
        .collect();
    let mut cars = Vec::new();
    for (number, line) in lines {
        let fields = split_csv(line);
        if fields.len() != names.len() {
            bail!(
                "{} line {}: {} values for {} columns",
                path.display(),
                number + 1,
                fields.len(),
                names.len()
            );
        }
        let pairs: Vec<(String, String)> = names
            .iter()
            .cloned()
            .zip(fields.into_iter().map(|s| s.to_string()))
            .collect();
        cars.push(
            car_from_pairs(&pairs)
                .with_context(|| format!("{} line {}", path.display(), number + 1))?,
        );
    }
    if cars.is_empty() {
        bail!("{} has a header but no car", path.display());
    }
    Ok(cars)
}

/// Commas outside double quotes separate the fields.
fn split_csv(line: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                fields.push(line[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    fields.push(line[start..].trim());
    fields
}
