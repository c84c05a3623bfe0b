//! What word vectors are good for: similarity by cosine, nearest neighbours, analogies, and
//! a 2-D picture of them (PCA).
//!
//! * **Cosine similarity** `cos(a, b) = a·b / (|a| |b|)`: 1 for the same direction, 0 for
//!   unrelated (orthogonal), −1 for opposite. Two different one-hot vectors are always
//!   orthogonal: one-hot encoding says "king" is as far from "queen" as from "kimchi".
//! * **Analogies** "a is to b as c is to ?" (`king:man::queen:?`): the word whose vector is
//!   closest to `b − a + c` (3CosAdd, Mikolov et al. 2013), the question's own words
//!   excluded, all vectors first scaled to length 1 (as gensim's `most_similar` does).

use std::collections::HashMap;

use anyhow::{Result, bail};

/// The dot product, the same (SIMD-friendly) one training uses.
pub use crate::sgns::dot;

/// Word vectors: one row of `dim` floats per word.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    pub words: Vec<String>,
    pub dim: usize,
    /// `words.len() × dim`, row-major.
    pub vectors: Vec<f32>,
    index: HashMap<String, usize>,
}

impl Embeddings {
    pub fn new(words: Vec<String>, dim: usize, vectors: Vec<f32>) -> Result<Embeddings> {
        if vectors.len() != words.len() * dim {
            bail!(
                "{} words of {dim} dimensions need {} numbers, not {}",
                words.len(),
                words.len() * dim,
                vectors.len()
            );
        }
        let index = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i))
            .collect();
        Ok(Embeddings {
            words,
            dim,
            vectors,
            index,
        })
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn id(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }

    pub fn row(&self, id: usize) -> &[f32] {
        &self.vectors[id * self.dim..(id + 1) * self.dim]
    }

    pub fn vector(&self, word: &str) -> Option<&[f32]> {
        self.id(word).map(|id| self.row(id))
    }

    fn require(&self, word: &str) -> Result<usize> {
        match self.id(word) {
            Some(id) => Ok(id),
            None => bail!("\"{word}\" is not in the vocabulary"),
        }
    }

    /// The cosine similarity of two words.
    pub fn similarity(&self, a: &str, b: &str) -> Result<f32> {
        Ok(cosine(
            self.row(self.require(a)?),
            self.row(self.require(b)?),
        ))
    }

    /// Every vector scaled to length 1 (a zero vector stays zero).
    pub fn unit_vectors(&self) -> Vec<f32> {
        let mut unit = self.vectors.clone();
        for row in unit.chunks_mut(self.dim.max(1)) {
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|x| *x /= norm);
            }
        }
        unit
    }

    /// The `n` words most similar to `word` (by cosine), itself excluded.
    pub fn nearest(&self, word: &str, n: usize) -> Result<Vec<(String, f32)>> {
        let id = self.require(word)?;
        let unit = self.unit_vectors();
        let query = unit[id * self.dim..(id + 1) * self.dim].to_vec();
        Ok(self.ranked(&unit, &query, &[id], n))
    }

    /// The `n` best answers to "`a` is to `b` as `c` is to ?": the words closest to
    /// `b − a + c` (on unit vectors), `a`, `b` and `c` excluded.
    pub fn analogy(&self, a: &str, b: &str, c: &str, n: usize) -> Result<Vec<(String, f32)>> {
        let ids = [self.require(a)?, self.require(b)?, self.require(c)?];
        let unit = self.unit_vectors();
        let at = |id: usize| &unit[id * self.dim..(id + 1) * self.dim];
        let query: Vec<f32> = (0..self.dim)
            .map(|k| at(ids[1])[k] - at(ids[0])[k] + at(ids[2])[k])
            .collect();
        Ok(self.ranked(&unit, &query, &ids, n))
    }

    /// The `n` words whose unit vectors have the largest cosine with `query`, `exclude`d
    /// ids left out; ties in vocabulary order.
    fn ranked(
        &self,
        unit: &[f32],
        query: &[f32],
        exclude: &[usize],
        n: usize,
    ) -> Vec<(String, f32)> {
        let norm = query.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-30);
        let mut scored: Vec<(usize, f32)> = unit
            .chunks(self.dim.max(1))
            .enumerate()
            .filter(|(id, _)| !exclude.contains(id))
            .map(|(id, row)| (id, dot(row, query) / norm))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored
            .into_iter()
            .take(n)
            .map(|(id, s)| (self.words[id].clone(), s))
            .collect()
    }

    /// Only the given words, in that order (unknown words are an error).
    pub fn subset(&self, words: &[String]) -> Result<Embeddings> {
        let mut vectors = Vec::with_capacity(words.len() * self.dim);
        for w in words {
            vectors.extend_from_slice(self.row(self.require(w)?));
        }
        Embeddings::new(words.to_vec(), self.dim, vectors)
    }
}

/// `a·b / (|a| |b|)`; 0 if either vector is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let norms = dot(a, a).sqrt() * dot(b, b).sqrt();
    if norms > 0.0 { dot(a, b) / norms } else { 0.0 }
}

/// The one-hot vector of word `id` in a vocabulary of `size` words.
pub fn one_hot(id: usize, size: usize) -> Vec<f32> {
    let mut v = vec![0.0; size];
    v[id] = 1.0;
    v
}

/// An analogy question "`a` is to `b` as `c` is to `expected`" (`king:man::queen:woman`),
/// or with `?` for an open question (`king:man::queen:?`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analogy {
    pub a: String,
    pub b: String,
    pub c: String,
    pub expected: Option<String>,
}

impl Analogy {
    pub fn parse(text: &str) -> Result<Analogy> {
        let usage = || {
            format!(
                "--analogy \"{text}\": write a:b::c:? (\"king:man::queen:?\": king is to man \
                 as queen is to ?) or a:b::c:d with the expected answer"
            )
        };
        let Some((left, right)) = text.split_once("::") else {
            bail!(usage());
        };
        let (Some((a, b)), Some((c, d))) = (left.split_once(':'), right.split_once(':')) else {
            bail!(usage());
        };
        let parts = [a, b, c, d].map(|p| p.trim().to_lowercase());
        if parts[..3].iter().any(|p| p.is_empty() || p.contains(':')) || parts[3].is_empty() {
            bail!(usage());
        }
        let [a, b, c, d] = parts;
        Ok(Analogy {
            a,
            b,
            c,
            expected: (d != "?").then_some(d),
        })
    }

    /// The words the vocabulary must hold: a, b, c and the expected answer.
    pub fn words(&self) -> Vec<&str> {
        let mut words = vec![self.a.as_str(), self.b.as_str(), self.c.as_str()];
        words.extend(self.expected.as_deref());
        words
    }
}

impl std::fmt::Display for Analogy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}::{}:{}",
            self.a,
            self.b,
            self.c,
            self.expected.as_deref().unwrap_or("?")
        )
    }
}

/// The answers to an analogy question, best first, and the rank of the expected answer
/// (1 = right), if it was given.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalogyResult {
    pub question: Analogy,
    pub answers: Vec<(String, f32)>,
    pub expected_rank: Option<usize>,
}

impl AnalogyResult {
    pub fn correct(&self) -> bool {
        self.expected_rank == Some(1)
    }
}

/// Answers `question` with `embeddings`: the top `n`, and the rank of the expected answer
/// among all words.
pub fn answer(embeddings: &Embeddings, question: &Analogy, n: usize) -> Result<AnalogyResult> {
    let all = embeddings.analogy(&question.a, &question.b, &question.c, embeddings.len())?;
    let expected_rank = question
        .expected
        .as_ref()
        .and_then(|e| all.iter().position(|(w, _)| w == e))
        .map(|p| p + 1);
    Ok(AnalogyResult {
        question: question.clone(),
        answers: all.into_iter().take(n).collect(),
        expected_rank,
    })
}

/// The first two principal components of `points` (each of the same length): the 2-D view
/// that keeps the most of their spread. Found by power iteration on the covariance matrix,
/// from a fixed start, so the picture is the same every run.
pub fn pca_2d(points: &[&[f32]]) -> Vec<[f32; 2]> {
    let n = points.len();
    let Some(d) = points.first().map(|p| p.len()) else {
        return Vec::new();
    };
    let mut mean = vec![0f64; d];
    for p in points {
        for (m, &x) in mean.iter_mut().zip(*p) {
            *m += f64::from(x) / n as f64;
        }
    }
    let centred: Vec<Vec<f64>> = points
        .iter()
        .map(|p| {
            p.iter()
                .zip(&mean)
                .map(|(&x, m)| f64::from(x) - m)
                .collect()
        })
        .collect();
    let mut covariance = vec![vec![0f64; d]; d];
    for p in &centred {
        for i in 0..d {
            for j in 0..d {
                covariance[i][j] += p[i] * p[j];
            }
        }
    }
    let mut components: Vec<Vec<f64>> = Vec::new();
    for _ in 0..2 {
        let mut v: Vec<f64> = (0..d).map(|i| 1.0 + (i as f64 * 0.618).sin()).collect();
        for _ in 0..500 {
            let mut next: Vec<f64> = covariance
                .iter()
                .map(|row| row.iter().zip(&v).map(|(a, b)| a * b).sum())
                .collect();
            // Stay orthogonal to the components already found (deflation).
            for c in &components {
                let along: f64 = next.iter().zip(c).map(|(a, b)| a * b).sum();
                next.iter_mut().zip(c).for_each(|(x, c)| *x -= along * c);
            }
            let norm = next.iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm < 1e-300 {
                break;
            }
            next.iter_mut().for_each(|x| *x /= norm);
            v = next;
        }
        // A fixed sign: the largest coordinate positive.
        if let Some(big) = v.iter().copied().max_by(|a, b| a.abs().total_cmp(&b.abs()))
            && big < 0.0
        {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        components.push(v);
    }
    centred
        .iter()
        .map(|p| {
            let coordinate = |c: &Vec<f64>| p.iter().zip(c).map(|(a, b)| a * b).sum::<f64>() as f32;
            [coordinate(&components[0]), coordinate(&components[1])]
        })
        .collect()
}
