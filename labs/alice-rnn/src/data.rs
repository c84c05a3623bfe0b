//! The lecture's data: *Alice in Wonderland*, lower-cased, cut into 10-character windows,
//! each followed by the character to predict ("alice lear" → "n").

use burn::prelude::*;
use shared::DataError;
use shared::alice::{self, Vocabulary};
use shared::datasets::DataSource;
use shared::download::Downloader;
use shared::train::Batcher;

/// A window of characters (as vocabulary indices) and the character that follows it.
pub type Window = (Vec<usize>, usize);

/// The text, its alphabet, and the windows for training and validation.
pub struct CharData {
    pub text: String,
    pub vocab: Vocabulary,
    pub train: Vec<Window>,
    pub valid: Vec<Window>,
}

/// Loads the book (the bundled copy is the whole book; `--full` downloads it from Project
/// Gutenberg) and cuts it into windows.
///
/// The **last** `valid_share` of the book is kept for validation. Windows overlap, so a
/// random split would put nearly the same window on both sides; a cut keeps them apart.
pub fn load(
    source: &DataSource,
    window: usize,
    step: usize,
    valid_share: f64,
) -> Result<CharData, DataError> {
    let text = alice::load(source, &Downloader::default(), true)?;
    Ok(split(text, window, step, valid_share))
}

/// The windows of a text, split into training and validation parts.
pub fn split(text: String, window: usize, step: usize, valid_share: f64) -> CharData {
    let vocab = Vocabulary::of(&text);
    let encoded = vocab
        .encode(&text)
        .expect("every character of a text is in its own vocabulary");
    let cut = ((encoded.len() as f64) * (1.0 - valid_share)).round() as usize;
    let cut = cut.clamp(window + 1, encoded.len());
    let train = alice::windows(&encoded[..cut], window, step);
    let valid = alice::windows(&encoded[cut.saturating_sub(window)..], window, step);
    CharData {
        text,
        vocab,
        train,
        valid,
    }
}

/// Windows as one-hot tensors: `[batch, window, vocabulary]`.
pub fn one_hot(windows: &[&[usize]], vocab_size: usize, device: &Device) -> Tensor<3> {
    let steps = windows.first().map_or(0, |w| w.len());
    let mut values = vec![0.0f32; windows.len() * steps * vocab_size];
    for (b, window) in windows.iter().enumerate() {
        for (t, &c) in window.iter().enumerate() {
            values[(b * steps + t) * vocab_size + c] = 1.0;
        }
    }
    Tensor::from_data(
        TensorData::new(values, [windows.len(), steps, vocab_size]),
        device,
    )
}

/// A batch: one-hot windows and the index of the next character.
pub struct CharBatch {
    pub inputs: Tensor<3>,
    pub targets: Tensor<1, Int>,
}

pub struct CharBatcher {
    windows: Vec<Window>,
    vocab_size: usize,
}

impl CharBatcher {
    pub fn new(windows: Vec<Window>, vocab_size: usize) -> Self {
        CharBatcher {
            windows,
            vocab_size,
        }
    }
}

impl Batcher<CharBatch> for CharBatcher {
    fn len(&self) -> usize {
        self.windows.len()
    }

    fn batch(&self, indices: &[usize], device: &Device) -> CharBatch {
        let windows: Vec<&[usize]> = indices
            .iter()
            .map(|&i| self.windows[i].0.as_slice())
            .collect();
        let targets: Vec<i64> = indices.iter().map(|&i| self.windows[i].1 as i64).collect();
        CharBatch {
            inputs: one_hot(&windows, self.vocab_size, device),
            targets: Tensor::from_data(TensorData::new(targets, [indices.len()]), device),
        }
    }
}
