//! The lab, in the order of the lecture: save the architecture (JSON, YAML) and rebuild it,
//! train with a checkpoint after every epoch, save the weights (Keras HDF5, burnpack,
//! safetensors), and load each file back into a model rebuilt from the YAML.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Result, bail};
use burn::prelude::*;
use shared::batchers::MnistBatcher;
use shared::cli::CommonArgs;
use shared::images::ImageSet;
use shared::lab::{DataChoice, Lab, OptimizerConfig};
use shared::plot;
use shared::report::{model_summary, thousands};
use shared::run::RunDir;
use shared::train::{self, Batcher, ClassPrediction, FitConfig, History, Metric, ModelCheckpoint};

use crate::architecture::{LayerConfig, LayerShape, SequentialConfig};
use crate::formats::{self, WeightFormat};
use crate::keras_h5;
use crate::model::Sequential;

shared::lab_config! {
    /// Lab 3 and its defaults (epochs, batch, learning rate). The lesson is saving and
    /// loading, so training stays short: well under a minute on the sample.
    const LAB = Lab::new("save-load", "Lab 3")
        .sample(10, 64, 1e-3).full(5, 64, 1e-3).quick(2, 64, 1e-3);
    /// Everything that defines a run; saved as `config.json` in the run folder.
    pub struct LabConfig {
        /// The network, as a list of layers (also saved on its own as architecture.json/.yaml).
        pub architecture: SequentialConfig,
        /// Keras weights to start from instead of random ones (`--load-h5`).
        pub initial_weights: Option<PathBuf>,
    }
}

/// Per-epoch learning-rate decay, as in lab 1.
pub const LR_DECAY: f64 = 0.8;

/// Where the per-epoch weight files go (Keras: `ModelCheckpoint("weights-{epoch:02d}.h5")`).
pub const EPOCH_WEIGHTS_DIR: &str = "epochs";

/// What the lab's own options add to the common ones.
#[derive(Debug, Clone, Default)]
pub struct LabOptions {
    /// Build this architecture (a .json or .yaml file) instead of LeNet-5.
    pub architecture: Option<PathBuf>,
    /// Start from these Keras weights.
    pub load_h5: Option<PathBuf>,
}

/// One weight format's round trip.
#[derive(Debug, Clone)]
pub struct RoundTrip {
    pub format: &'static str,
    pub file: String,
    pub bytes: u64,
    pub save_ms: f64,
    pub load_ms: f64,
    /// Largest |difference| between the test predictions before and after.
    pub max_prediction_difference: f32,
}

/// What a run produced, for the caller (and the tests).
pub struct Outcome {
    pub run: RunDir,
    pub history: History,
    pub model: Sequential,
    pub test_accuracy: f64,
    /// Test accuracy of the `--load-h5` weights before any training.
    pub initial_accuracy: Option<f64>,
    pub round_trips: Vec<RoundTrip>,
}

impl LabConfig {
    pub fn of(data: DataChoice, fit: FitConfig, options: &LabOptions) -> Result<LabConfig> {
        let architecture = match &options.architecture {
            Some(path) => SequentialConfig::read(path)?,
            None => SequentialConfig::lenet5(),
        };
        Ok(LabConfig::new(
            data,
            fit.with_lr_decay(LR_DECAY),
            OptimizerConfig::adam(),
            architecture,
        )
        .with_initial_weights(options.load_h5.clone()))
    }
}

/// The architecture must read MNIST digits and give ten class scores.
fn check_fits_mnist(architecture: &SequentialConfig, batch_size: usize) -> Result<()> {
    let shapes = architecture.validate()?;
    architecture.check_memory(batch_size)?;
    if architecture.input_shape != [1, 28, 28] {
        bail!(
            "the architecture expects inputs of {:?}, MNIST digits are [1, 28, 28] \
             (channels, height, width)",
            architecture.input_shape
        );
    }
    match shapes.last() {
        Some(LayerShape::Flat(10)) => Ok(()),
        Some(shape) => bail!(
            "the last layer ({}) gives {shape} values, MNIST needs 10 class scores",
            architecture
                .layers
                .last()
                .map(LayerConfig::name)
                .unwrap_or("?")
        ),
        None => bail!("the architecture has no layers"),
    }
}

pub fn run(args: &CommonArgs, options: &LabOptions) -> Result<Outcome> {
    // Check the lab's own inputs before a run folder is made for them: the architecture
    // must fit MNIST (and the memory), and Keras weights must fit the architecture.
    let (data, fit) = LAB.settings(args)?;
    let fresh = LabConfig::of(data, fit, options)?;
    check_fits_mnist(&fresh.architecture, fresh.fit.batch_size)?;
    if let (None, Some(path)) = (&args.resume, &options.load_h5) {
        keras_h5::load(&fresh.architecture.init(&Device::flex())?, path)?;
    }
    let session = LAB.start(args, |_, _| Ok(fresh))?;
    let config = &session.config;
    let device = &session.device;
    let run = &session.run;

    // 1. Data.
    println!("MNIST: {}", session.source().describe());
    let data = shared::mnist::load_splits(&config.data, config.fit.seed)?;
    println!("  {}", data.describe());
    let test = &data.test;
    let test_batcher = MnistBatcher::new(test.clone());

    // 2. The architecture as JSON and YAML, and the model rebuilt from each.
    let architecture = &config.architecture;
    println!("\n── 1. The architecture as data ──");
    let json_path = run.file("architecture.json");
    let yaml_path = run.file("architecture.yaml");
    run.write_text("architecture.json", &architecture.to_json())?;
    run.write_text("architecture.yaml", &architecture.to_yaml())?;
    let from_json = SequentialConfig::read(&json_path)?;
    let from_yaml = SequentialConfig::read(&yaml_path)?;
    device.seed(config.fit.seed);
    let model = architecture.init(device)?;
    let rebuilt_json = from_json.init(device)?;
    let rebuilt_yaml = from_yaml.init(device)?;
    let same = |other: &Sequential| {
        other.config == model.config
            && other.summary() == model.summary()
            && other.num_params() == model.num_params()
    };
    anyhow::ensure!(
        same(&rebuilt_json) && same(&rebuilt_yaml),
        "the architecture read back from JSON or YAML differs from the one written"
    );
    println!("{}", architecture.to_yaml().trim_end());
    println!(
        "wrote architecture.json ({} bytes) and architecture.yaml ({} bytes); rebuilt a model \
         from each: the same {} layers and {} parameters (only the random weights differ)",
        file_size(&json_path),
        file_size(&yaml_path),
        architecture.layers.len(),
        thousands(rebuilt_yaml.num_params())
    );
    println!(
        "\n{}",
        model_summary(
            &format!("{} (built from architecture.yaml)", architecture.name),
            &rebuilt_yaml.summary()
        )
    );

    // 3. Optionally, weights a Keras user saved.
    let mut initial_accuracy = None;
    let mut model = from_yaml.init(&session.train_device())?;
    if let (Some(path), false) = (&config.initial_weights, session.resumed) {
        println!("── Keras weights: {} ──", path.display());
        let file = keras_h5::read(path)?;
        println!("{:?} layout:", file.layout);
        print!("{}", keras_h5::describe(&file.layers));
        model = keras_h5::load(&model, path)?;
        let evaluation = train::evaluate(&model.valid(), &test_batcher, 500, device);
        println!(
            "loaded; test accuracy before any training: {:.2}% (loss {:.4})\n",
            100.0 * evaluation.get(Metric::Accuracy),
            evaluation.loss()
        );
        initial_accuracy = Some(evaluation.get(Metric::Accuracy));
    }

    // 4. Training, saving the weights after every epoch.
    println!("── 2. Training with a checkpoint after every epoch ──");
    println!(
        "after each epoch: checkpoint/ (model, optimiser, history: what --resume needs) and \
         {EPOCH_WEIGHTS_DIR}/weights-NN.h5 (Keras layout)"
    );
    let epochs_dir = run.file(EPOCH_WEIGHTS_DIR);
    let mut keras_checkpoint = ModelCheckpoint::every_epoch(move |epoch| {
        epochs_dir.join(format!("weights-{epoch:02}.h5"))
    })
    .with_writer(|model: &Sequential, path| Ok(keras_h5::save(&model.valid(), path)?));
    let fitted = train::fit(
        session.training(model, &config.optimizer)?,
        &MnistBatcher::new(data.train),
        &MnistBatcher::new(data.valid),
        &config.fit,
        &mut [&mut keras_checkpoint],
    )?;
    let mut summary = session.finish(&fitted, &format!("{} on MNIST", config.architecture.name))?;
    let model = fitted.model.valid();
    let evaluation = train::evaluate(&model, &test_batcher, 500, device);
    println!("test: {}", evaluation.describe());

    // 5. The weights in three formats, each loaded back into a model rebuilt from the YAML.
    println!("\n── 3. Saving the weights, and loading them into a model rebuilt from YAML ──");
    let test_images = test_batcher
        .batch(&(0..test.len().min(1000)).collect::<Vec<_>>(), device)
        .images;
    let reference = shared::floats(model.predict(test_images.clone()));
    let mut round_trips = Vec::new();
    for format in WeightFormat::ALL {
        let file = format.file();
        let path = run.file(file);
        let started = Instant::now();
        format.save(&model, &path)?;
        let save_ms = started.elapsed().as_secs_f64() * 1e3;
        // A new model from the YAML file, with fresh random weights, then the file's weights.
        let blank = SequentialConfig::read(&yaml_path)?.init(device)?;
        let started = Instant::now();
        let loaded = format.load(&blank, &path)?;
        let load_ms = started.elapsed().as_secs_f64() * 1e3;
        formats::compare(&model, &loaded).map_err(|difference| {
            anyhow::anyhow!("{file} did not give back the saved weights: {difference}")
        })?;
        let predictions = shared::floats(loaded.predict(test_images.clone()));
        let max_prediction_difference = reference
            .iter()
            .zip(&predictions)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        round_trips.push(RoundTrip {
            format: format.name(),
            file: file.into(),
            bytes: file_size(&path),
            save_ms,
            load_ms,
            max_prediction_difference,
        });
    }
    println!(
        "  {:<12} {:<18} {:>9} {:>8} {:>8}  weights    on the test digits",
        "format", "file", "bytes", "save ms", "load ms"
    );
    for r in &round_trips {
        println!(
            "  {:<12} {:<18} {:>9} {:>8.1} {:>8.1}  bit-exact  {}",
            r.format,
            r.file,
            thousands(r.bytes as usize),
            r.save_ms,
            r.load_ms,
            difference(r.max_prediction_difference)
        );
    }
    println!(
        "\nweights.h5 as Keras sees it (h5py: f.attrs['layer_names'], f['conv2d']['conv2d']['kernel:0']):"
    );
    print!("{}", keras_h5::describe(&keras_h5::keras_layers(&model)));

    // 6. What a mismatch looks like: the same file into another architecture.
    if let Some(other) = different_architecture(architecture) {
        let blank = other.init(device)?;
        if let Err(error) = keras_h5::load(&blank, &run.file("weights.h5")) {
            println!("\nloading weights.h5 into a model whose first convolution has 3x3 filters:");
            println!("  error: {error}");
            println!("  (the model in memory is left as it was)");
        }
    }

    // 7. Plots and summary.
    plot_predictions(&run.file("predictions.png"), test, &model, device)?;
    summary.row(
        "architecture",
        format!(
            "{}, {} layers; rebuilt the same from JSON and YAML",
            architecture.name,
            architecture.layers.len(),
        ),
    );
    if let (Some(path), Some(accuracy)) = (&config.initial_weights, initial_accuracy) {
        summary.row(
            "Keras weights",
            format!(
                "{}: test accuracy {:.2}% before training",
                path.display(),
                100.0 * accuracy
            ),
        );
    }
    summary.row(
        "test",
        format!(
            "{} ({} images)",
            evaluation.describe(),
            thousands(test.len())
        ),
    );
    for r in &round_trips {
        summary.row(
            r.format,
            format!(
                "{} ({} bytes): weights bit-exact, {}",
                r.file,
                thousands(r.bytes as usize),
                difference(r.max_prediction_difference)
            ),
        );
    }
    summary.row(
        "checkpoints",
        "epochs/weights-NN.h5, checkpoint/ (for --resume)",
    );
    session.close(&mut summary)?;

    Ok(Outcome {
        run: run.clone(),
        history: fitted.history,
        model,
        test_accuracy: evaluation.get(Metric::Accuracy),
        initial_accuracy,
        round_trips,
    })
}

/// The architecture with its first convolution's kernel changed to 3x3 (kept `same`), to
/// show what loading weights into the wrong architecture says.
pub fn different_architecture(architecture: &SequentialConfig) -> Option<SequentialConfig> {
    let mut other = architecture.clone();
    let conv = other.layers.iter_mut().find_map(|l| match l {
        LayerConfig::Conv2D {
            kernel_size,
            padding,
            ..
        } => Some((kernel_size, padding)),
        _ => None,
    })?;
    if *conv.0 == [3, 3] {
        return None;
    }
    *conv.0 = [3, 3];
    *conv.1 = crate::architecture::Padding::Same;
    other.validate().ok()?;
    Some(other)
}

/// `predictions identical`, or the largest difference.
fn difference(max: f32) -> String {
    if max == 0.0 {
        "predictions identical".into()
    } else {
        format!("predictions differ by up to {max:.1e}")
    }
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The first test digits with the reloaded model's predictions.
fn plot_predictions(
    path: &Path,
    test: &ImageSet,
    model: &Sequential,
    device: &Device,
) -> Result<()> {
    let count = test.len().min(24);
    let batcher = MnistBatcher::new(test.take(count));
    let predictions = train::predict_classes(model, &batcher, count, device)?;
    let shown: Vec<&ClassPrediction> = predictions.iter().collect();
    plot::plot_predictions(
        path,
        test,
        &shown,
        |class| class.to_string(),
        8,
        "Test digits, predicted by the model as saved: true → predicted",
    )
}
