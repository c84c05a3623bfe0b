//! From items to tensors: the batchers that more than one lab uses.

use burn::prelude::*;

use crate::images::ImageSet;
use crate::mnist::{MEAN, STD};
use crate::train::Batcher;

// The batches LeNet-5 (lab 1) and the save/load lab (lab 3) eat.

/// A batch of digits: images `[batch, 1, 28, 28]`, normalised, and their labels `[batch]`.
#[derive(Debug, Clone)]
pub struct MnistBatch {
    pub images: Tensor<4>,
    pub targets: Tensor<1, Int>,
}

/// Builds [`MnistBatch`]es from an in-memory [`ImageSet`].
pub struct MnistBatcher {
    pub set: ImageSet,
}

impl MnistBatcher {
    pub fn new(set: ImageSet) -> Self {
        MnistBatcher { set }
    }

    /// Pixels 0-255 → roughly zero mean and unit variance: `(x / 255 - mean) / std`.
    /// Inputs of that scale keep the first layer's activations, and so its gradients, in a
    /// range where a single learning rate works for every layer.
    pub fn normalise(pixel: u8) -> f32 {
        (pixel as f32 / 255.0 - MEAN) / STD
    }
}

impl Batcher<MnistBatch> for MnistBatcher {
    fn len(&self) -> usize {
        self.set.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> MnistBatch {
        let (h, w) = (self.set.height, self.set.width);
        let mut pixels = Vec::with_capacity(indices.len() * h * w);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            pixels.extend(self.set.image(i).iter().map(|&p| Self::normalise(p)));
            labels.push(self.set.labels[i] as i64);
        }
        let n = indices.len();
        MnistBatch {
            images: Tensor::from_data(TensorData::new(pixels, [n, 1, h, w]), device), // [n, 1, 28, 28]
            targets: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}
