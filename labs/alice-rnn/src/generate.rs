//! Writing text with a trained character model: feed the last characters, pick the next
//! one, append it, repeat.
//!
//! * **Greedy** always takes the most likely character. It is deterministic and soon loops
//!   ("the the the …"), because the most likely continuation of a loop is the loop.
//! * **Temperature sampling** draws the next character from `softmax(logits / T)`. A low
//!   temperature (0.2) stays close to greedy; 1.0 samples the model's own distribution;
//!   higher values flatten it towards random letters.

use std::fmt;

use burn::prelude::*;
use shared::alice::Vocabulary;
use shared::rng::Rng;

use crate::data::one_hot;
use crate::model::NextChar;

/// How the next character is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    Greedy,
    Temperature(f64),
}

impl fmt::Display for Sampling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sampling::Greedy => write!(f, "greedy"),
            Sampling::Temperature(t) => write!(f, "T={t}"),
        }
    }
}

/// The lecture's samplings: greedy, then temperatures 0.2, 0.5 and 1.0.
pub const LECTURE_SAMPLINGS: [Sampling; 4] = [
    Sampling::Greedy,
    Sampling::Temperature(0.2),
    Sampling::Temperature(0.5),
    Sampling::Temperature(1.0),
];

/// Continues `seed` by `length` characters once per sampling (all in one batch). The model
/// reads the last `window` characters each time. Returns only the new characters.
///
/// Errors: an empty seed, a character the model does not know, a temperature ≤ 0.
#[allow(clippy::too_many_arguments)]
pub fn generate<M: NextChar>(
    model: &M,
    vocab: &Vocabulary,
    seed: &str,
    window: usize,
    length: usize,
    samplings: &[Sampling],
    rng: &mut Rng,
    device: &Device,
) -> Result<Vec<String>, String> {
    if seed.is_empty() {
        return Err("the seed text is empty: give at least one character".into());
    }
    if let Some(bad) = samplings
        .iter()
        .find(|s| matches!(s, Sampling::Temperature(t) if *t <= 0.0 || !t.is_finite()))
    {
        return Err(format!("{bad}: a temperature must be a positive number"));
    }
    let seed = vocab.encode(seed).map_err(|e| {
        format!(
            "seed text: {e}; the model only knows {:?}",
            vocab.decode(&(0..vocab.len()).collect::<Vec<_>>())
        )
    })?;
    let mut texts: Vec<Vec<usize>> = vec![seed.clone(); samplings.len()];
    for _ in 0..length {
        let windows: Vec<&[usize]> = texts
            .iter()
            .map(|t| &t[t.len().saturating_sub(window)..])
            .collect();
        let logits = model.logits(one_hot(&windows, vocab.len(), device));
        let values = shared::floats(logits);
        for (row, (text, sampling)) in texts.iter_mut().zip(samplings).enumerate() {
            let scores = &values[row * vocab.len()..(row + 1) * vocab.len()];
            text.push(choose(scores, *sampling, rng));
        }
    }
    Ok(texts
        .iter()
        .map(|t| vocab.decode(&t[seed.len()..]))
        .collect())
}

/// The next character from one row of logits.
pub fn choose(logits: &[f32], sampling: Sampling, rng: &mut Rng) -> usize {
    match sampling {
        Sampling::Greedy => argmax(logits),
        Sampling::Temperature(t) => {
            let probabilities = softmax_with_temperature(logits, t);
            let mut u = rng.unit();
            for (i, p) in probabilities.iter().enumerate() {
                if u < *p {
                    return i;
                }
                u -= p;
            }
            argmax(logits) // only reached through rounding: the remaining mass is ~0
        }
    }
}

/// `softmax(logits / T)`, computed stably.
pub fn softmax_with_temperature(logits: &[f32], temperature: f64) -> Vec<f64> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let weights: Vec<f64> = logits
        .iter()
        .map(|&l| ((l as f64 - max) / temperature).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    weights.into_iter().map(|w| w / total).collect()
}

fn argmax(values: &[f32]) -> usize {
    values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i)
}
