//! Reloading: a fresh process rebuilds the model from a run folder and uses it.
//!
//! ```text
//! <run>/config.json                   the model's settings → an untrained MpgModel
//! <run>/early-stopping/best.bpk       the best-only checkpoint → its weights
//! <run>/normalisation.json            the training cars' means and stds → new cars scaled alike
//! <run>/cars.csv                      the test cars, for --evaluate
//! ```
//!
//! Weights alone are not enough: a model trained on z-scores fed raw horsepower (100 rather
//! than 0.1) predicts nonsense, silently. So the statistics travel with the weights.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::config::Config;
use burn::module::Module;
use burn::prelude::*;
use shared::train::{self, Batcher, Metric};

use crate::data::{self, MpgBatcher, NewCar, Normalisation};
use crate::model::MpgModel;
use crate::training::{EARLY_STOPPING, EVAL_BATCH, LAB, LabConfig};

/// A trained model back in memory, with what it needs to read new cars.
pub struct Reloaded {
    pub run: PathBuf,
    pub config: LabConfig,
    pub normalisation: Normalisation,
    pub model: MpgModel,
    /// The file the weights came from.
    pub weights: PathBuf,
}

/// The newest finished run (one with `results.json`) under `<out>/mpg-earlystop/`.
pub fn newest_run(out: &Path) -> Result<PathBuf> {
    let dir = out.join(LAB.name);
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| {
            format!(
                "no runs in {} (train one first, or pass --run)",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("results.json").exists())
        .collect();
    runs.sort();
    runs.pop().with_context(|| {
        format!(
            "no finished run in {} (train one first, or pass --run)",
            dir.display()
        )
    })
}

/// Loads the early-stopping checkpoint of `run` with its config and normalisation.
pub fn reload(run: &Path, device: &Device) -> Result<Reloaded> {
    let config_file = run.join("config.json");
    if !config_file.exists() {
        bail!(
            "{} is not a run folder of {} (it has no config.json); pass a folder under runs/{}/",
            run.display(),
            LAB.name,
            LAB.name
        );
    }
    let config = LabConfig::load(&config_file).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a run of {} (its config.json does not fit this lab: {e}); pass a \
             folder under runs/{}/",
            run.display(),
            LAB.name,
            LAB.name
        )
    })?;
    let normalisation = Normalisation::load(&run.join("normalisation.json"))?;
    let weights = run.join(EARLY_STOPPING).join("best.bpk");
    if !weights.exists() {
        bail!(
            "{} has no {EARLY_STOPPING}/best.bpk: the run did not train part 2 (or was \
             interrupted before its first epoch)",
            run.display()
        );
    }
    let model = config
        .model
        .init(device)
        .try_load_file(&weights)
        .with_context(|| format!("loading {}", weights.display()))?;
    Ok(Reloaded {
        run: run.to_path_buf(),
        config,
        normalisation,
        model,
        weights,
    })
}

/// What `--evaluate` found.
pub struct Evaluated {
    pub test_mae: f64,
    /// Test cars whose prediction differs (in any bit) from the one saved in training.
    pub differing: usize,
    pub cars: usize,
}

/// `--evaluate`: the test MAE of the reloaded model, and its predictions against those the
/// training process saved.
pub fn evaluate(reloaded: &Reloaded, device: &Device) -> Result<Evaluated> {
    let test = data::read_split(&reloaded.run.join("cars.csv"), "test")?;
    let batcher = MpgBatcher::new(&test, &reloaded.normalisation);
    let evaluation = train::evaluate(&reloaded.model, &batcher, EVAL_BATCH, device);
    let predictions = crate::training::test_predictions(&reloaded.model, &batcher, device);
    let saved_file = reloaded
        .run
        .join(EARLY_STOPPING)
        .join("test_predictions.csv");
    let saved = std::fs::read_to_string(&saved_file)
        .with_context(|| format!("reading {}", saved_file.display()))?;
    let saved: Vec<&str> = saved
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap_or(""))
        .collect();
    let differing = predictions
        .iter()
        .zip(&saved)
        .filter(|((_, p), s)| p.to_string() != **s)
        .count()
        + saved.len().abs_diff(predictions.len());
    Ok(Evaluated {
        test_mae: evaluation.get(Metric::Mae),
        differing,
        cars: test.len(),
    })
}

/// `--predict`: the MPG the reloaded model predicts for each car.
pub fn predict(reloaded: &Reloaded, cars: &[NewCar], device: &Device) -> Vec<f32> {
    let batcher = MpgBatcher {
        features: cars
            .iter()
            .map(|c| reloaded.normalisation.apply(&c.features))
            .collect(),
        mpg: cars.iter().map(|c| c.mpg.unwrap_or(0.0)).collect(),
    };
    let indices: Vec<usize> = (0..cars.len()).collect();
    let batch = batcher.batch(&indices, device);
    shared::floats(reloaded.model.forward(batch.features)) // [cars, 1] → one value each
}

/// `--run DIR --evaluate`, printed.
pub fn print_evaluation(run: &Path, device: &Device) -> Result<()> {
    let reloaded = reload(run, device)?;
    println!(
        "reloaded {} (normalisation.json: statistics of {} training cars)",
        reloaded.weights.display(),
        reloaded.normalisation.cars
    );
    let evaluated = evaluate(&reloaded, device)?;
    println!(
        "{} on {} test cars",
        crate::training::exact_line(evaluated.test_mae),
        evaluated.cars
    );
    if evaluated.differing == 0 {
        println!("predictions: bit-identical to those saved in training");
        Ok(())
    } else {
        bail!(
            "{} of {} test predictions differ from early-stopping/test_predictions.csv",
            evaluated.differing,
            evaluated.cars
        )
    }
}

/// `--predict TEXT` / `--predict-file CSV`, printed: one line per car.
pub fn print_predictions(run: &Path, cars: &[NewCar], device: &Device) -> Result<()> {
    let reloaded = reload(run, device)?;
    println!("reloaded {}", reloaded.weights.display());
    for (i, (car, mpg)) in cars
        .iter()
        .zip(predict(&reloaded, cars, device))
        .enumerate()
    {
        let name = car.name.clone().unwrap_or_else(|| format!("car {}", i + 1));
        let truth = car.mpg.map_or(String::new(), |t| format!(" (true {t})"));
        println!("{name}: predicted {mpg:.1} MPG{truth}");
    }
    Ok(())
}
