//! The architecture as data: what Keras's `model.to_json()` / `to_yaml()` wrote.
//!
//! A Keras `Sequential` model is a list of layers, each with a class name and its settings.
//! Here the same list is a plain Rust value, [`SequentialConfig`], that serde turns into JSON
//! (burn's `Config`, as every lab saves its `config.json`) or YAML (serde-saphyr) and back:
//!
//! ```yaml
//! name: lenet5
//! input_shape: [1, 28, 28]        # channels, height, width
//! layers:
//! - class_name: Conv2D
//!   name: conv2d
//!   filters: 6
//!   kernel_size: [5, 5]
//!   padding: same
//!   activation: relu
//! - class_name: MaxPooling2D
//!   ...
//! ```
//!
//! ## Why Keras dropped `to_yaml()`, and why this YAML is safe
//!
//! Keras's `model_from_yaml()` parsed the file with PyYAML's full loader, and YAML can name a
//! Python class to build (`!!python/object/apply:os.system ["..."]`): opening a model file from
//! someone else could run their code (CVE-2021-37678). TensorFlow 2.6 (2021) removed
//! `to_yaml()` and `model_from_yaml()`; JSON, which only has numbers, strings, lists and
//! objects, stayed.
//!
//! In Rust the file does not choose what gets built, the type does: serde can only produce a
//! [`SequentialConfig`], whose layers are one of the five [`LayerConfig`] variants below.
//! An unknown `class_name`, an unknown key or a tag such as `!!python/object` is a parse
//! error, and [`SequentialConfig::validate`] then checks that the layers fit together before
//! any tensor is allocated. Nothing in the file is ever executed.

use std::fmt;
use std::path::Path;

use burn::config::Config;
use serde::{Deserialize, Serialize};

/// A sequential network: the input shape and the layers in order (Keras's `Sequential`).
///
/// A burn [`Config`] like every lab's settings (`save`, `load`, `config_to_json`); the serde
/// traits are derived by hand here only to write short lists inline in YAML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequentialConfig {
    /// The model's name (Keras: `model.name`).
    pub name: String,
    /// One input image: `[channels, height, width]`.
    #[serde(serialize_with = "inline_list")]
    pub input_shape: [usize; 3],
    pub layers: Vec<LayerConfig>,
}

/// One layer, tagged with its Keras class name. The set is closed: these five, nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "class_name", deny_unknown_fields)]
pub enum LayerConfig {
    /// 합성곱 (convolution), stride 1.
    Conv2D {
        name: String,
        filters: usize,
        #[serde(serialize_with = "inline_list")]
        kernel_size: [usize; 2],
        padding: Padding,
        activation: Activation,
    },
    /// 풀링 (pooling): the largest value of each `pool_size` window, stride = window.
    MaxPooling2D {
        name: String,
        #[serde(serialize_with = "inline_list")]
        pool_size: [usize; 2],
    },
    /// `[channels, height, width]` → one vector.
    Flatten { name: String },
    /// Fully connected.
    Dense {
        name: String,
        units: usize,
        activation: Activation,
    },
    /// Zeroes a share `rate` of its inputs while training; does nothing at test time.
    Dropout { name: String, rate: f64 },
}

/// Short lists are written `[5, 5]` in YAML, not one item per line (JSON is unchanged).
fn inline_list<S: serde::Serializer, const N: usize>(
    list: &[usize; N],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serde_saphyr::FlowSeq(list.as_slice()).serialize(serializer)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Padding {
    /// Zero border so that the output keeps the input's size.
    Same,
    /// No border: the output shrinks by `kernel - 1`.
    Valid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Linear,
    Relu,
    Tanh,
    Sigmoid,
    /// Only as the last layer: turns class scores into probabilities.
    Softmax,
}

/// The shape of the values between two layers, for one example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerShape {
    /// `[channels, height, width]`
    Image([usize; 3]),
    Flat(usize),
}

impl fmt::Display for LayerShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerShape::Image([c, h, w]) => write!(f, "{c}x{h}x{w}"),
            LayerShape::Flat(n) => write!(f, "{n}"),
        }
    }
}

/// What is wrong with an architecture file, naming the layer.
#[derive(Debug, thiserror::Error)]
pub enum ArchitectureError {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a valid architecture file: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: unknown architecture format: use a .json, .yaml or .yml file")]
    UnknownFormat { path: String },
    #[error("the architecture has no layers")]
    Empty,
    #[error("the input shape {0:?} has a zero in it")]
    ZeroInput([usize; 3]),
    #[error("two layers are named {0:?}: layer names must be unique")]
    DuplicateName(String),
    #[error("layer {layer}: {problem}")]
    Layer { layer: String, problem: String },
    #[error("the architecture is too large: {0}")]
    TooLarge(String),
}

/// The most parameters an architecture may have here: 50 million (200 MB of weights, about
/// four times that with Adam's state and the gradients), far above any network of the course.
pub const MAX_PARAMS: usize = 50_000_000;

/// The most memory the outputs of one training batch (and their gradients) may take.
pub const MAX_ACTIVATION_BYTES: u64 = 4 << 30;

/// `1.2e12`-style counts stay readable when they are absurd.
fn describe_count(n: usize) -> String {
    if n == usize::MAX {
        "more than 2^64".into()
    } else if n >= 1_000_000_000 {
        format!("{:.1e}", n as f64)
    } else {
        shared::report::thousands(n)
    }
}

fn describe_bytes(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.0} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

impl LayerConfig {
    pub fn name(&self) -> &str {
        match self {
            LayerConfig::Conv2D { name, .. }
            | LayerConfig::MaxPooling2D { name, .. }
            | LayerConfig::Flatten { name }
            | LayerConfig::Dense { name, .. }
            | LayerConfig::Dropout { name, .. } => name,
        }
    }

    /// The Keras class name (`Conv2D`, `Dense`, …).
    pub fn class_name(&self) -> &'static str {
        match self {
            LayerConfig::Conv2D { .. } => "Conv2D",
            LayerConfig::MaxPooling2D { .. } => "MaxPooling2D",
            LayerConfig::Flatten { .. } => "Flatten",
            LayerConfig::Dense { .. } => "Dense",
            LayerConfig::Dropout { .. } => "Dropout",
        }
    }

    /// A one-line description for summaries: `Conv2D 6 @ 5x5 same, relu`.
    pub fn describe(&self) -> String {
        match self {
            LayerConfig::Conv2D {
                filters,
                kernel_size: [kh, kw],
                padding,
                activation,
                ..
            } => format!(
                "Conv2D {filters} @ {kh}x{kw} {}, {}",
                lower(padding),
                lower(activation)
            ),
            LayerConfig::MaxPooling2D {
                pool_size: [ph, pw],
                ..
            } => format!("MaxPooling2D {ph}x{pw}"),
            LayerConfig::Flatten { .. } => "Flatten".into(),
            LayerConfig::Dense {
                units, activation, ..
            } => format!("Dense {units}, {}", lower(activation)),
            LayerConfig::Dropout { rate, .. } => format!("Dropout {rate}"),
        }
    }

    /// The output shape for an input of shape `input`, or what is wrong.
    fn output_shape(&self, input: LayerShape, is_last: bool) -> Result<LayerShape, String> {
        match (self, input) {
            (
                LayerConfig::Conv2D {
                    filters,
                    kernel_size: [kh, kw],
                    padding,
                    activation,
                    ..
                },
                LayerShape::Image([_, h, w]),
            ) => {
                if *filters == 0 || *kh == 0 || *kw == 0 {
                    return Err("filters and kernel_size must be at least 1".into());
                }
                if *activation == Activation::Softmax {
                    return Err("softmax belongs to the last Dense layer only".into());
                }
                match padding {
                    Padding::Same if kh % 2 == 0 || kw % 2 == 0 => Err(format!(
                        "`same` padding needs an odd kernel size (got {kh}x{kw}): \
                         an even one cannot be centred"
                    )),
                    Padding::Same => Ok(LayerShape::Image([*filters, h, w])),
                    Padding::Valid if *kh > h || *kw > w => Err(format!(
                        "its {kh}x{kw} kernel is larger than its {h}x{w} input \
                         (use `same` padding or a smaller kernel)"
                    )),
                    Padding::Valid => Ok(LayerShape::Image([*filters, h - kh + 1, w - kw + 1])),
                }
            }
            (
                LayerConfig::MaxPooling2D {
                    pool_size: [ph, pw],
                    ..
                },
                LayerShape::Image([c, h, w]),
            ) => {
                if *ph == 0 || *pw == 0 {
                    return Err("pool_size must be at least 1".into());
                }
                if *ph > h || *pw > w {
                    return Err(format!(
                        "its {ph}x{pw} window is larger than its {h}x{w} input"
                    ));
                }
                Ok(LayerShape::Image([c, h / ph, w / pw]))
            }
            // Saturating: an absurd size stays absurd (and is refused by the parameter count)
            // instead of wrapping round to a small one.
            (LayerConfig::Flatten { .. }, LayerShape::Image([c, h, w])) => {
                Ok(LayerShape::Flat(c.saturating_mul(h).saturating_mul(w)))
            }
            (LayerConfig::Flatten { .. }, LayerShape::Flat(_)) => {
                Err("its input is already flat (two Flatten layers?)".into())
            }
            (
                LayerConfig::Dense {
                    units, activation, ..
                },
                LayerShape::Flat(_),
            ) => {
                if *units == 0 {
                    return Err("units must be at least 1".into());
                }
                if *activation == Activation::Softmax && !is_last {
                    return Err("softmax belongs to the last layer only".into());
                }
                Ok(LayerShape::Flat(*units))
            }
            (LayerConfig::Dropout { rate, .. }, shape) => {
                if !(0.0..1.0).contains(rate) {
                    return Err(format!("rate must be in [0, 1), got {rate}"));
                }
                Ok(shape)
            }
            (
                LayerConfig::Conv2D { .. } | LayerConfig::MaxPooling2D { .. },
                LayerShape::Flat(n),
            ) => Err(format!(
                "it needs an image input, but its input is already a flat vector of {n}"
            )),
            (LayerConfig::Dense { .. }, LayerShape::Image(dims)) => Err(format!(
                "it needs a flat input, but gets an image of {}: add a Flatten layer before it",
                LayerShape::Image(dims)
            )),
        }
    }

    /// Trainable parameters for an input of shape `input` (`usize::MAX` if they cannot be
    /// counted: such a layer is refused by [`SequentialConfig::validate`]).
    pub fn params(&self, input: LayerShape) -> usize {
        match (self, input) {
            (
                LayerConfig::Conv2D {
                    filters,
                    kernel_size: [kh, kw],
                    ..
                },
                LayerShape::Image([c, _, _]),
            ) => filters.saturating_mul(kh.saturating_mul(*kw).saturating_mul(c).saturating_add(1)),
            (LayerConfig::Dense { units, .. }, LayerShape::Flat(n)) => {
                units.saturating_mul(n.saturating_add(1))
            }
            _ => 0,
        }
    }
}

/// `Relu` → `relu`, as the files spell it.
fn lower(value: &impl fmt::Debug) -> String {
    format!("{value:?}").to_lowercase()
}

impl Config for SequentialConfig {}

impl SequentialConfig {
    pub fn new(name: String, input_shape: [usize; 3], layers: Vec<LayerConfig>) -> Self {
        SequentialConfig {
            name,
            input_shape,
            layers,
        }
    }

    /// LeNet-5 from lab 1, written the way Keras would list it, with Keras's default layer
    /// names (the names the HDF5 file uses). 61,706 parameters, as in lab 1.
    pub fn lenet5() -> SequentialConfig {
        use Activation::*;
        let conv = |name: &str, filters, kernel, padding| LayerConfig::Conv2D {
            name: name.into(),
            filters,
            kernel_size: [kernel, kernel],
            padding,
            activation: Relu,
        };
        let pool = |name: &str| LayerConfig::MaxPooling2D {
            name: name.into(),
            pool_size: [2, 2],
        };
        let dense = |name: &str, units, activation| LayerConfig::Dense {
            name: name.into(),
            units,
            activation,
        };
        SequentialConfig::new(
            "lenet5".into(),
            [1, 28, 28],
            vec![
                conv("conv2d", 6, 5, Padding::Same),
                pool("max_pooling2d"),
                conv("conv2d_1", 16, 5, Padding::Valid),
                pool("max_pooling2d_1"),
                LayerConfig::Flatten {
                    name: "flatten".into(),
                },
                dense("dense", 120, Relu),
                dense("dense_1", 84, Relu),
                dense("dense_2", 10, Softmax),
            ],
        )
    }

    /// Checks that the layers fit together; returns each layer's output shape.
    pub fn validate(&self) -> Result<Vec<LayerShape>, ArchitectureError> {
        if self.layers.is_empty() {
            return Err(ArchitectureError::Empty);
        }
        if self.input_shape.contains(&0) {
            return Err(ArchitectureError::ZeroInput(self.input_shape));
        }
        let mut names = std::collections::HashSet::new();
        let mut shape = LayerShape::Image(self.input_shape);
        let mut shapes = Vec::with_capacity(self.layers.len());
        for (i, layer) in self.layers.iter().enumerate() {
            if layer.name().is_empty() || layer.name().contains('/') {
                return Err(ArchitectureError::Layer {
                    layer: format!("#{} ({:?})", i + 1, layer.name()),
                    problem: "a layer name must be non-empty and contain no '/'".into(),
                });
            }
            if !names.insert(layer.name()) {
                return Err(ArchitectureError::DuplicateName(layer.name().into()));
            }
            let is_last = i + 1 == self.layers.len();
            shape =
                layer
                    .output_shape(shape, is_last)
                    .map_err(|problem| ArchitectureError::Layer {
                        layer: layer.name().into(),
                        problem,
                    })?;
            shapes.push(shape);
        }
        // Count before anything is allocated: a Dense layer of a billion units must be an
        // error here, not a process killed for memory (or a panic inside burn) later.
        let inputs = std::iter::once(LayerShape::Image(self.input_shape)).chain(shapes.clone());
        let params = self
            .layers
            .iter()
            .zip(inputs)
            .fold(0usize, |sum, (layer, input)| {
                sum.saturating_add(layer.params(input))
            });
        if params > MAX_PARAMS {
            return Err(ArchitectureError::TooLarge(format!(
                "{} parameters (at most {} here: LeNet-5 has 61,706)",
                describe_count(params),
                describe_count(MAX_PARAMS)
            )));
        }
        Ok(shapes)
    }

    /// Bytes a training batch of `batch_size` needs for the layers' outputs and their
    /// gradients (4-byte floats, twice), counted without overflow.
    pub fn activation_bytes(&self, batch_size: usize) -> Result<u64, ArchitectureError> {
        let per_item = self
            .validate()?
            .iter()
            .map(|shape| match *shape {
                LayerShape::Image([c, h, w]) => c.saturating_mul(h).saturating_mul(w),
                LayerShape::Flat(n) => n,
            })
            .fold(0usize, usize::saturating_add);
        Ok((per_item as u64)
            .saturating_mul(batch_size as u64)
            .saturating_mul(8))
    }

    /// Refuses an architecture whose training batches would not fit in memory.
    pub fn check_memory(&self, batch_size: usize) -> Result<(), ArchitectureError> {
        let bytes = self.activation_bytes(batch_size)?;
        if bytes > MAX_ACTIVATION_BYTES {
            return Err(ArchitectureError::TooLarge(format!(
                "a batch of {batch_size} needs about {} of activations and gradients (at most \
                 {} here): use smaller layers or a smaller --batch-size",
                describe_bytes(bytes),
                describe_bytes(MAX_ACTIVATION_BYTES)
            )));
        }
        Ok(())
    }

    /// The input shape of every layer (the output of the one before).
    pub fn input_shapes(&self) -> Result<Vec<LayerShape>, ArchitectureError> {
        let outputs = self.validate()?;
        let mut inputs = vec![LayerShape::Image(self.input_shape)];
        inputs.extend(&outputs[..outputs.len() - 1]);
        Ok(inputs)
    }

    /// Number of trainable parameters, from the shapes alone.
    pub fn num_params(&self) -> Result<usize, ArchitectureError> {
        Ok(self
            .layers
            .iter()
            .zip(self.input_shapes()?)
            .map(|(layer, input)| layer.params(input))
            .sum())
    }

    /// The architecture as pretty JSON (what burn's `Config::save` writes).
    pub fn to_json(&self) -> String {
        burn::config::config_to_json(self)
    }

    /// The architecture as YAML.
    pub fn to_yaml(&self) -> String {
        // Serialising a plain struct of strings, numbers and lists cannot fail.
        serde_saphyr::to_string(self).expect("an architecture serialises to YAML")
    }

    pub fn from_json(text: &str) -> Result<SequentialConfig, String> {
        serde_json::from_str(text).map_err(|e| e.to_string())
    }

    pub fn from_yaml(text: &str) -> Result<SequentialConfig, String> {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }

    /// Reads a `.json`, `.yaml` or `.yml` file and validates it.
    pub fn read(path: &Path) -> Result<SequentialConfig, ArchitectureError> {
        let shown = path.display().to_string();
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let parse = match extension.as_deref() {
            Some("json") => SequentialConfig::from_json,
            Some("yaml" | "yml") => SequentialConfig::from_yaml,
            _ => return Err(ArchitectureError::UnknownFormat { path: shown }),
        };
        let text = std::fs::read_to_string(path).map_err(|source| ArchitectureError::Io {
            path: shown.clone(),
            source,
        })?;
        let config = parse(&text).map_err(|message| ArchitectureError::Parse {
            path: shown,
            message,
        })?;
        config.validate()?;
        Ok(config)
    }
}
