//! One type for whichever pretrained network a run uses, and the split transfer learning
//! needs: the *trunk* (frozen in the `top` regime) and the *top* (the last block, then the
//! features averaged over the image).

use std::path::Path;

use anyhow::Result;
use burn::prelude::*;
use shared::image_io::INPUT_SIZE;
use shared::report::model_summary;

use crate::efficientnet::{EfficientNet, EfficientNetConfig};
use crate::transfer::Regime;
use crate::vgg::{Vgg, VggConfig};
use crate::weights::{self, Pretrained};

/// A pretrained network, whichever it is. (The enum is as large as its largest variant, but
/// there is only ever one: its size does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network {
    Vgg(Vgg),
    EfficientNet(EfficientNet),
}

impl Network {
    /// Loads `model`'s weights from `path`.
    pub fn load(model: Pretrained, path: &Path, device: &Device) -> Result<Network> {
        Ok(match model {
            Pretrained::EfficientnetLite0 => Network::EfficientNet(weights::load_efficientnet(
                &EfficientNetConfig::lite0(),
                path,
                device,
            )?),
            Pretrained::Vgg16 => Network::Vgg(weights::load_torchvision_vgg(
                &VggConfig::vgg16(),
                path,
                device,
            )?),
            Pretrained::Vgg16Keras => {
                Network::Vgg(weights::load_keras_vgg(&VggConfig::vgg16(), path, device)?)
            }
        })
    }

    /// Images `[batch, 3, 224, 224]` → class scores (logits).
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Network::Vgg(net) => net.forward(images),
            Network::EfficientNet(net) => net.forward(images),
        }
    }

    pub fn summary(&self) -> String {
        match self {
            Network::Vgg(net) => model_summary("VGG-16", &net.summary()),
            Network::EfficientNet(net) => {
                model_summary("EfficientNet-Lite0", &net.summary(INPUT_SIZE))
            }
        }
    }
}

impl Network {
    /// The frozen part of the `top` regime: everything before the last block.
    pub fn trunk(&self, images: Tensor<4>) -> Tensor<4> {
        match self {
            Network::Vgg(net) => net.blocks(images, 0..net.config.convs.len() - 1),
            Network::EfficientNet(net) => net.trunk(images, net.blocks.len() - 1),
        }
    }

    /// The trainable part of the `top` regime: the last block, then the features
    /// averaged over the image `[batch, channels]`.
    pub fn top(&self, x: Tensor<4>) -> Tensor<2> {
        match self {
            Network::Vgg(net) => {
                let last = net.config.convs.len() - 1;
                let x = net.blocks(x, last..last + 1);
                x.mean_dim(3).mean_dim(2).flatten::<2>(1, 3)
            }
            Network::EfficientNet(net) => net.top(x, net.blocks.len() - 1),
        }
    }

    /// Images → averaged features `[batch, channels]` (VGG: 512, EfficientNet: 1,280).
    pub fn features(&self, images: Tensor<4>) -> Tensor<2> {
        self.top(self.trunk(images))
    }

    pub fn feature_dim(&self) -> usize {
        match self {
            Network::Vgg(net) => net.config.feature_channels(),
            Network::EfficientNet(net) => net.config.head,
        }
    }

    /// The network without its ImageNet classifier (VGG-16's three dense layers, 124 million
    /// parameters; EfficientNet's last 1.3 million): transfer learning puts a new one on the
    /// features and never uses the old.
    pub fn without_classifier(self) -> Network {
        match self {
            Network::Vgg(mut net) => {
                net.classifier = Vec::new();
                Network::Vgg(net)
            }
            Network::EfficientNet(mut net) => {
                net.fc = None;
                Network::EfficientNet(net)
            }
        }
    }

    /// Freezes what `regime` does not train: no gradients, no optimiser state, and batch
    /// norms kept in inference mode. `all` (and `scratch`, which has no pretrained network)
    /// freeze nothing.
    pub fn freeze_for(self, regime: Regime) -> Network {
        match (regime, self) {
            (Regime::All | Regime::Scratch, base) => base,
            (Regime::Head, base) => base.freeze(),
            (Regime::Top, Network::Vgg(mut net)) => {
                let frozen: usize = net.config.convs[..net.config.convs.len() - 1].iter().sum();
                net.features = freeze_first(net.features, frozen);
                Network::Vgg(net)
            }
            (Regime::Top, Network::EfficientNet(mut net)) => {
                let last = net.blocks.len() - 1;
                net.conv_stem = net.conv_stem.freeze();
                net.bn0 = net.bn0.freeze();
                net.blocks = freeze_first(net.blocks, last);
                Network::EfficientNet(net)
            }
        }
    }
}

/// The first `n` layers frozen, the others as they were.
fn freeze_first<M: Module>(layers: Vec<M>, n: usize) -> Vec<M> {
    layers
        .into_iter()
        .enumerate()
        .map(|(i, layer)| if i < n { layer.freeze() } else { layer })
        .collect()
}
