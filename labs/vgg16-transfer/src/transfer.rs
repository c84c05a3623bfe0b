//! Part 2: transfer learning. A network pretrained on ImageNet starts a new task (CIFAR-10's
//! ten classes) with few labelled images, in the slide's three regimes:
//!
//! | `--train` | what learns | what stays as ImageNet left it | cost per step |
//! |---|---|---|---|
//! | `head` | a new classifier | the whole base (frozen) | the base's features are computed once and cached: seconds |
//! | `top` | the last block + a new classifier | every block before (frozen) | the frozen blocks' output is cached too |
//! | `all` | every weight | nothing (starts from ImageNet's weights) | a full forward and backward pass per image |
//! | `scratch` | lab 2's CNN, from random weights | — | the small CNN on the 32 x 32 images |
//!
//! Little data: train the head only (there are not enough images to move millions of
//! weights without overfitting). More data: unfreeze the top. Much data: train everything.
//! `compare` measures that claim: accuracy against the number of labelled images.
//!
//! Frozen parameters take no gradient, so the optimiser keeps no state for them; the summary
//! prints how many parameters each regime trains. A frozen base also stays in inference
//! mode (its batch norms keep ImageNet's statistics).
//!
//! CIFAR-10's 32 x 32 images are scaled up (bilinear, as Pillow does) to `--image-size`
//! and normalised as the weights expect. The default is 160, not the 224 the weights were
//! trained at: a 32 x 32 picture holds no more detail at 224, and on the validation images
//! 160 did as well at half the cost (`docs/vgg16-transfer.md`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::module::{ModuleVisitor, Param};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use lab_cifar_cnn::data::CifarBatcher;
use lab_cifar_cnn::model::CifarCnnConfig;
use serde::{Deserialize, Serialize};
use shared::cifar10::{self, CLASS_NAMES};
use shared::cli::CommonArgs;
use shared::download::Downloader;
use shared::image_io::{self, Preprocessing, RgbImage};
use shared::images::ImageSet;
use shared::lab::{DataChoice, Lab, OptimizerConfig, Session};
use shared::plot;
use shared::report::thousands;
use shared::rng::Rng;
use shared::train::{self, Batcher, FitConfig, Metric, StepOutput, Supervised};

use crate::network::Network;
use crate::weights::{self, Pretrained};

/// What is trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Regime {
    /// A new classifier on the frozen pretrained base (features cached)
    Head,
    /// The base's last block and a new classifier; the blocks before stay frozen
    Top,
    /// Every weight, starting from the pretrained ones
    All,
    /// Lab 2's CNN from random weights on the 32 x 32 images (no pretraining)
    Scratch,
}

impl burn::config::Config for Regime {}
impl burn::config::Config for Pretrained {}

impl Regime {
    pub fn name(self) -> &'static str {
        match self {
            Regime::Head => "head",
            Regime::Top => "top",
            Regime::All => "all",
            Regime::Scratch => "scratch",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Regime::Head => "new head on a frozen base",
            Regime::Top => "last block + new head",
            Regime::All => "every weight (fine-tuned)",
            Regime::Scratch => "lab 2's CNN from scratch",
        }
    }

    /// Epochs and learning rate when the flags do not say, chosen on the validation images
    /// of the bundled sample (300 labelled images; `docs/vgg16-transfer.md`):
    /// a frozen base allows a large step; pretrained weights that are trained themselves
    /// need a smaller one, or the first steps of a random head wreck them.
    pub fn defaults(self) -> (usize, f64) {
        match self {
            Regime::Head => (30, 1e-3),
            Regime::Top => (5, 1e-3),
            Regime::All => (5, 3e-4),
            Regime::Scratch => (10, 1e-3),
        }
    }
}

shared::lab_config! {
    /// Lab 4's part 2. Epochs and learning rate default per regime ([`Regime::defaults`]);
    /// the batch size per mode.
    const LAB = Lab::new("vgg16-transfer", "Lab 4")
        .sample(30, 32, 1e-3).full(30, 32, 1e-3).quick(1, 16, 1e-3);
    /// Everything that defines a transfer run; saved as `config.json`.
    pub struct LabConfig {
        pub model: Pretrained,
        pub regime: Regime,
        /// Labelled training images per class.
        pub per_class: usize,
        /// Validation images per class, held out from the training images.
        pub valid_per_class: usize,
        /// Side of the square the 32 x 32 images are scaled up to.
        pub image_size: usize,
        /// A weights file instead of the downloaded one.
        pub weights: Option<PathBuf>,
        /// Leave the test images alone (while settings are chosen on validation).
        #[config(default = false)]
        pub no_test: bool,
    }
}

/// The flags of part 2 beside the common ones.
#[derive(Debug, Clone)]
pub struct TransferFlags {
    pub model: Pretrained,
    pub weights: Option<PathBuf>,
    pub per_class: Option<usize>,
    pub image_size: usize,
    pub no_test: bool,
}

/// Training images per class by default: on the bundled sample, about all it has once the
/// validation images are set aside (its smallest class, dog, has 40 images); 200 of the full
/// set's 5,000.
const PER_CLASS: [usize; 3] = [30, 200, 8]; // sample, full, quick
const VALID_PER_CLASS: [usize; 3] = [8, 50, 2];
/// Test images a `--quick` run keeps.
const QUICK_TEST: usize = 50;

fn mode_index(data: &DataChoice) -> usize {
    match data.mode {
        shared::cli::Mode::Sample => 0,
        shared::cli::Mode::Full => 1,
        shared::cli::Mode::Quick => 2,
    }
}

impl LabConfig {
    pub fn of(
        data: DataChoice,
        mut fit: FitConfig,
        args: &CommonArgs,
        regime: Regime,
        flags: &TransferFlags,
    ) -> LabConfig {
        let (epochs, lr) = regime.defaults();
        if args.epochs.is_none() && !data.is_quick() {
            fit.epochs = epochs;
        }
        if args.lr.is_none() {
            fit.lr = lr;
        }
        let mode = mode_index(&data);
        LabConfig::new(
            data,
            fit.with_valid_batch_size(64),
            OptimizerConfig::adam(),
            flags.model,
            regime,
            flags.per_class.unwrap_or(PER_CLASS[mode]),
            VALID_PER_CLASS[mode],
            flags.image_size,
        )
        .with_weights(flags.weights.clone())
        .with_no_test(flags.no_test)
    }
}

// ------------------------------------------------------------------------------------- data

/// The labelled images of one run.
pub struct Data {
    pub train: ImageSet,
    pub valid: ImageSet,
    pub test: ImageSet,
    pub test_note: String,
}

/// Picks `per_class` images of every class, in a random order drawn with `seed`; returns
/// them and the rest. An error says how many a class has when it has too few.
pub fn balanced_pick(set: &ImageSet, per_class: usize, seed: u64) -> Result<(ImageSet, ImageSet)> {
    let mut taken = vec![0; set.num_classes()];
    let (mut picked, mut rest) = (Vec::new(), Vec::new());
    for i in Rng::new(seed).permutation(set.len()) {
        let class = set.labels[i] as usize;
        if taken[class] < per_class {
            taken[class] += 1;
            picked.push(i);
        } else {
            rest.push(i);
        }
    }
    if let Some(class) = taken.iter().position(|&n| n < per_class) {
        bail!(
            "class {} has only {} images left, fewer than the {per_class} per class asked for: \
             ask for fewer (--per-class), or use the full dataset (--full)",
            set.class_names.get(class).map_or("?", String::as_str),
            taken[class]
        );
    }
    Ok((set.select(&picked), set.select(&rest)))
}

pub fn load(config: &LabConfig) -> Result<Data> {
    let source = config.data.source();
    println!("CIFAR-10: {}", source.describe());
    let data = cifar10::load(&source, &Downloader::default())?;
    let mut test_note = data
        .test_note
        .unwrap_or_else(|| "the 10,000 official test images".into());
    let mut test = data.test;
    if config.data.is_quick() {
        test = test.take(QUICK_TEST);
        test_note = format!("the first {QUICK_TEST} of the {test_note}");
    }
    let seed = config.fit.seed;
    let (valid, rest) = balanced_pick(&data.train, config.valid_per_class, seed)
        .context("setting the validation images aside")?;
    let (train, _) = balanced_pick(&rest, config.per_class, seed ^ 0x5eed)?;
    println!(
        "  {} labelled training images ({} per class), {} validation, {} test ({test_note})",
        thousands(train.len()),
        config.per_class,
        thousands(valid.len()),
        thousands(test.len())
    );
    Ok(Data {
        train,
        valid,
        test,
        test_note,
    })
}

/// One CIFAR image (channel-major bytes) scaled up to `side` x `side` and normalised for
/// the pretrained weights: `[3, side, side]` values.
pub fn upscale(image: &[u8], size: usize, side: usize, normalization: Preprocessing) -> Vec<f32> {
    let plane = size * size;
    let interleaved: Vec<u8> = (0..plane)
        .flat_map(|p| [image[p], image[plane + p], image[2 * plane + p]])
        .collect();
    // The sizes are checked once in `run`, so these cannot fail.
    let rgb = RgbImage::new(size, size, interleaved).expect("a whole image");
    let big = image_io::resize_bilinear(&rgb, side, side).expect("a valid size");
    normalization.normalize(&big).expect("a whole image")
}

/// A batch: what the trainable part reads (images, or the cached output of the frozen
/// part) and the class indices.
#[derive(Debug, Clone)]
pub struct TransferBatch {
    pub inputs: Tensor<4>,
    pub targets: Tensor<1, Int>,
}

/// Scales images up on the fly (the `all` regime, and the caching passes).
pub struct ImageBatcher {
    pub set: ImageSet,
    pub side: usize,
    pub normalization: Preprocessing,
}

impl Batcher<TransferBatch> for ImageBatcher {
    fn len(&self) -> usize {
        self.set.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> TransferBatch {
        let side = self.side;
        let mut values = Vec::with_capacity(indices.len() * 3 * side * side);
        for &i in indices {
            values.extend(upscale(
                self.set.image(i),
                self.set.height,
                side,
                self.normalization,
            ));
        }
        batch(values, [3, side, side], indices, &self.set.labels, device)
    }
}

/// Values computed once by the frozen part of the network, one `item` shape per image.
pub struct CachedBatcher {
    pub values: Vec<f32>,
    pub item: [usize; 3],
    pub labels: Vec<u8>,
}

impl Batcher<TransferBatch> for CachedBatcher {
    fn len(&self) -> usize {
        self.labels.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> TransferBatch {
        let size: usize = self.item.iter().product();
        let mut values = Vec::with_capacity(indices.len() * size);
        for &i in indices {
            values.extend_from_slice(&self.values[i * size..(i + 1) * size]);
        }
        batch(values, self.item, indices, &self.labels, device)
    }
}

fn batch(
    values: Vec<f32>,
    [c, h, w]: [usize; 3],
    indices: &[usize],
    labels: &[u8],
    device: &Device,
) -> TransferBatch {
    let n = indices.len();
    let targets: Vec<i64> = indices.iter().map(|&i| labels[i] as i64).collect();
    TransferBatch {
        inputs: Tensor::from_data(TensorData::new(values, [n, c, h, w]), device),
        targets: Tensor::from_data(TensorData::new(targets, [n]), device),
    }
}

// ------------------------------------------------------------------------------------ model

/// The pretrained base with a new classifier for the new classes.
#[derive(Module, Debug)]
pub struct TransferNet {
    pub base: Network,
    pub dropout: Dropout,
    pub head: Linear,
    #[module(skip)]
    pub regime: Regime,
}

impl TransferNet {
    pub fn new(base: Network, classes: usize, regime: Regime, device: &Device) -> TransferNet {
        let features = base.feature_dim();
        let base = base.without_classifier().freeze_for(regime);
        TransferNet {
            base,
            dropout: DropoutConfig::new(0.2).init(),
            head: LinearConfig::new(features, classes).init(device),
            regime,
        }
    }

    /// The batch's inputs → class scores. What the inputs are depends on the regime: cached
    /// features (`head`), the cached output of the frozen blocks (`top`), or images (`all`).
    pub fn forward(&self, inputs: Tensor<4>) -> Tensor<2> {
        let features = match self.regime {
            Regime::Head => inputs.flatten::<2>(1, 3),
            Regime::Top => self.base.top(inputs),
            // (`scratch` trains lab 2's CNN, never this network.)
            Regime::All | Regime::Scratch => self.base.features(inputs),
        };
        self.head.forward(self.dropout.forward(features))
    }
}

impl Supervised for TransferNet {
    type Batch = TransferBatch;

    fn forward_step(&self, batch: TransferBatch) -> StepOutput {
        StepOutput::classification(self.forward(batch.inputs), batch.targets)
    }
}

/// Counts the parameters that will be trained (those that take a gradient) and those that
/// will not.
#[derive(Debug, Default, Clone, Copy)]
pub struct ParamCount {
    pub trainable: usize,
    pub frozen: usize,
}

impl ModuleVisitor for ParamCount {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let n = param.lazy_shape().num_elements();
        if param.val().is_require_grad() {
            self.trainable += n;
        } else {
            self.frozen += n;
        }
    }
}

/// The parameters of `model` that take a gradient and those that do not. Batch norm's
/// running statistics are not parameters (nothing trains them; PyTorch calls them buffers)
/// and are left out of both counts; `running_stats` says how many values they hold.
pub fn count_params<M: Module>(model: &M, running_stats: usize) -> ParamCount {
    let mut count = ParamCount::default();
    model.visit(&mut count);
    count.frozen = count.frozen.saturating_sub(running_stats);
    count
}

// -------------------------------------------------------------------------------------- run

/// What one transfer run gives back (for `compare` and the tests).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub regime: Regime,
    pub per_class: usize,
    pub train_images: usize,
    pub trainable: usize,
    pub frozen: usize,
    pub valid_accuracy: f64,
    /// `None` with `--no-test`.
    pub test_accuracy: Option<f64>,
    /// Seconds spent computing the frozen part once (`head`, `top`).
    pub caching_seconds: f64,
    pub training_seconds: f64,
    pub run: PathBuf,
}

/// `transfer`: one run of one regime.
pub fn run(args: &CommonArgs, regime: Regime, flags: &TransferFlags) -> Result<Outcome> {
    if flags.image_size < 32 || !flags.image_size.is_multiple_of(32) {
        bail!(
            "--image-size {} is not a multiple of 32 (32, 64, …, 224): the networks halve the \
             image five times",
            flags.image_size
        );
    }
    let session = LAB.start(args, |data, fit| {
        Ok(LabConfig::of(data, fit, args, regime, flags))
    })?;
    let config = session.config.clone();
    let data = load(&config)?;
    // The weights live in the data folder whether or not the data is the full set.
    let data_dir = shared::datasets::data_dir(args.data_dir.as_deref());
    train_regime(&session, &config, &data, &data_dir)
}

/// Trains `config.regime` on `data` in the session's run folder; downloaded weights are
/// kept in `<data_dir>/models/`.
fn train_regime(
    session: &Session<LabConfig>,
    config: &LabConfig,
    data: &Data,
    data_dir: &Path,
) -> Result<Outcome> {
    if config.regime == Regime::Scratch {
        return train_scratch(session, config, data);
    }
    let device = session.train_device();
    let model = config.model;
    let path = weights::locate(model, config.weights.as_deref(), data_dir)?;
    println!("{} weights: {}", model.name(), path.display());
    let base = Network::load(model, &path, &device)?;
    let net = TransferNet::new(base, CLASS_NAMES.len(), config.regime, &device);
    let running_stats = match &net.base {
        Network::Vgg(_) => 0,
        Network::EfficientNet(net) => net.config.batch_norm_values(),
    };
    let count = count_params(&net, running_stats);
    println!(
        "\n{} on CIFAR-10, regime `{}` ({}): {} parameters trained, {} frozen",
        model.name(),
        config.regime.name(),
        config.regime.describe(),
        thousands(count.trainable),
        thousands(count.frozen)
    );

    let images = |set: &ImageSet| ImageBatcher {
        set: set.clone(),
        side: config.image_size,
        normalization: model.preprocessing(),
    };
    // `head` and `top` run the frozen part once per image and keep its output. The time of
    // that pass over the training and validation images counts as part of the regime's
    // training time; the test images' pass (for the final evaluation only) does not, as
    // evaluating `all` on them is not counted either.
    let frozen = matches!(config.regime, Regime::Head | Regime::Top).then(|| net.base.valid());
    let batcher = |set: &ImageSet| match &frozen {
        Some(base) => TransferBatcher::Cached(cache_outputs(
            base,
            &images(set),
            config.regime == Regime::Head,
            &session.device,
        )),
        None => TransferBatcher::Images(images(set)),
    };
    let started = Instant::now();
    let (train_batcher, valid_batcher) = (batcher(&data.train), batcher(&data.valid));
    let caching_seconds = if frozen.is_some() {
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "frozen part computed once for the {} training and validation images in \
             {seconds:.1} s",
            thousands(data.train.len() + data.valid.len())
        );
        seconds
    } else {
        0.0
    };
    let test_batcher = (!config.no_test).then(|| batcher(&data.test));
    drop(frozen);

    let fitted = train::fit(
        session.training(net, &config.optimizer)?,
        &train_batcher,
        &valid_batcher,
        &config.fit,
        &mut [],
    )?;
    let tested = evaluate(
        &fitted.model,
        &valid_batcher,
        test_batcher.as_ref(),
        config.fit.valid_batch_size,
        &session.device,
    )?;
    report(
        session,
        config,
        data,
        caching_seconds,
        count,
        tested,
        &fitted,
    )
}

/// The batches of one set of images: scaled up on the fly (`all`), or the frozen part's
/// output, computed once (`head`, `top`).
pub enum TransferBatcher {
    Images(ImageBatcher),
    Cached(CachedBatcher),
}

impl Batcher<TransferBatch> for TransferBatcher {
    fn len(&self) -> usize {
        match self {
            TransferBatcher::Images(b) => b.len(),
            TransferBatcher::Cached(b) => b.len(),
        }
    }

    fn batch(&self, indices: &[usize], device: &Device) -> TransferBatch {
        match self {
            TransferBatcher::Images(b) => b.batch(indices, device),
            TransferBatcher::Cached(b) => b.batch(indices, device),
        }
    }
}

/// Runs the frozen part over every image once: the averaged features (`head`) or the
/// output of the blocks before the last (`top`).
fn cache_outputs(
    base: &Network,
    images: &ImageBatcher,
    head: bool,
    device: &Device,
) -> CachedBatcher {
    let mut values = Vec::new();
    let mut item = [0, 0, 0];
    let indices: Vec<usize> = (0..images.len()).collect();
    for chunk in indices.chunks(32) {
        let batch = images.batch(chunk, device);
        if head {
            let features = base.features(batch.inputs);
            item = [features.dims()[1], 1, 1];
            values.extend(shared::floats(features));
        } else {
            let trunk = base.trunk(batch.inputs);
            let [_, c, h, w] = trunk.dims();
            item = [c, h, w];
            values.extend(shared::floats(trunk));
        }
    }
    CachedBatcher {
        values,
        item,
        labels: images.set.labels.clone(),
    }
}

/// The validation accuracy, and what the test images gave (unless `--no-test`).
struct Evaluated {
    valid: f64,
    test: Option<(train::Evaluation, Vec<train::ClassPrediction>)>,
}

fn evaluate<M: Supervised, B: Batcher<M::Batch>>(
    model: &M,
    valid: &B,
    test: Option<&B>,
    batch: usize,
    device: &Device,
) -> Result<Evaluated> {
    let valid = train::evaluate(model, valid, batch, device).get(Metric::Accuracy);
    let test = match test {
        Some(test) => Some((
            train::evaluate(model, test, batch, device),
            train::predict_classes(model, test, batch, device)?,
        )),
        None => None,
    };
    Ok(Evaluated { valid, test })
}

fn report<M: Module + Clone>(
    session: &Session<LabConfig>,
    config: &LabConfig,
    data: &Data,
    caching_seconds: f64,
    count: ParamCount,
    evaluated: Evaluated,
    fitted: &train::Fitted<M>,
) -> Result<Outcome> {
    let run = &session.run;
    let title = format!(
        "{} on CIFAR-10, {} labelled images, `{}`",
        if config.regime == Regime::Scratch {
            "lab 2's CNN"
        } else {
            config.model.name()
        },
        thousands(data.train.len()),
        config.regime.name()
    );
    let mut summary = session.finish(fitted, &title)?;
    if let Some((_, predictions)) = &evaluated.test {
        let confusion = train::confusion_matrix(predictions, CLASS_NAMES.len());
        let names: Vec<String> = CLASS_NAMES.iter().map(|s| s.to_string()).collect();
        plot::plot_confusion(
            &run.file("confusion.png"),
            &confusion,
            &names,
            &format!(
                "Test confusion matrix ({} images)",
                thousands(data.test.len())
            ),
        )?;
        let first: Vec<&train::ClassPrediction> = predictions.iter().take(36).collect();
        plot::plot_predictions(
            &run.file("predictions.png"),
            &data.test,
            &first,
            |class| CLASS_NAMES[class].to_string(),
            6,
            "Test images: true → predicted (confidence); mistakes in red",
        )?;
    }
    summary
        .row(
            "regime",
            format!(
                "{} ({}): {} parameters trained, {} frozen",
                config.regime.name(),
                config.regime.describe(),
                thousands(count.trainable),
                thousands(count.frozen)
            ),
        )
        .row(
            "images",
            format!(
                "{} training ({} per class), {} validation{}",
                thousands(data.train.len()),
                config.per_class,
                thousands(data.valid.len()),
                if config.regime == Regime::Scratch {
                    String::from(", 32x32")
                } else {
                    format!(", scaled up to {0}x{0}", config.image_size)
                }
            ),
        );
    if caching_seconds > 0.0 {
        summary.row(
            "caching",
            format!("frozen part computed once in {caching_seconds:.1} s"),
        );
    }
    summary.row(
        "validation",
        format!("accuracy {:.2}%", 100.0 * evaluated.valid),
    );
    match &evaluated.test {
        Some((test, _)) => summary.row(
            "test",
            format!(
                "{} on {} ({})",
                test.describe(),
                thousands(data.test.len()),
                data.test_note
            ),
        ),
        None => summary.row(
            "test",
            "not evaluated (--no-test: choose the settings on validation first)",
        ),
    };
    session.close(&mut summary)?;
    Ok(Outcome {
        regime: config.regime,
        per_class: config.per_class,
        train_images: data.train.len(),
        trainable: count.trainable,
        frozen: count.frozen,
        valid_accuracy: evaluated.valid,
        test_accuracy: evaluated.test.map(|(test, _)| test.get(Metric::Accuracy)),
        caching_seconds,
        training_seconds: fitted.seconds,
        run: run.path.clone(),
    })
}

/// The baseline: lab 2's CNN from random weights on the same 32 x 32 images.
fn train_scratch(session: &Session<LabConfig>, config: &LabConfig, data: &Data) -> Result<Outcome> {
    let net = CifarCnnConfig::new().init(&session.train_device());
    let count = count_params(&net, 0);
    println!(
        "\nlab 2's CNN on CIFAR-10 from scratch: {} parameters trained",
        thousands(count.trainable)
    );
    let (mean, std) = cifar10::channel_stats(&data.train);
    let batcher = |set: &ImageSet| CifarBatcher::new(set.clone(), mean, std);
    let (train_b, valid_b, test_b) = (
        batcher(&data.train),
        batcher(&data.valid),
        batcher(&data.test),
    );
    let fitted = train::fit(
        session.training(net, &config.optimizer)?,
        &train_b,
        &valid_b,
        &config.fit,
        &mut [],
    )?;
    let tested = evaluate(
        &fitted.model,
        &valid_b,
        (!config.no_test).then_some(&test_b),
        config.fit.valid_batch_size,
        &session.device,
    )?;
    report(session, config, data, 0.0, count, tested, &fitted)
}

// ---------------------------------------------------------------------------------- compare

/// `compare`: every regime at every size (labelled images per class), one run each in a
/// `compare` folder, then one table (`comparison.txt`), one plot (`comparison.png`) and
/// `comparison.json`. The settings of each regime are fixed in advance ([`Regime::defaults`]
/// or the flags); the table reports the validation and the test accuracy of every run.
pub fn compare(
    args: &CommonArgs,
    regimes: &[Regime],
    sizes: &[usize],
    flags: &TransferFlags,
) -> Result<Vec<Outcome>> {
    if args.resume.is_some() {
        bail!(
            "compare cannot --resume: resume the single run that stopped (transfer --resume DIR)"
        );
    }
    if regimes.is_empty() || sizes.is_empty() {
        bail!("compare needs at least one regime (--regimes) and one size (--sizes)");
    }
    if flags.per_class.is_some() {
        bail!("compare trains at every size of --sizes: give the sizes there, not --per-class");
    }
    let folder = shared::run::RunDir::create(&args.out, "vgg16-transfer-compare")?;
    println!(
        "Comparing {} regimes at {} sizes; runs in {}",
        regimes.len(),
        sizes.len(),
        folder.path.display()
    );
    let mut outcomes = Vec::new();
    for &size in sizes {
        for &regime in regimes {
            let mut run_args = args.clone();
            run_args.out = folder.path.clone();
            let run_flags = TransferFlags {
                per_class: Some(size),
                ..flags.clone()
            };
            println!(
                "\n=== {} labelled images per class, regime `{}` ===",
                size,
                regime.name()
            );
            outcomes.push(run(&run_args, regime, &run_flags)?);
            folder.write_json("comparison.json", &outcomes)?;
        }
    }
    let table = comparison_table(&outcomes);
    println!("\n{table}");
    folder.write_text("comparison.txt", &table)?;
    let series: Vec<(String, plot::RGBColor, Points)> = regimes
        .iter()
        .zip(plot::PALETTE.iter().cycle())
        .map(|(&regime, &color)| {
            let points = outcomes
                .iter()
                .filter(|o| o.regime == regime)
                .map(|o| {
                    let accuracy = o.test_accuracy.unwrap_or(o.valid_accuracy);
                    (o.train_images, 100.0 * accuracy)
                })
                .collect();
            (
                format!("{} ({})", regime.name(), regime.describe()),
                color,
                points,
            )
        })
        .collect();
    let series_refs = series
        .iter()
        .map(|(l, c, p)| (l.as_str(), *c, p.clone()))
        .collect();
    // With --no-test the runs have no test accuracy: the plot shows the validation one.
    let which = if flags.no_test { "validation" } else { "test" };
    let panel_title = format!("{which} accuracy");
    plot::plot_lines(
        &folder.file("comparison.png"),
        &format!("Transfer learning on CIFAR-10: {which} accuracy against labelled images"),
        "labelled training images",
        &[plot::Panel::new(&panel_title, "accuracy (%)", series_refs)],
    )?;
    println!(
        "comparison.txt, comparison.png and comparison.json in {}",
        folder.path.display()
    );
    Ok(outcomes)
}

type Points = Vec<(usize, f64)>;

/// One row per run: size, regime, parameters trained, accuracies and time.
pub fn comparison_table(outcomes: &[Outcome]) -> String {
    let mut out = format!(
        "{:>8} {:>9}  {:<36} {:>11} {:>10} {:>9} {:>9}\n",
        "images", "per class", "regime", "trained", "valid acc", "test acc", "seconds"
    );
    for o in outcomes {
        out += &format!(
            "{:>8} {:>9}  {:<36} {:>11} {:>9.1}% {:>9} {:>9.1}\n",
            thousands(o.train_images),
            o.per_class,
            format!("{} ({})", o.regime.name(), o.regime.describe()),
            thousands(o.trainable),
            100.0 * o.valid_accuracy,
            o.test_accuracy
                .map_or("-".to_string(), |a| format!("{:.1}%", 100.0 * a)),
            o.caching_seconds + o.training_seconds
        );
    }
    out
}
