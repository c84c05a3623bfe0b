//! From CIFAR-10 bytes to the tensors the CNN eats, with optional augmentation.

use std::sync::atomic::{AtomicU64, Ordering};

use burn::prelude::*;
use shared::cifar10::{augment, normalise};
use shared::images::ImageSet;
use shared::rng::Rng;
use shared::train::Batcher;

/// Images `[batch, 3, 32, 32]`, normalised per channel, and labels `[batch]`.
#[derive(Debug, Clone)]
pub struct CifarBatch {
    pub images: Tensor<4>,
    pub targets: Tensor<1, Int>,
}

pub struct CifarBatcher {
    pub set: ImageSet,
    /// Per-channel mean and standard deviation of the training images.
    pub mean: [f32; 3],
    pub std: [f32; 3],
    /// Random flips and shifts of up to 4 pixels (training only).
    augmentation: Option<u64>,
    batches: AtomicU64,
}

impl CifarBatcher {
    pub fn new(set: ImageSet, mean: [f32; 3], std: [f32; 3]) -> Self {
        CifarBatcher {
            set,
            mean,
            std,
            augmentation: None,
            batches: AtomicU64::new(0),
        }
    }

    /// Every batch gets fresh random flips and shifts, reproducible from `seed`.
    pub fn with_augmentation(mut self, seed: u64) -> Self {
        self.augmentation = Some(seed);
        self
    }
}

impl Batcher<CifarBatch> for CifarBatcher {
    fn len(&self) -> usize {
        self.set.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> CifarBatch {
        let (c, h, w) = (self.set.channels, self.set.height, self.set.width);
        let mut rng = self.augmentation.map(|seed| {
            let n = self.batches.fetch_add(1, Ordering::Relaxed);
            Rng::new(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        });
        let mut pixels = Vec::with_capacity(indices.len() * c * h * w);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let image = self.set.image(i);
            match rng.as_mut() {
                Some(rng) => pixels.extend(normalise(
                    &augment(image, c, h, w, 4, rng),
                    self.mean,
                    self.std,
                )),
                None => pixels.extend(normalise(image, self.mean, self.std)),
            }
            labels.push(self.set.labels[i] as i64);
        }
        let n = indices.len();
        CifarBatch {
            images: Tensor::from_data(TensorData::new(pixels, [n, c, h, w]), device),
            targets: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}
