//! Weights in HDF5, laid out exactly as Keras's `model.save_weights("model.h5")` lays them out,
//! written and read with `hdf5-pure` (pure Rust: no libhdf5 to install).
//!
//! ```text
//! /                                  attributes: layer_names = [conv2d, max_pooling2d, …],
//! │                                              backend, keras_version
//! ├── conv2d/                        attribute:  weight_names = [conv2d/kernel:0, conv2d/bias:0]
//! │   └── conv2d/
//! │       ├── kernel:0               float32 (kh, kw, in, out)    (5, 5, 1, 6)
//! │       └── bias:0                 float32 (out,)               (6,)
//! ├── max_pooling2d/                 weight_names = [] (no weights)
//! ├── …
//! └── dense/
//!     └── dense/
//!         ├── kernel:0               float32 (in, out)            (400, 120)
//!         └── bias:0                 float32 (out,)
//! ```
//!
//! Two things differ between burn and Keras, and this file converts both ways:
//! - **Kernel order.** burn keeps a convolution's weights as `[out, in, kh, kw]`, Keras as
//!   `(kh, kw, in, out)`. Dense kernels are `(in, out)` in both.
//! - **What Flatten produces.** burn's images are channels-first `[c, h, w]`, Keras's are
//!   channels-last `(h, w, c)`, so the two flattened vectors list the same numbers in a
//!   different order, and the rows of the first Dense kernel after a Flatten are permuted.
//!
//! Reading also accepts the two other files a Keras user may have: a whole model saved with
//! `model.save("model.h5")` (the same layout inside a `model_weights` group) and Keras 3's
//! `model.save_weights("model.weights.h5")` (`layers/conv2d/vars/0` for the kernel, `vars/1`
//! for the bias).
//!
//! Like Keras, loading matches the layers that have weights *in order* (Keras names layers
//! `dense_7` or `dense_12` depending on how many were created before, so names are only
//! reported, not required to match; a Keras 3 file keeps no order and is matched by name)
//! and checks every shape before touching the model: a load either gives a model with all
//! the file's weights or returns an error, and the model passed in is never changed.

use std::collections::HashMap;
use std::path::Path;

use burn::module::Param;
use burn::prelude::*;
use hdf5_pure::{AttrValue, File, FileBuilder};

use crate::architecture::{LayerConfig, LayerShape};
use crate::model::{Layer, Sequential};

/// The Keras version whose weight layout this module writes (tf.keras / tf_keras 2.x;
/// Keras 3 still reads it with `model.load_weights("x.h5")`).
pub const KERAS_LAYOUT_VERSION: &str = "2.21.0";

#[derive(Debug, thiserror::Error)]
pub enum KerasH5Error {
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} is not an HDF5 file (it does not start with the HDF5 signature): pass weights \
         saved by Keras (model.save_weights) or by this lab (weights.h5)"
    )]
    NotHdf5 { path: String },
    #[error("{path} is a damaged or truncated HDF5 file ({message}): save or copy it again")]
    Damaged { path: String, message: String },
    #[error(
        "{path} holds no Keras weights: there is no `layer_names` attribute at its root \
         (a save_weights file) or in its `model_weights` group (a model.save file), and no \
         `layers` group (a Keras 3 .weights.h5 file)"
    )]
    NotKeras { path: String },
    #[error("{path}: layer {layer}: {problem}")]
    Layer {
        path: String,
        layer: String,
        problem: String,
    },
    #[error(
        "{path} is for another architecture: it has weights for {found} layers ({file_layers}), \
         this model has {expected} ({model_layers}); build the architecture it was saved from \
         (--architecture)"
    )]
    LayerCount {
        path: String,
        found: usize,
        file_layers: String,
        expected: usize,
        model_layers: String,
    },
    #[error("writing {path}: {message}")]
    Write { path: String, message: String },
}

/// One weight array in Keras's order, e.g. `conv2d/kernel:0`, `(5, 5, 1, 6)`.
#[derive(Debug, Clone, PartialEq)]
pub struct KerasWeight {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// One layer as the file lists it: its name and its weights (none for pooling, flatten, …).
#[derive(Debug, Clone, PartialEq)]
pub struct KerasLayer {
    pub name: String,
    pub weights: Vec<KerasWeight>,
}

/// How to turn burn's weights of one layer into Keras's and back.
#[derive(Debug, Clone, Copy)]
enum Conversion {
    /// `[out, in, kh, kw]` ↔ `(kh, kw, in, out)`
    Conv {
        out: usize,
        inp: usize,
        kh: usize,
        kw: usize,
    },
    /// `[in, out]` ↔ `(in, out)`; when the input comes straight from a Flatten of a
    /// `[c, h, w]` image, the rows are reordered from `c, h, w` to `h, w, c`.
    Dense {
        inp: usize,
        out: usize,
        flattened: Option<[usize; 3]>,
    },
}

impl Conversion {
    fn keras_kernel_shape(&self) -> Vec<usize> {
        match *self {
            Conversion::Conv { out, inp, kh, kw } => vec![kh, kw, inp, out],
            Conversion::Dense { inp, out, .. } => vec![inp, out],
        }
    }

    fn bias_len(&self) -> usize {
        match *self {
            Conversion::Conv { out, .. } | Conversion::Dense { out, .. } => out,
        }
    }

    /// For every kernel value, its index in burn's layout and its index in Keras's.
    fn index_pairs(self) -> Vec<(usize, usize)> {
        let mut pairs = Vec::new();
        match self {
            Conversion::Conv { out, inp, kh, kw } => {
                for o in 0..out {
                    for i in 0..inp {
                        for y in 0..kh {
                            for x in 0..kw {
                                pairs.push((
                                    ((o * inp + i) * kh + y) * kw + x,
                                    ((y * kw + x) * inp + i) * out + o,
                                ));
                            }
                        }
                    }
                }
            }
            Conversion::Dense {
                inp,
                out,
                flattened,
            } => {
                for (burn_row, keras_row) in dense_rows(flattened, inp) {
                    for j in 0..out {
                        pairs.push((burn_row * out + j, keras_row * out + j));
                    }
                }
            }
        }
        pairs
    }

    /// burn's flat kernel → Keras's flat kernel.
    fn keras_order(self, burn: &[f32]) -> Vec<f32> {
        let mut keras = vec![0.0; burn.len()];
        for (b, k) in self.index_pairs() {
            keras[k] = burn[b];
        }
        keras
    }

    /// Keras's flat kernel → burn's flat kernel.
    fn burn_order(self, keras: &[f32]) -> Vec<f32> {
        let mut burn = vec![0.0; keras.len()];
        for (b, k) in self.index_pairs() {
            burn[b] = keras[k];
        }
        burn
    }
}

/// Pairs (row in burn's kernel, row in Keras's kernel) of a Dense layer with `rows` inputs.
/// After a Flatten of `[c, h, w]`, input `(c, y, x)` is row `c*h*w + y*w + x` for burn and
/// row `(y*w + x)*c_total + c` for Keras; otherwise the rows are the same.
fn dense_rows(flattened: Option<[usize; 3]>, rows: usize) -> Vec<(usize, usize)> {
    match flattened {
        Some([channels, height, width]) => {
            let mut pairs = Vec::with_capacity(rows);
            for c in 0..channels {
                for y in 0..height {
                    for x in 0..width {
                        pairs.push(((c * height + y) * width + x, (y * width + x) * channels + c));
                    }
                }
            }
            pairs
        }
        None => (0..rows).map(|r| (r, r)).collect(),
    }
}

/// The conversion of every layer that has weights, by index into `config.layers`.
fn conversions(model: &Sequential) -> Vec<(usize, Conversion)> {
    let config = &model.config;
    let inputs = config
        .input_shapes()
        .expect("a built model's config is valid");
    let mut out = Vec::new();
    for (index, (layer, input)) in config.layers.iter().zip(&inputs).enumerate() {
        match (layer, *input) {
            (
                LayerConfig::Conv2D {
                    filters,
                    kernel_size: [kh, kw],
                    ..
                },
                LayerShape::Image([channels, _, _]),
            ) => out.push((
                index,
                Conversion::Conv {
                    out: *filters,
                    inp: channels,
                    kh: *kh,
                    kw: *kw,
                },
            )),
            (LayerConfig::Dense { units, .. }, LayerShape::Flat(n)) => {
                // The nearest layer before this one that changes values (dropout does not).
                let source = config.layers[..index]
                    .iter()
                    .zip(&inputs[..index])
                    .rev()
                    .find(|(l, _)| !matches!(l, LayerConfig::Dropout { .. }));
                let flattened = match source {
                    Some((LayerConfig::Flatten { .. }, LayerShape::Image(dims))) => Some(*dims),
                    _ => None,
                };
                out.push((
                    index,
                    Conversion::Dense {
                        inp: n,
                        out: *units,
                        flattened,
                    },
                ));
            }
            _ => {}
        }
    }
    out
}

fn floats<const D: usize>(param: &Param<Tensor<D>>) -> Vec<f32> {
    shared::floats(param.val())
}

/// The model's weights in Keras's names, shapes and order: every layer, weights or not.
pub fn keras_layers(model: &Sequential) -> Vec<KerasLayer> {
    let conversions: HashMap<usize, Conversion> = conversions(model).into_iter().collect();
    model
        .config
        .layers
        .iter()
        .zip(&model.layers)
        .enumerate()
        .map(|(index, (config, layer))| {
            let name = config.name().to_string();
            let (kernel, bias) = match layer {
                Layer::Conv2D(conv) => (floats(&conv.weight), conv.bias.as_ref().map(floats)),
                Layer::Dense(dense) => (floats(&dense.weight), dense.bias.as_ref().map(floats)),
                _ => {
                    return KerasLayer {
                        name,
                        weights: Vec::new(),
                    };
                }
            };
            let conversion = conversions[&index];
            let mut weights = vec![KerasWeight {
                name: format!("{name}/kernel:0"),
                shape: conversion.keras_kernel_shape(),
                values: conversion.keras_order(&kernel),
            }];
            if let Some(bias) = bias {
                weights.push(KerasWeight {
                    name: format!("{name}/bias:0"),
                    shape: vec![bias.len()],
                    values: bias,
                });
            }
            KerasLayer { name, weights }
        })
        .collect()
}

fn ascii_strings(values: Vec<String>) -> AttrValue {
    AttrValue::AsciiStringArray(values)
}

/// Writes the model's weights to `path` in the Keras layout. The file is written beside its
/// final name and renamed into place: an existing file is replaced only by a complete one.
pub fn save(model: &Sequential, path: &Path) -> Result<(), KerasH5Error> {
    let layers = keras_layers(model);
    let mut builder = FileBuilder::new();
    builder.set_attr(
        "layer_names",
        ascii_strings(layers.iter().map(|l| l.name.clone()).collect()),
    );
    builder.set_attr("backend", AttrValue::AsciiString("tensorflow".into()));
    builder.set_attr(
        "keras_version",
        AttrValue::AsciiString(KERAS_LAYOUT_VERSION.into()),
    );
    builder.set_attr(
        "producer",
        AttrValue::AsciiString("burn-labs lab-save-load (burn 0.22, hdf5-pure)".into()),
    );
    for layer in &layers {
        let mut group = builder.create_group(&layer.name);
        group.set_attr(
            "weight_names",
            ascii_strings(layer.weights.iter().map(|w| w.name.clone()).collect()),
        );
        // `conv2d/kernel:0` is the dataset `kernel:0` in a sub-group `conv2d`.
        let mut subgroups: Vec<(String, Vec<&KerasWeight>)> = Vec::new();
        for weight in &layer.weights {
            let (prefix, _) = weight.name.split_once('/').expect("names are prefix/name");
            match subgroups.iter_mut().find(|(p, _)| p == prefix) {
                Some((_, list)) => list.push(weight),
                None => subgroups.push((prefix.to_string(), vec![weight])),
            }
        }
        for (prefix, weights) in subgroups {
            let mut sub = group.create_group(&prefix);
            for weight in weights {
                let (_, leaf) = weight.name.split_once('/').expect("names are prefix/name");
                let shape: Vec<u64> = weight.shape.iter().map(|&d| d as u64).collect();
                sub.create_dataset(leaf)
                    .with_f32_data(&weight.values)
                    .with_shape(&shape);
            }
            group.add_group(sub.finish());
        }
        builder.add_group(group.finish());
    }
    let shown = path.display().to_string();
    let bytes = builder.finish().map_err(|e| KerasH5Error::Write {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    shared::run::write_atomic(path, &bytes).map_err(|e| KerasH5Error::Write {
        path: shown,
        message: format!("{e:#}"),
    })
}

/// An attribute holding a list of names. h5py stores Keras's empty `weight_names` as an
/// empty float array (`np.asarray([])`), so any empty array counts as an empty list.
fn string_list(value: &AttrValue) -> Option<Vec<String>> {
    if let Some(strings) = value.as_strings() {
        return Some(strings.to_vec());
    }
    let empty = match value {
        AttrValue::F32Array(v) => v.is_empty(),
        AttrValue::F64Array(v) => v.is_empty(),
        AttrValue::I8Array(v) => v.is_empty(),
        AttrValue::I16Array(v) => v.is_empty(),
        AttrValue::I32Array(v) => v.is_empty(),
        AttrValue::I64Array(v) => v.is_empty(),
        AttrValue::U8Array(v) => v.is_empty(),
        AttrValue::U16Array(v) => v.is_empty(),
        AttrValue::U32Array(v) => v.is_empty(),
        AttrValue::U64Array(v) => v.is_empty(),
        _ => false,
    };
    empty.then(Vec::new)
}

/// Opens an HDF5 file, telling "not HDF5 at all" from "HDF5 but broken".
fn open(path: &Path) -> Result<File, KerasH5Error> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| KerasH5Error::Io {
        path: shown.clone(),
        source,
    })?;
    if !hdf5_pure::is_hdf5_bytes(&bytes) {
        return Err(KerasH5Error::NotHdf5 { path: shown });
    }
    let length = bytes.len() as u64;
    let file = File::from_bytes(bytes).map_err(|e| KerasH5Error::Damaged {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    // Like libhdf5 (and so h5py and Keras), refuse a file shorter than its superblock says,
    // even when the part that is left happens to hold every weight.
    let superblock = file.superblock();
    let expected = superblock.base_address.get() + superblock.eof_address;
    if expected > length {
        return Err(KerasH5Error::Damaged {
            path: shown,
            message: format!("truncated: it should be {expected} bytes long, it has {length}"),
        });
    }
    Ok(file)
}

/// Which Keras wrote the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KerasLayout {
    /// `model.save_weights("x.h5")` of Keras 2: `layer_names` at the root (what we write).
    SaveWeights,
    /// `model.save("x.h5")` (Keras 2 or 3): the same, inside a `model_weights` group.
    ModelSave,
    /// `model.save_weights("x.weights.h5")` of Keras 3: `layers/<name>/vars/0, 1, …`,
    /// matched by layer name (the file keeps no layer order).
    Keras3,
}

/// A Keras weights file, read without any model.
#[derive(Debug, Clone, PartialEq)]
pub struct KerasFile {
    pub layout: KerasLayout,
    /// Every layer, weights or not; in the model's order except for [`KerasLayout::Keras3`].
    pub layers: Vec<KerasLayer>,
}

/// Reads every layer of a Keras weights file: the `save_weights` layout of Keras 2, the
/// `model_weights` group of a whole-model `model.save("x.h5")`, or Keras 3's `.weights.h5`.
pub fn read(path: &Path) -> Result<KerasFile, KerasH5Error> {
    let shown = path.display().to_string();
    let file = open(path)?;
    let damaged = |e: hdf5_pure::Error| KerasH5Error::Damaged {
        path: shown.clone(),
        message: e.to_string(),
    };
    let layer_error = |layer: &str, problem: String| KerasH5Error::Layer {
        path: shown.clone(),
        layer: layer.to_string(),
        problem,
    };

    // First where each layer's weights are: (layer, [(weight name, dataset path)]).
    let mut listing: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let root_attrs = file.root().attrs().map_err(damaged)?;
    let legacy = if root_attrs.contains_key("layer_names") {
        Some((KerasLayout::SaveWeights, "", root_attrs))
    } else if let Ok(group) = file.group("model_weights") {
        Some((
            KerasLayout::ModelSave,
            "model_weights/",
            group.attrs().map_err(damaged)?,
        ))
    } else {
        None
    };
    let layout = match legacy {
        Some((layout, prefix, attrs)) => {
            let layer_names = attrs
                .get("layer_names")
                .and_then(string_list)
                .ok_or_else(|| KerasH5Error::NotKeras {
                    path: shown.clone(),
                })?;
            for name in layer_names {
                let group = file.group(&format!("{prefix}{name}")).map_err(|_| {
                    layer_error(
                        &name,
                        "listed in layer_names, but the file has no group of that name".into(),
                    )
                })?;
                let weight_names = group
                    .attrs()
                    .map_err(damaged)?
                    .get("weight_names")
                    .and_then(string_list)
                    .ok_or_else(|| {
                        layer_error(&name, "its group has no weight_names attribute".into())
                    })?;
                let weights = weight_names
                    .into_iter()
                    .map(|w| {
                        let dataset = format!("{prefix}{name}/{w}");
                        (w, dataset)
                    })
                    .collect();
                listing.push((name, weights));
            }
            layout
        }
        None => {
            let layers = file.group("layers").map_err(|_| KerasH5Error::NotKeras {
                path: shown.clone(),
            })?;
            let mut names = layers.groups().map_err(damaged)?;
            names.sort();
            for name in names {
                let mut vars = match file.group(&format!("layers/{name}/vars")) {
                    Ok(vars) => vars.datasets().map_err(damaged)?,
                    Err(_) => Vec::new(),
                };
                // Variables are numbered in creation order: 0 = kernel, 1 = bias.
                vars.sort_by_key(|v| v.parse::<usize>().unwrap_or(usize::MAX));
                let weights = vars
                    .into_iter()
                    .map(|v| {
                        (
                            format!("{name}/vars/{v}"),
                            format!("layers/{name}/vars/{v}"),
                        )
                    })
                    .collect();
                listing.push((name, weights));
            }
            KerasLayout::Keras3
        }
    };

    // Then the arrays themselves.
    let mut layers = Vec::with_capacity(listing.len());
    for (name, listed) in listing {
        let mut weights = Vec::with_capacity(listed.len());
        for (weight_name, dataset_path) in listed {
            let dataset = file.dataset(&dataset_path).map_err(|_| {
                layer_error(
                    &name,
                    format!("weight {weight_name} is listed but missing from the file"),
                )
            })?;
            let problem = |e: hdf5_pure::Error| {
                layer_error(&name, format!("weight {weight_name} cannot be read: {e}"))
            };
            let shape: Vec<usize> = dataset
                .shape()
                .map_err(problem)?
                .iter()
                .map(|&d| d as usize)
                .collect();
            let values = dataset.read_f32().map_err(problem)?;
            if values.len() != shape.iter().product::<usize>() {
                return Err(layer_error(
                    &name,
                    format!(
                        "weight {weight_name} has {} values for shape {shape:?}",
                        values.len()
                    ),
                ));
            }
            weights.push(KerasWeight {
                name: weight_name,
                shape,
                values,
            });
        }
        layers.push(KerasLayer { name, weights });
    }
    Ok(KerasFile { layout, layers })
}

fn shape_text(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(usize::to_string).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// The weight's short name: `conv2d/kernel:0` → `kernel`, `dense/bias` → `bias`.
fn short_name(name: &str) -> &str {
    let leaf = name.rsplit('/').next().unwrap_or(name);
    leaf.split(':').next().unwrap_or(leaf)
}

/// A copy of `model` with the weights of a Keras weights file. `model` itself is never
/// changed: on any problem (another architecture, a missing layer or weight, a wrong shape,
/// a damaged file) the error names it and the caller still has the model it had.
pub fn load(model: &Sequential, path: &Path) -> Result<Sequential, KerasH5Error> {
    let shown = path.display().to_string();
    let file = read(path)?;
    let mut file_layers: Vec<KerasLayer> = file
        .layers
        .into_iter()
        .filter(|l| !l.weights.is_empty())
        .collect();
    let conversions = conversions(model);
    let names = |list: Vec<&str>| list.join(", ");
    if file.layout == KerasLayout::Keras3 {
        // No order in the file: put its layers in the model's order, by name.
        let mut ordered = Vec::with_capacity(conversions.len());
        for (index, _) in &conversions {
            let ours = model.config.layers[*index].name();
            match file_layers.iter().position(|l| l.name == ours) {
                Some(found) => ordered.push(file_layers.remove(found)),
                None => {
                    return Err(KerasH5Error::Layer {
                        path: shown,
                        layer: ours.into(),
                        problem: format!(
                            "the file has no weights for it (it has weights for {})",
                            names(
                                file_layers
                                    .iter()
                                    .chain(&ordered)
                                    .map(|l| l.name.as_str())
                                    .collect()
                            )
                        ),
                    });
                }
            }
        }
        ordered.append(&mut file_layers);
        file_layers = ordered;
    }
    if file_layers.len() != conversions.len() {
        return Err(KerasH5Error::LayerCount {
            path: shown,
            found: file_layers.len(),
            file_layers: names(file_layers.iter().map(|l| l.name.as_str()).collect()),
            expected: conversions.len(),
            model_layers: names(
                conversions
                    .iter()
                    .map(|(i, _)| model.config.layers[*i].name())
                    .collect(),
            ),
        });
    }

    // Check and convert everything first; only then build the new model.
    let mut converted: HashMap<usize, (Vec<f32>, Vec<f32>)> = HashMap::new();
    for ((index, conversion), file_layer) in conversions.iter().zip(&file_layers) {
        let ours = model.config.layers[*index].name();
        let layer_error = |problem: String| KerasH5Error::Layer {
            path: shown.clone(),
            layer: if file_layer.name == ours {
                ours.to_string()
            } else {
                format!("{} (the model's {ours})", file_layer.name)
            },
            problem,
        };
        let find = |short: &str| {
            file_layer
                .weights
                .iter()
                .find(|w| short_name(&w.name) == short)
        };
        let listed: Vec<&str> = file_layer.weights.iter().map(|w| w.name.as_str()).collect();
        // Keras 2 names them `…/kernel:0`, Keras 3 `…/kernel` or `…/vars/0`.
        let (Some(kernel), Some(bias)) = (
            find("kernel").or_else(|| find("0")),
            find("bias").or_else(|| find("1")),
        ) else {
            return Err(layer_error(format!(
                "expected a kernel and a bias, the file has {}",
                listed.join(", ")
            )));
        };
        if file_layer.weights.len() != 2 {
            return Err(layer_error(format!(
                "expected a kernel and a bias, the file has {} weights ({})",
                listed.len(),
                listed.join(", ")
            )));
        }
        let expected_kernel = conversion.keras_kernel_shape();
        if kernel.shape != expected_kernel {
            return Err(layer_error(format!(
                "{} has shape {} in the file, the model expects {}: the file is for another \
                 architecture",
                kernel.name,
                shape_text(&kernel.shape),
                shape_text(&expected_kernel)
            )));
        }
        if bias.shape != [conversion.bias_len()] {
            return Err(layer_error(format!(
                "{} has shape {} in the file, the model expects {}: the file is for another \
                 architecture",
                bias.name,
                shape_text(&bias.shape),
                shape_text(&[conversion.bias_len()])
            )));
        }
        converted.insert(
            *index,
            (conversion.burn_order(&kernel.values), bias.values.clone()),
        );
    }

    let mut loaded = model.clone();
    for (index, layer) in loaded.layers.iter_mut().enumerate() {
        let Some((kernel, bias)) = converted.remove(&index) else {
            continue;
        };
        match layer {
            Layer::Conv2D(conv) => {
                conv.weight = replaced(&conv.weight, kernel);
                conv.bias = conv.bias.as_ref().map(|b| replaced(b, bias));
            }
            Layer::Dense(dense) => {
                dense.weight = replaced(&dense.weight, kernel);
                dense.bias = dense.bias.as_ref().map(|b| replaced(b, bias));
            }
            _ => unreachable!("conversions only exist for layers with weights"),
        }
    }
    Ok(loaded)
}

/// A parameter of the same shape, on the same device, holding `values`.
fn replaced<const D: usize>(param: &Param<Tensor<D>>, values: Vec<f32>) -> Param<Tensor<D>> {
    let tensor = param.val();
    let data = TensorData::new(values, tensor.shape());
    Param::from_tensor(Tensor::from_data(data, &tensor.device()))
}

/// `conv2d  kernel:0 (5, 5, 1, 6)  bias:0 (6,)` for every layer: what the file holds.
pub fn describe(layers: &[KerasLayer]) -> String {
    let width = layers.iter().map(|l| l.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for layer in layers {
        let weights: Vec<String> = layer
            .weights
            .iter()
            .map(|w| format!("{} {}", w.name, shape_text(&w.shape)))
            .collect();
        let weights = if weights.is_empty() {
            "(no weights)".to_string()
        } else {
            weights.join("  ")
        };
        text.push_str(&format!("  {:width$}  {weights}\n", layer.name));
    }
    text
}
