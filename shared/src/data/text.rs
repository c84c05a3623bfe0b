//! Text as numbers, the way Keras's preprocessing does it: words from text
//! (`text_to_word_sequence`), a vocabulary ordered by frequency (`Tokenizer`), sequences of
//! one length (`pad_sequences`), and the bag-of-words view (multi-hot rows, built per batch:
//! the 25,000 IMDB reviews over 10,000 words as one dense matrix would take a gigabyte).

use std::collections::HashMap;

/// Keras's `text_to_word_sequence`: lower case, these characters become spaces, split on
/// spaces. The apostrophe is not among them, so "don't" stays one word.
pub fn tokenize(text: &str) -> Vec<String> {
    split_words(&text.to_lowercase())
}

/// [`tokenize`] with only ASCII `A`-`Z` lower-cased (`"Émile"` stays `"Émile"`, where
/// [`tokenize`] gives `"émile"`). Keras's published `imdb.npz` was evidently made this way:
/// with this rule every word of the 25,000 training reviews is in `imdb_word_index.json`.
pub fn tokenize_ascii_lowercase(text: &str) -> Vec<String> {
    split_words(&text.to_ascii_lowercase())
}

/// The filter characters become spaces; split on spaces; no empty words.
fn split_words(text: &str) -> Vec<String> {
    const FILTERS: &str = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";
    text.chars()
        .map(|c| if FILTERS.contains(c) { ' ' } else { c })
        .collect::<String>()
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Words with their counts, most frequent first; words of equal count in the order they
/// first appeared. Keras's `Tokenizer` and gensim's `Word2Vec` order their vocabularies this
/// way, so "the 10,000 most frequent words" are the same words everywhere.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Vocabulary {
    /// `(word, count)`, most frequent first. A word's index is its position + `first_index`.
    pub words: Vec<(String, u64)>,
    index: HashMap<String, usize>,
}

impl Vocabulary {
    /// Counts the words of `texts` (each already split into words) and keeps those seen at
    /// least `min_count` times.
    pub fn count<'a, I, T>(texts: I, min_count: u64) -> Vocabulary
    where
        I: IntoIterator<Item = T>,
        T: IntoIterator<Item = &'a str>,
    {
        let mut order: Vec<String> = Vec::new();
        let mut counts: HashMap<String, (usize, u64)> = HashMap::new();
        for text in texts {
            for word in text {
                match counts.get_mut(word) {
                    Some((_, count)) => *count += 1,
                    None => {
                        counts.insert(word.to_string(), (order.len(), 1));
                        order.push(word.to_string());
                    }
                }
            }
        }
        let mut words: Vec<(String, u64)> = order
            .into_iter()
            .map(|w| {
                let count = counts[&w].1;
                (w, count)
            })
            .filter(|(_, count)| *count >= min_count)
            .collect();
        // A stable sort keeps first-appearance order among equal counts.
        words.sort_by_key(|(_, count)| std::cmp::Reverse(*count));
        let index = words
            .iter()
            .enumerate()
            .map(|(i, (w, _))| (w.clone(), i))
            .collect();
        Vocabulary { words, index }
    }

    pub fn len(&self) -> usize {
        self.words.len()
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The word's rank: 0 for the most frequent.
    pub fn rank(&self, word: &str) -> Option<usize> {
        self.index.get(word).copied()
    }

    /// The `n` most frequent words.
    pub fn most_frequent(&self, n: usize) -> impl Iterator<Item = &str> {
        self.words.iter().take(n).map(|(w, _)| w.as_str())
    }
}

/// Where `pad_sequences` pads or cuts: before the sequence (`Pre`, Keras's default) or after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Pre,
    Post,
}

/// Keras's `pad_sequences`: every sequence made exactly `maxlen` long, padded with `value`
/// and cut on the given sides (both `Pre` by default in Keras, so a long review keeps its end).
pub fn pad_sequences(
    sequences: &[Vec<u32>],
    maxlen: usize,
    padding: Side,
    truncating: Side,
    value: u32,
) -> Vec<Vec<u32>> {
    sequences
        .iter()
        .map(|s| {
            let kept: &[u32] = if s.len() > maxlen {
                match truncating {
                    Side::Pre => &s[s.len() - maxlen..],
                    Side::Post => &s[..maxlen],
                }
            } else {
                s
            };
            let pad = std::iter::repeat_n(value, maxlen - kept.len());
            match padding {
                Side::Pre => pad.chain(kept.iter().copied()).collect(),
                Side::Post => kept.iter().copied().chain(pad).collect(),
            }
        })
        .collect()
}

/// The bag-of-words view (word order dropped): row `i` has a 1 at column `w` for each word
/// index `w < dims` in sequence `i` (`dims` columns per row, row-major). Build it per batch
/// from the batch's own sequences.
pub fn multi_hot<S: AsRef<[u32]>>(sequences: &[S], dims: usize) -> Vec<f32> {
    let mut out = vec![0f32; sequences.len() * dims];
    for (row, sequence) in sequences.iter().enumerate() {
        for &w in sequence.as_ref() {
            if (w as usize) < dims {
                out[row * dims + w as usize] = 1.0;
            }
        }
    }
    out
}
