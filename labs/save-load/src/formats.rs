//! burn's own weight formats, and the checks that a saved model comes back unchanged.
//!
//! - **burnpack** (`.bpk`): burn's native file, what every lab saves and checkpoints.
//! - **safetensors**: the interchange format of Hugging Face and PyTorch; readable from
//!   Python with `safetensors.numpy.load_file`. Parameters keep burn's names and layout.
//! - **Keras HDF5**: see [`crate::keras_h5`].
//!
//! Every format stores the same 32-bit floats, so a round trip must give back the very same
//! bits, which [`compare`] checks parameter by parameter.

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};

use crate::model::{Layer, Sequential};

/// The three files the lab writes the weights to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightFormat {
    KerasH5,
    Burnpack,
    Safetensors,
}

impl WeightFormat {
    pub const ALL: [WeightFormat; 3] = [
        WeightFormat::KerasH5,
        WeightFormat::Burnpack,
        WeightFormat::Safetensors,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WeightFormat::KerasH5 => "Keras HDF5",
            WeightFormat::Burnpack => "burnpack",
            WeightFormat::Safetensors => "safetensors",
        }
    }

    /// The file name in a run folder.
    pub fn file(self) -> &'static str {
        match self {
            WeightFormat::KerasH5 => "weights.h5",
            WeightFormat::Burnpack => "model.bpk",
            WeightFormat::Safetensors => "model.safetensors",
        }
    }

    pub fn save(self, model: &Sequential, path: &Path) -> Result<()> {
        match self {
            WeightFormat::KerasH5 => Ok(crate::keras_h5::save(model, path)?),
            WeightFormat::Burnpack => save_burnpack(model, path),
            WeightFormat::Safetensors => save_safetensors(model, path),
        }
    }

    /// A copy of `model` with the file's weights; `model` is left as it is.
    pub fn load(self, model: &Sequential, path: &Path) -> Result<Sequential> {
        match self {
            WeightFormat::KerasH5 => Ok(crate::keras_h5::load(model, path)?),
            WeightFormat::Burnpack => load_burnpack(model, path),
            WeightFormat::Safetensors => load_safetensors(model, path),
        }
    }
}

/// One parameter: `conv2d.weight`, its burn shape and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Every parameter of the model, named after its layer.
pub fn parameters(model: &Sequential) -> Vec<Parameter> {
    let mut out = Vec::new();
    for (layer, config) in model.layers.iter().zip(&model.config.layers) {
        let mut push = |kind: &str, tensor: Tensor<1>, shape: Vec<usize>| {
            out.push(Parameter {
                name: format!("{}.{kind}", config.name()),
                shape,
                values: shared::floats(tensor),
            })
        };
        match layer {
            Layer::Conv2D(conv) => {
                let w = conv.weight.val();
                push("weight", w.clone().flatten(0, 3), w.dims().to_vec());
                if let Some(b) = &conv.bias {
                    push("bias", b.val(), b.val().dims().to_vec());
                }
            }
            Layer::Dense(dense) => {
                let w = dense.weight.val();
                push("weight", w.clone().flatten(0, 1), w.dims().to_vec());
                if let Some(b) = &dense.bias {
                    push("bias", b.val(), b.val().dims().to_vec());
                }
            }
            _ => {}
        }
    }
    out
}

/// `Ok` when both models hold bit-for-bit the same parameters, else the first difference.
pub fn compare(a: &Sequential, b: &Sequential) -> std::result::Result<(), String> {
    let (pa, pb) = (parameters(a), parameters(b));
    if pa.len() != pb.len() {
        return Err(format!("{} parameters against {}", pa.len(), pb.len()));
    }
    for (x, y) in pa.iter().zip(&pb) {
        if x.name != y.name || x.shape != y.shape {
            return Err(format!(
                "{} {:?} against {} {:?}",
                x.name, x.shape, y.name, y.shape
            ));
        }
        if let Some(i) =
            (0..x.values.len()).find(|&i| x.values[i].to_bits() != y.values[i].to_bits())
        {
            return Err(format!(
                "{}[{i}]: {} against {}",
                x.name, x.values[i], y.values[i]
            ));
        }
    }
    Ok(())
}

/// Saves burn's native `.bpk` (through a temporary name: never half a file).
pub fn save_burnpack(model: &Sequential, path: &Path) -> Result<()> {
    let tmp = path.with_extension("next.bpk");
    model
        .clone()
        .save_file(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// A copy of `model` with the weights of a `.bpk` file; `model` is left as it is.
pub fn load_burnpack(model: &Sequential, path: &Path) -> Result<Sequential> {
    if !path.exists() {
        bail!("{} does not exist", path.display());
    }
    model
        .clone()
        .try_load_file(path)
        .with_context(|| format!("loading {}", path.display()))
}

/// Saves the parameters as safetensors, keyed by burn's module paths (`layers.0.Conv2D.weight`).
pub fn save_safetensors(model: &Sequential, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_bytes(None)
        .metadata("architecture", model.config.name.clone())
        .metadata("layers", layer_list(model));
    model
        .save_into(&mut store)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("collecting the parameters for safetensors")?;
    let bytes = store
        .get_bytes()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("encoding safetensors")?;
    shared::run::write_atomic(path, &bytes)
}

/// A copy of `model` with the weights of a safetensors file; `model` is left as it is.
/// Every parameter must be in the file with the right shape, and nothing else may be.
pub fn load_safetensors(model: &Sequential, path: &Path) -> Result<Sequential> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes)).allow_partial(true);
    let mut loaded = model.clone();
    let result = loaded
        .load_from(&mut store)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("loading {}", path.display()))?;
    if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
        let mut problems = Vec::new();
        problems.extend(result.errors.iter().map(|e| e.to_string()));
        problems.extend(
            result
                .missing
                .iter()
                .map(|(p, _)| format!("{p} is missing")),
        );
        problems.extend(
            result
                .unused
                .iter()
                .map(|p| format!("{p} is not in this model")),
        );
        bail!(
            "{} does not fit this architecture: {}",
            path.display(),
            problems.join("; ")
        );
    }
    Ok(loaded)
}

fn layer_list(model: &Sequential) -> String {
    let names: Vec<&str> = model.config.layers.iter().map(|l| l.name()).collect();
    names.join(",")
}
