//! An in-memory set of labelled images, the common currency of the vision labs.
//!
//! Pixels stay as the bytes the dataset ships (0-255), one image after the other, each in
//! channel-major order (`[channels, height, width]`, the layout burn's convolutions expect).
//! A batcher turns a handful of them into a normalised float tensor when it needs them.

use crate::rng::Rng;

#[derive(Debug, Clone)]
pub struct ImageSet {
    /// `len * channels * height * width` bytes.
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub class_names: Vec<String>,
}

impl ImageSet {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn num_classes(&self) -> usize {
        self.class_names.len()
    }

    /// Bytes per image.
    pub fn image_size(&self) -> usize {
        self.channels * self.height * self.width
    }

    /// The pixels of image `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        let size = self.image_size();
        &self.pixels[index * size..(index + 1) * size]
    }

    /// A new set made of the images at `indices`, in that order.
    pub fn select(&self, indices: &[usize]) -> ImageSet {
        let mut pixels = Vec::with_capacity(indices.len() * self.image_size());
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
            labels.push(self.labels[i]);
        }
        ImageSet {
            pixels,
            labels,
            channels: self.channels,
            height: self.height,
            width: self.width,
            class_names: self.class_names.clone(),
        }
    }

    /// The first `n` images (all of them if there are fewer).
    pub fn take(&self, n: usize) -> ImageSet {
        let n = n.min(self.len());
        self.select(&(0..n).collect::<Vec<_>>())
    }

    /// Splits off a random `fraction` as a validation set, like Keras's `validation_split`
    /// but shuffled with `seed` first: returns `(train, valid)`.
    pub fn split(&self, fraction: f64, seed: u64) -> (ImageSet, ImageSet) {
        let order = Rng::new(seed).permutation(self.len());
        let n_valid = ((self.len() as f64) * fraction).round() as usize;
        let (valid, train) = order.split_at(n_valid.min(self.len()));
        (self.select(train), self.select(valid))
    }

    /// How many images each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &label in &self.labels {
            if let Some(c) = counts.get_mut(label as usize) {
                *c += 1;
            }
        }
        counts
    }
}

/// The three sets of a run: training, validation (held out from the training images) and
/// test images.
pub struct Splits {
    pub train: ImageSet,
    pub valid: ImageSet,
    pub test: ImageSet,
}

impl Splits {
    /// `quick` keeps only the first `quick_sizes` training and test images (a seconds-long
    /// run); then the share `validation_split` of the training images, drawn with `seed`, is
    /// held out for validation. The test images are only for the end of the run.
    pub fn new(
        train: ImageSet,
        test: ImageSet,
        quick: Option<[usize; 2]>,
        validation_split: f64,
        seed: u64,
    ) -> Splits {
        let (train, test) = match quick {
            Some([n_train, n_test]) => (train.take(n_train), test.take(n_test)),
            None => (train, test),
        };
        let (train, valid) = train.split(validation_split, seed);
        Splits { train, valid, test }
    }

    /// `5,400 training, 600 validation, 1,000 test images of 28x28 pixels`.
    pub fn describe(&self) -> String {
        use crate::report::thousands;
        format!(
            "{} training, {} validation, {} test images of {}x{} pixels",
            thousands(self.train.len()),
            thousands(self.valid.len()),
            thousands(self.test.len()),
            self.test.height,
            self.test.width
        )
    }
}
