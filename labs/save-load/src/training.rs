//! The lab, in the order of the lecture: save the architecture (JSON, YAML) and rebuild it,
//! train with a checkpoint after every epoch, save the weights (Keras HDF5, burnpack,
//! safetensors), and load each file back into a model rebuilt from the YAML.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::optim::AdamConfig;
use burn::prelude::*;
use shared::cli::{CommonArgs, Defaults};
use shared::datasets::DataSource;
use shared::download::Downloader;
use shared::images::ImageSet;
use shared::mnist::MnistBatcher;
use shared::plot::{self, GridImage};
use shared::report::{Summary, model_summary, thousands};
use shared::run::RunDir;
use shared::train::{self, Batcher, EpochRecord, FitConfig, History};

use crate::architecture::{LayerConfig, LayerShape, SequentialConfig};
use crate::formats::{self, WeightFormat};
use crate::keras_h5;
use crate::model::Sequential;

/// Everything that defines a run; saved as `config.json` in the run folder.
#[derive(Config, Debug)]
pub struct LabConfig {
    /// The network, as a list of layers (also saved on its own as architecture.json/.yaml).
    pub architecture: SequentialConfig,
    /// Keras weights to start from instead of random ones (`--load-h5`).
    pub initial_weights: Option<PathBuf>,
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    #[config(default = 0.8)]
    pub lr_decay: f64,
    pub seed: u64,
    #[config(default = 0.1)]
    pub validation_split: f64,
    /// `sample`, `full` or `quick`.
    pub mode: String,
    pub data_dir: Option<PathBuf>,
}

/// The lesson is saving and loading, so training stays short: well under a minute on the
/// sample.
pub const SAMPLE: Defaults = Defaults {
    epochs: 10,
    batch_size: 64,
    lr: 1e-3,
};
pub const FULL: Defaults = Defaults {
    epochs: 5,
    batch_size: 64,
    lr: 1e-3,
};
pub const QUICK: Defaults = Defaults {
    epochs: 2,
    batch_size: 64,
    lr: 1e-3,
};

const QUICK_TRAIN: usize = 1000;
const QUICK_TEST: usize = 300;
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
    pub fn from_args(args: &CommonArgs, options: &LabOptions) -> Result<LabConfig> {
        let architecture = match &options.architecture {
            Some(path) => SequentialConfig::read(path)?,
            None => SequentialConfig::lenet5(),
        };
        let hyper = args.hyper(SAMPLE, FULL, QUICK);
        Ok(LabConfig::new(
            architecture,
            hyper.epochs,
            hyper.batch_size,
            hyper.lr,
            args.seed,
            args.mode().name().into(),
        )
        .with_initial_weights(options.load_h5.clone())
        .with_data_dir(args.source().data_dir()))
    }

    fn source(&self) -> DataSource {
        DataSource::saved(&self.mode, self.data_dir.as_deref())
    }
}

/// The architecture must read MNIST digits and give ten class scores.
fn check_fits_mnist(architecture: &SequentialConfig) -> Result<()> {
    let shapes = architecture.validate()?;
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
    let device = shared::device::select(args.device)?;
    // Check the lab's own inputs before a run folder is made for them: the architecture
    // must fit MNIST, and Keras weights must fit the architecture.
    let fresh = LabConfig::from_args(args, options)?;
    check_fits_mnist(&fresh.architecture)?;
    if let (None, Some(path)) = (&args.resume, &options.load_h5) {
        keras_h5::load(&fresh.architecture.init(&device)?, path)?;
    }
    let (run, config) = shared::run::start(args, "save-load", || fresh, |c| &mut c.epochs)?;

    // 1. Data.
    let source = config.source();
    println!("MNIST: {}", source.describe());
    let mnist = shared::mnist::load(&source, &Downloader::default())?;
    let (train_all, test) = if config.mode == "quick" {
        (mnist.train.take(QUICK_TRAIN), mnist.test.take(QUICK_TEST))
    } else {
        (mnist.train, mnist.test)
    };
    let (train_set, valid_set) = train_all.split(config.validation_split, config.seed);
    println!(
        "  {} training, {} validation, {} test images",
        thousands(train_set.len()),
        thousands(valid_set.len()),
        thousands(test.len())
    );
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
    device.seed(config.seed);
    let model = architecture.init(&device)?;
    let rebuilt_json = from_json.init(&device)?;
    let rebuilt_yaml = from_yaml.init(&device)?;
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
    let train_device = device.clone().autodiff();
    let mut initial_accuracy = None;
    let mut model = from_yaml.init(&train_device)?;
    if let (Some(path), None) = (&config.initial_weights, &args.resume) {
        println!("── Keras weights: {} ──", path.display());
        let file = keras_h5::read(path)?;
        println!("{:?} layout:", file.layout);
        print!("{}", keras_h5::describe(&file.layers));
        model = keras_h5::load(&model, path)?;
        let evaluation = train::evaluate(&model.valid(), &test_batcher, 500, &device);
        println!(
            "loaded; test accuracy before any training: {:.2}% (loss {:.4})\n",
            100.0 * evaluation.metric,
            evaluation.loss
        );
        initial_accuracy = Some(evaluation.metric);
    }

    // 4. Training, saving the weights after every epoch.
    println!("── 2. Training with a checkpoint after every epoch ──");
    println!(
        "training on {} for {} epochs, batch {}, Adam lr {} x{} per epoch",
        shared::device::describe(args.device),
        config.epochs,
        config.batch_size,
        config.lr,
        config.lr_decay
    );
    println!(
        "after each epoch: checkpoint/ (model, optimiser, history: what --resume needs) and \
         {EPOCH_WEIGHTS_DIR}/weights-NN.h5 (Keras layout)"
    );
    let optimizer = AdamConfig::new().init();
    let (model, optimizer, history) = match &args.resume {
        Some(path) => train::resume(path, model, optimizer)?,
        None => (model, optimizer, History::default()),
    };
    let fit_config = FitConfig {
        epochs: config.epochs,
        batch_size: config.batch_size,
        lr: config.lr,
        lr_decay: config.lr_decay,
        seed: config.seed,
        early_stopping: None,
    };
    let epochs_dir = run.file(EPOCH_WEIGHTS_DIR);
    std::fs::create_dir_all(&epochs_dir)
        .with_context(|| format!("creating {}", epochs_dir.display()))?;
    let mut save_epoch = |model: &Sequential, record: &EpochRecord| -> Result<()> {
        let path = epochs_dir.join(format!("weights-{:02}.h5", record.epoch));
        keras_h5::save(&model.valid(), &path)?;
        Ok(())
    };
    let started = Instant::now();
    let fitted = train::fit_observed(
        model,
        optimizer,
        &MnistBatcher::new(train_set),
        &MnistBatcher::new(valid_set),
        &fit_config,
        &train_device,
        Some(&run),
        history,
        &mut save_epoch,
    )?;
    let train_time = started.elapsed();
    fitted.history.save(&run.path)?;
    let model = fitted.model.valid();
    let evaluation = train::evaluate(&model, &test_batcher, 500, &device);
    println!(
        "test accuracy {:.2}% (loss {:.4})",
        100.0 * evaluation.metric,
        evaluation.loss
    );

    // 5. The weights in three formats, each loaded back into a model rebuilt from the YAML.
    println!("\n── 3. Saving the weights, and loading them into a model rebuilt from YAML ──");
    let test_images = test_batcher
        .batch(&(0..test.len().min(1000)).collect::<Vec<_>>(), &device)
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
        let blank = SequentialConfig::read(&yaml_path)?.init(&device)?;
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
        let blank = other.init(&device)?;
        if let Err(error) = keras_h5::load(&blank, &run.file("weights.h5")) {
            println!("\nloading weights.h5 into a model whose first convolution has 3x3 filters:");
            println!("  error: {error}");
            println!("  (the model in memory is left as it was)");
        }
    }

    // 7. Plots and summary.
    plot::plot_history(
        &run.file("curves.png"),
        &fitted.history,
        &format!("{} on MNIST", architecture.name),
    )?;
    plot_predictions(&run.file("predictions.png"), &test, &model, &device)?;

    let mut summary = Summary::new("Lab 3 · Saving and loading models");
    summary
        .row("data", source.describe())
        .row("device", shared::device::describe(args.device))
        .row(
            "architecture",
            format!(
                "{}, {} layers, {} parameters; rebuilt the same from JSON and YAML",
                architecture.name,
                architecture.layers.len(),
                thousands(model.num_params())
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
        "epochs",
        format!(
            "{} (batch {}, Adam lr {}), {:.1} s, a checkpoint after each",
            fitted.history.epochs.len(),
            config.batch_size,
            config.lr,
            train_time.as_secs_f64(),
        ),
    );
    if let Some(last) = fitted.history.last() {
        summary.row(
            "final valid",
            format!(
                "loss {:.4}, accuracy {:.2}%",
                last.valid_loss,
                100.0 * last.valid_metric
            ),
        );
    }
    summary.row(
        "test",
        format!(
            "loss {:.4}, accuracy {:.2}% ({} images)",
            evaluation.loss,
            100.0 * evaluation.metric,
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
    summary
        .row("run folder", run.path.display())
        .row(
            "files",
            "architecture.{json,yaml} weights.h5 model.{bpk,safetensors}",
        )
        .row(
            "checkpoints",
            "epochs/weights-NN.h5, checkpoint/ (for --resume)",
        )
        .row("plots", "curves.png predictions.png");
    let text = summary.render();
    println!("\n{text}");
    run.write_text("summary.txt", &text)?;

    Ok(Outcome {
        run,
        history: fitted.history,
        model,
        test_accuracy: evaluation.metric,
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
    let predictions = train::predict(model, &batcher, count, device);
    let images: Vec<GridImage> = predictions
        .iter()
        .map(|p| GridImage {
            pixels: test.image(p.index).to_vec(),
            channels: 1,
            height: test.height,
            width: test.width,
            caption: format!(
                "{} → {} ({:.0}%)",
                p.target,
                p.predicted,
                100.0 * p.confidence
            ),
            highlight: p.predicted != p.target,
        })
        .collect();
    plot::plot_image_grid(
        path,
        &images,
        8,
        "Test digits, predicted by the model as saved: true → predicted",
    )
}
