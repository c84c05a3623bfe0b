//! The lab runner: what every lab does around its lesson, written once (the role burn's
//! `LearnerBuilder` plays in its examples).
//!
//! A lab states its defaults once, as data ([`ModeDefaults`]), and keeps its settings in one
//! `#[derive(Config)]` struct that nests the data choice, the [`FitConfig`], the
//! [`OptimizerConfig`] and its model's config; that struct is the run's `config.json`, so a
//! run can be repeated (or resumed) from its own folder. Then:
//!
//! ```text
//! let session = LAB.start(args, |data, fit| Ok(LabConfig { … }))?;   // new run or --resume
//! let model = config.model.init(&session.train_device());
//! let fitted = train::fit(session.training(model, &config.optimizer)?, &train, &valid,
//!                         &config.fit, &mut [])?;                       // the lesson's call
//! let test = train::evaluate(&fitted.model, &test, 500, &session.device);
//! let mut summary = session.finish(&fitted, "LeNet-5 on MNIST")?;     // model.bpk, curves.png
//! summary.row("test", test.describe());
//! session.close(&summary)?;                                          // summary.txt
//! ```

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::config::Config;
use burn::module::Module;
use burn::optim::{AdamConfig, ModuleOptimizer, RmsPropConfig, SgdConfig};
use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use crate::cli::{CommonArgs, Defaults, Mode};
pub use crate::datasets::DataChoice;
use crate::datasets::DataSource;
use crate::device::DeviceChoice;
use crate::report::{Summary, thousands};
use crate::run::RunDir;
use crate::train::{FitConfig, Fitted, Training};

/// A lab's defaults for each mode: the bundled sample (no flag), `--full` and `--quick`.
#[derive(Debug, Clone, Copy)]
pub struct ModeDefaults {
    pub sample: Defaults,
    pub full: Defaults,
    pub quick: Defaults,
}

impl ModeDefaults {
    pub fn of(&self, mode: Mode) -> Defaults {
        match mode {
            Mode::Sample => self.sample,
            Mode::Full => self.full,
            Mode::Quick => self.quick,
        }
    }
}

/// The optimiser and its hyper-parameters, as saved in `config.json` (burn's own configs,
/// nested). The learning rate is not here: it changes per epoch (see [`FitConfig`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OptimizerConfig {
    Adam(AdamConfig),
    RmsProp(RmsPropConfig),
    Sgd(SgdConfig),
}

impl Config for OptimizerConfig {}

impl OptimizerConfig {
    /// Adam with burn's defaults (β₁ 0.9, β₂ 0.999, ε 1e-5).
    pub fn adam() -> Self {
        OptimizerConfig::Adam(AdamConfig::new())
    }

    /// Adam with Keras's defaults (β₁ 0.9, β₂ 0.999, ε 1e-7; burn's own ε is 1e-5).
    pub fn keras_adam() -> Self {
        OptimizerConfig::Adam(AdamConfig::new().with_epsilon(1e-7))
    }

    /// Keras's RMSprop (ρ 0.9, ε 1e-7, no momentum); burn's defaults differ on all three.
    pub fn keras_rmsprop() -> Self {
        OptimizerConfig::RmsProp(
            RmsPropConfig::new()
                .with_alpha(0.9)
                .with_momentum(0.0)
                .with_epsilon(1e-7),
        )
    }

    pub fn init(&self) -> ModuleOptimizer {
        match self {
            OptimizerConfig::Adam(c) => c.init(),
            OptimizerConfig::RmsProp(c) => c.init(),
            OptimizerConfig::Sgd(c) => c.init(),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            OptimizerConfig::Adam(_) => "Adam",
            OptimizerConfig::RmsProp(_) => "RMSprop",
            OptimizerConfig::Sgd(_) => "SGD",
        }
    }

    /// `Adam (beta_1 0.9, beta_2 0.999, epsilon 1e-7)`: the name and every setting that is
    /// set, read from the config itself so that nothing is left out.
    pub fn describe(&self) -> String {
        let value = serde_json::to_value(self).unwrap_or_default();
        let settings = value
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(|v| v.as_object())
            .map(|fields| {
                fields
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    // burn keeps these settings as f32: print them as such (0.9, not
                    // 0.8999999761581421).
                    .map(|(k, v)| match v.as_f64() {
                        Some(x) if v.is_f64() => format!("{k} {}", x as f32),
                        _ => format!("{k} {v}"),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        format!("{} ({settings})", self.name())
    }
}

/// A lab's run config: it nests the data choice and the training settings, which the runner
/// reads. Declare one with [`lab_config!`](crate::lab_config).
pub trait RunConfig: Config + Clone {
    fn data(&self) -> &DataChoice;
    fn fit(&self) -> &FitConfig;
    fn fit_mut(&mut self) -> &mut FitConfig;
}

/// A lab's run config: the struct as written, after the three fields every lab has,
/// `data: DataChoice`, `fit: FitConfig` and `optimizer: OptimizerConfig`, as a
/// `#[derive(Config)]` struct (saved as the run's `config.json`) that is a [`RunConfig`].
///
/// ```text
/// shared::lab_config! {
///     /// Everything that defines a run of lab 1.
///     pub struct LabConfig {
///         pub model: LeNetConfig,
///     }
/// }
/// // LabConfig::new(data, fit, optimizer, model), config.model, config.fit.epochs, …
/// ```
///
/// It can also declare the lab itself, its name, title and defaults, in one line before the
/// struct: `const LAB = Lab::new("lenet", "Lab 1").sample(15, 64, 1e-3)…;`.
#[macro_export]
macro_rules! lab_config {
    (
        $(#[$lab_meta:meta])*
        const $lab:ident = $definition:expr;
        $(#[$meta:meta])*
        pub struct $name:ident { $($fields:tt)* }
    ) => {
        $(#[$lab_meta])*
        pub const $lab: $crate::lab::Lab = $definition;
        $crate::lab_config! { $(#[$meta])* pub struct $name { $($fields)* } }
    };
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($fields:tt)* }
    ) => {
        $(#[$meta])*
        #[derive(::burn::config::Config, Debug)]
        pub struct $name {
            /// Which data: the bundled sample, `--full` or `--quick`, and the validation split.
            pub data: $crate::lab::DataChoice,
            /// How `fit` trains: epochs, batch size, learning rate and its decay, seed, checkpoints.
            pub fit: $crate::train::FitConfig,
            /// The optimiser and its hyper-parameters.
            pub optimizer: $crate::lab::OptimizerConfig,
            $($fields)*
        }

        impl $crate::lab::RunConfig for $name {
            fn data(&self) -> &$crate::lab::DataChoice {
                &self.data
            }
            fn fit(&self) -> &$crate::train::FitConfig {
                &self.fit
            }
            fn fit_mut(&mut self) -> &mut $crate::train::FitConfig {
                &mut self.fit
            }
        }
    };
}

/// One lab: its run-folder name, the title of its summary and its defaults.
#[derive(Debug, Clone, Copy)]
pub struct Lab {
    /// `lenet`: runs go to `runs/lenet/<date-time>/`.
    pub name: &'static str,
    /// `Lab 1 · LeNet-5 on MNIST`.
    pub title: &'static str,
    pub defaults: ModeDefaults,
}

impl Lab {
    /// A lab whose defaults are set with [`Lab::sample`], [`Lab::full`] and [`Lab::quick`]:
    ///
    /// ```text
    /// pub const LAB: Lab = Lab::new("lenet", "Lab 1")
    ///     .sample(15, 64, 1e-3)   // epochs, batch size, learning rate
    ///     .full(10, 64, 1e-3)
    ///     .quick(2, 64, 1e-3);
    /// ```
    pub const fn new(name: &'static str, title: &'static str) -> Lab {
        let unset = Defaults::new(1, 32, 1e-3);
        Lab {
            name,
            title,
            defaults: ModeDefaults {
                sample: unset,
                full: unset,
                quick: unset,
            },
        }
    }

    /// The defaults on the bundled sample (no flag).
    pub const fn sample(mut self, epochs: usize, batch_size: usize, lr: f64) -> Lab {
        self.defaults.sample = Defaults::new(epochs, batch_size, lr);
        self
    }

    /// The defaults with `--full`.
    pub const fn full(mut self, epochs: usize, batch_size: usize, lr: f64) -> Lab {
        self.defaults.full = Defaults::new(epochs, batch_size, lr);
        self
    }

    /// The defaults with `--quick`.
    pub const fn quick(mut self, epochs: usize, batch_size: usize, lr: f64) -> Lab {
        self.defaults.quick = Defaults::new(epochs, batch_size, lr);
        self
    }

    /// The data choice and training settings of a new run: the flags where given, else the
    /// lab's defaults for the mode. Impossible values are refused here, before any work.
    pub fn settings(&self, args: &CommonArgs) -> Result<(DataChoice, FitConfig)> {
        let base = self.defaults.of(args.mode());
        let mut fit = FitConfig::new(
            args.epochs.unwrap_or(base.epochs),
            args.batch_size.unwrap_or(base.batch_size),
            args.lr.unwrap_or(base.lr),
            args.seed,
        );
        if let Some(checkpoints) = args.checkpoints {
            fit.checkpoints = checkpoints;
        }
        check_flags(args)?;
        fit.check()?;
        let data = DataChoice::new(args.mode()).with_data_dir(args.source().data_dir());
        Ok((data, fit))
    }

    /// A new run (a new folder with the config made by `fresh` saved as `config.json`), or,
    /// with `--resume`, the run in that folder with its saved config. On a resume, `--epochs`
    /// extends the run; other flags that differ from the saved config are named, and the
    /// saved values kept.
    pub fn start<C: RunConfig>(
        &self,
        args: &CommonArgs,
        fresh: impl FnOnce(DataChoice, FitConfig) -> Result<C>,
    ) -> Result<Session<C>> {
        let device = crate::device::select(args.device)?;
        let (run, config, resumed) = match &args.resume {
            Some(path) => {
                let run = RunDir::open(path)?;
                let mut config = C::load(run.file("config.json")).map_err(|e| {
                    anyhow::anyhow!(
                        "{} is not a run of {} (its config.json does not fit this lab: {e}); \
                         pass a folder under runs/{}/",
                        path.display(),
                        self.name,
                        self.name
                    )
                })?;
                check_flags(args)?;
                for note in resume_conflicts(args, config.data(), config.fit()) {
                    println!("note: {note}");
                }
                if let Some(epochs) = args.epochs {
                    config.fit_mut().epochs = epochs;
                }
                config.fit().check()?;
                (run, config, true)
            }
            None => {
                let (data, fit) = self.settings(args)?;
                let config = fresh(data, fit)?;
                // Again: the lab may have set more of it (its own flags, e.g. --lr-decay).
                config.fit().check()?;
                let run = RunDir::create(&args.out, self.name)?;
                config
                    .save(run.file("config.json"))
                    .with_context(|| format!("writing {}", run.file("config.json").display()))?;
                (run, config, false)
            }
        };
        Ok(Session {
            lab: *self,
            config,
            run,
            device,
            device_choice: args.device,
            resumed,
        })
    }

    /// The `--help` lines that list the defaults per mode, after a heading; `notes` adds a
    /// few words after each mode's line (what data it uses).
    pub fn defaults_help(&self, heading: &str, notes: [&str; 3]) -> String {
        let mut text = format!("{heading}:");
        let modes = [
            self.defaults.sample,
            self.defaults.full,
            self.defaults.quick,
        ];
        for ((flag, d), note) in ["sample ", "--full ", "--quick"]
            .iter()
            .zip(modes)
            .zip(notes)
        {
            let epochs = if d.epochs == 1 { "epoch" } else { "epochs" };
            text.push_str(&format!(
                "\n  {flag}  {} {epochs}, batch {}, lr {}{}{note}",
                d.epochs,
                d.batch_size,
                d.lr,
                if note.is_empty() { "" } else { " " },
            ));
        }
        text
    }
}

/// Flags that make no sense whatever the lab.
fn check_flags(args: &CommonArgs) -> Result<()> {
    if args.batch_size == Some(0) {
        bail!("--batch-size 0: a batch needs at least one item");
    }
    if let Some(lr) = args.lr
        && !(lr.is_finite() && lr >= 0.0)
    {
        bail!("--lr {lr}: the learning rate must be a number ≥ 0 (try 0.001)");
    }
    Ok(())
}

/// What a resumed run ignores: every flag given that differs from the saved config.
fn resume_conflicts(args: &CommonArgs, data: &DataChoice, fit: &FitConfig) -> Vec<String> {
    let keep = |flag: String, saved: String| {
        format!("{flag} is ignored: a resumed run keeps its saved settings ({saved})")
    };
    let mut notes = Vec::new();
    if let Some(b) = args.batch_size.filter(|&b| b != fit.batch_size) {
        notes.push(keep(
            format!("--batch-size {b}"),
            format!("batch {}", fit.batch_size),
        ));
    }
    if let Some(lr) = args.lr.filter(|&lr| lr != fit.lr) {
        notes.push(keep(format!("--lr {lr}"), format!("lr {}", fit.lr)));
    }
    if args.seed != fit.seed {
        notes.push(keep(
            format!("--seed {}", args.seed),
            format!("seed {}", fit.seed),
        ));
    }
    if args.checkpoints.is_some_and(|c| c != fit.checkpoints) {
        notes.push(keep(
            "--checkpoints".into(),
            format!("checkpoints {:?}", fit.checkpoints),
        ));
    }
    let mode = args.mode();
    if (args.full || args.quick) && mode != data.mode {
        notes.push(keep(
            format!("--{}", mode.name()),
            format!("{} data", data.mode.name()),
        ));
    }
    if args.data_dir.is_some() && args.source().data_dir() != data.data_dir {
        notes.push(keep("--data-dir".into(), data.source().describe()));
    }
    notes
}

/// One run of a lab: its config, its folder and its device.
pub struct Session<C> {
    pub lab: Lab,
    pub config: C,
    pub run: RunDir,
    /// The device for inference (no gradients); [`Session::train_device`] for training.
    pub device: Device,
    device_choice: DeviceChoice,
    /// Whether this run continues an earlier one (`--resume`).
    pub resumed: bool,
}

impl<C: RunConfig> Session<C> {
    pub fn source(&self) -> DataSource {
        self.config.data().source()
    }

    /// The device with autodiff, its random generator seeded with the run's seed: build the
    /// model on it, right after this call, and its first weights are the same every time.
    pub fn train_device(&self) -> Device {
        self.device.seed(self.config.fit().seed);
        self.device.clone().autodiff()
    }

    /// `flex (CPU, 2 threads; AMD EPYC, avx2 + avx512f)`.
    pub fn device_name(&self) -> String {
        crate::device::describe(self.device_choice)
    }

    /// `for 10 epochs, batch 64, Adam lr 0.001 x0.8 per epoch`.
    pub fn schedule(&self, optimizer: &OptimizerConfig) -> String {
        let fit = self.config.fit();
        let decay = if fit.lr_decay == 1.0 {
            String::new()
        } else {
            format!(" x{} per epoch", fit.lr_decay)
        };
        format!(
            "{} epoch{}, batch {}, {} lr {}{decay}",
            fit.epochs,
            if fit.epochs == 1 { "" } else { "s" },
            fit.batch_size,
            optimizer.name(),
            fit.lr
        )
    }

    /// The model and its optimiser, ready for [`fit`](fn@crate::train::fit): fresh, or, on a
    /// resumed run, with the weights, optimiser state and history of its checkpoint. Prints
    /// the line that says how it will train.
    pub fn training<M: Module>(
        &self,
        model: M,
        optimizer: &OptimizerConfig,
    ) -> Result<Training<M>> {
        self.training_in(&self.run, model, optimizer)
    }

    /// [`Session::training`] into another folder than the session's (a sub-run, such as
    /// lab 2's `plain/` and `strong/`), with the session's settings.
    pub fn training_in<M: Module>(
        &self,
        run: &RunDir,
        model: M,
        optimizer: &OptimizerConfig,
    ) -> Result<Training<M>> {
        println!(
            "training on {} for {}\n  optimiser: {}",
            self.device_name(),
            self.schedule(optimizer),
            optimizer.describe()
        );
        let train_device = self.device.clone().autodiff();
        let training = Training::new(model, optimizer.init(), &train_device).in_run(run);
        // A resumed run continues from its checkpoint (an error if it has none); a sub-run
        // that had not got as far as one starts afresh.
        let own = run.path == self.run.path;
        if self.resumed && (own || crate::train::fit::checkpoint_dir(&run.path).is_some()) {
            training.resume(run)
        } else {
            Ok(training)
        }
    }

    /// Saves the trained model (`model.bpk`) and its curves (`curves.png`, titled `what`),
    /// and starts the summary with what every lab reports: data, device, parameters, epochs,
    /// the last epoch's metrics, speed and time.
    pub fn finish<M: Module + Clone>(&self, fitted: &Fitted<M>, what: &str) -> Result<Summary> {
        self.finish_in(&self.run, fitted, what)
    }

    /// [`Session::finish`] for a model trained in another folder (see [`Session::training_in`]).
    pub fn finish_in<M: Module + Clone>(
        &self,
        run: &RunDir,
        fitted: &Fitted<M>,
        what: &str,
    ) -> Result<Summary> {
        fitted
            .model
            .clone()
            .save_file(run.file("model.bpk"))
            .context("saving model.bpk")?;
        let history = &fitted.history;
        if !history.epochs.is_empty() {
            history.save(&run.path)?;
            crate::plot::plot_history(&run.file("curves.png"), history, what)?;
        }
        let mut summary = Summary::new(&format!("{} · {what}", self.lab.title));
        summary
            .row("data", self.source().describe())
            .row("device", self.device_name())
            .row("parameters", thousands(fitted.model.num_params()));
        let fit = self.config.fit();
        summary.row(
            "epochs",
            format!(
                "{} (batch {}, lr {}), {:.1} s{}",
                history.epochs.len(),
                fit.batch_size,
                fit.lr,
                fitted.seconds,
                if self.resumed {
                    " in this session (resumed)"
                } else {
                    ""
                },
            ),
        );
        if let Some(stopped) = fitted.stopped_early {
            summary.row(
                "stopped",
                format!(
                    "early, after epoch {stopped}; weights of epoch {}",
                    fitted.model_epoch
                ),
            );
        }
        if let Some(last) = history.last() {
            let side = |valid: bool| {
                history
                    .metrics
                    .iter()
                    .map(|&m| {
                        let v = if valid { last.valid(m) } else { last.train(m) };
                        match m {
                            crate::train::Metric::Accuracy => format!("accuracy {:.2}%", 100.0 * v),
                            _ => format!("{m} {v:.4}"),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            summary
                .row("final train", side(false))
                .row("final valid", side(true))
                .row(
                    "speed",
                    format!(
                        "{:.1} s per epoch, {} training samples/s",
                        last.seconds,
                        thousands(last.samples_per_second as usize)
                    ),
                );
        }
        Ok(summary)
    }

    /// Ends the summary with the run folder and what it holds, prints it and saves it as
    /// `summary.txt`.
    pub fn close(&self, summary: &mut Summary) -> Result<()> {
        self.close_in(&self.run, summary)
    }

    /// [`Session::close`] for a sub-run's folder.
    pub fn close_in(&self, run: &RunDir, summary: &mut Summary) -> Result<()> {
        let (plots, files) = listing(&run.path);
        summary
            .row("run folder", run.path.display())
            .row("files", files.join(" "));
        if !plots.is_empty() {
            summary.row("plots", plots.join(" "));
        }
        let text = summary.render();
        println!("\n{text}");
        run.write_text("summary.txt", &text)
    }
}

/// The PNGs and the other files (and folders, with a `/`) at the top of a run folder, with
/// `summary.txt` among the files because it is written next.
fn listing(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if e.path().is_dir() { name + "/" } else { name }
                })
                .filter(|name| !name.ends_with(".tmp"))
                .collect()
        })
        .unwrap_or_default();
    if !names.iter().any(|n| n == "summary.txt") {
        names.push("summary.txt".into());
    }
    names.sort();
    names.into_iter().partition(|n| n.ends_with(".png"))
}
