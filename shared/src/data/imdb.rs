//! IMDB Large Movie Review Dataset (Maas et al., ACL 2011): 50,000 labelled reviews, half
//! for training and half for testing, half positive and half negative in each.
//!
//! The official archive unpacks to the `aclImdb` layout read here:
//!
//! ```text
//! aclImdb/train/pos/<id>_<rating>.txt     12,500 reviews rated 7-10
//! aclImdb/train/neg/<id>_<rating>.txt     12,500 reviews rated 1-4
//! aclImdb/test/{pos,neg}/…                the same for testing
//! ```
//!
//! Keras's `imdb.load_data` gives the reviews as word indices ranked by frequency
//! (`imdb_word_index.json`: "the" is 1, "and" 2, …). [`encode`] produces the same from the
//! text: lower-cased, punctuation other than the apostrophe turned into spaces, split on
//! spaces (Keras's `text_to_word_sequence`, which is why `<br />` becomes the word "br",
//! ranked 7th), then shifted by `index_from` with the reserved indices 0 (padding),
//! `start_char` and `oov_char` (out of vocabulary).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::DataError;
use crate::datasets::{DataSource, samples_dir};
use crate::download::{Downloader, RemoteFile};
use crate::rng::Rng;
pub use crate::text::{Side, multi_hot, pad_sequences, tokenize, tokenize_ascii_lowercase};

pub const ARCHIVE: &str = "aclImdb_v1.tar.gz";
/// The labelled part of the archive, as the course material holds it.
pub const LABELED_ARCHIVE: &str = "aclImdb_labeled.tar.gz";
pub const WORD_INDEX: &str = "imdb_word_index.json";

pub fn remote_archive() -> RemoteFile {
    RemoteFile::new(
        ARCHIVE,
        &["https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"],
        "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    )
}

/// Keras's word index (the file `keras.datasets.imdb.get_word_index()` downloads).
pub fn remote_word_index() -> RemoteFile {
    RemoteFile::new(
        WORD_INDEX,
        &["https://storage.googleapis.com/tensorflow/tf-keras-datasets/imdb_word_index.json"],
        "027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6",
    )
}

#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub text: String,
    /// 1 positive, 0 negative.
    pub label: u8,
    /// The reviewer's rating, 1-10, from the file name.
    pub rating: u8,
    pub id: u32,
}

#[derive(Debug, Clone)]
pub struct Imdb {
    pub train: Vec<Review>,
    pub test: Vec<Review>,
    pub word_index: WordIndex,
}

/// Loads the reviews and the word index. `Full` uses `<data-dir>/imdb/`: an unpacked
/// `aclImdb/` folder if there is one, else `aclImdb_labeled.tar.gz` or `aclImdb_v1.tar.gz`
/// read in place, downloading the official archive if neither is there.
pub fn load(source: &DataSource, downloader: &Downloader) -> Result<Imdb, DataError> {
    let (dir, reviews) = match source {
        DataSource::Sample => {
            let dir = samples_dir().join("imdb");
            (dir.clone(), read_folder(&dir.join("aclImdb"))?)
        }
        DataSource::Full { data_dir } => {
            let dir = data_dir.join("imdb");
            let reviews = if dir.join("aclImdb").is_dir() {
                read_folder(&dir.join("aclImdb"))?
            } else if dir.join(LABELED_ARCHIVE).exists() {
                read_archive(&dir.join(LABELED_ARCHIVE))?
            } else {
                read_archive(&downloader.ensure(&remote_archive(), &dir)?)?
            };
            if !dir.join(WORD_INDEX).exists() {
                downloader.ensure(&remote_word_index(), &dir)?;
            }
            (dir, reviews)
        }
    };
    let word_index = WordIndex::read(&dir.join(WORD_INDEX))?;
    let (train, test) = reviews;
    Ok(Imdb {
        train,
        test,
        word_index,
    })
}

/// `(train, test)` from an unpacked `aclImdb` folder, each sorted by label then id.
pub fn read_folder(root: &Path) -> Result<(Vec<Review>, Vec<Review>), DataError> {
    let mut splits = Vec::new();
    for split in ["train", "test"] {
        let mut reviews = Vec::new();
        for (label, folder) in [(0u8, "neg"), (1u8, "pos")] {
            let dir = root.join(split).join(folder);
            let entries = std::fs::read_dir(&dir).map_err(|e| DataError::io(&dir, e))?;
            for entry in entries {
                let path = entry.map_err(|e| DataError::io(&dir, e))?.path();
                if path.extension().is_some_and(|e| e == "txt") {
                    let bytes = std::fs::read(&path).map_err(|e| DataError::io(&path, e))?;
                    reviews.push(review(&path, label, bytes)?);
                }
            }
        }
        reviews.sort_by_key(|r| (r.label, r.id));
        splits.push(reviews);
    }
    let test = splits.pop().unwrap_or_default();
    let train = splits.pop().unwrap_or_default();
    Ok((train, test))
}

/// `(train, test)` read straight from a `.tar.gz` of the `aclImdb` layout, without unpacking
/// it to disk. Other members (`unsup/`, `*.feat`, URLs) are skipped.
pub fn read_archive(path: &Path) -> Result<(Vec<Review>, Vec<Review>), DataError> {
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut archive = tar::Archive::new(GzDecoder::new(std::io::BufReader::new(file)));
    let broken = |e: std::io::Error| {
        DataError::invalid(path, format!("not a readable .tar.gz (truncated?): {e}"))
    };
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let name = entry.path().map_err(broken)?.to_string_lossy().to_string();
        let parts: Vec<&str> = name.trim_start_matches("./").split('/').collect();
        let [_, split, folder, file] = parts[..] else {
            continue;
        };
        let label = match folder {
            "pos" => 1,
            "neg" => 0,
            _ => continue,
        };
        if !file.ends_with(".txt") {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(broken)?;
        let review = review(&path.join(&name), label, bytes)?;
        match split {
            "train" => train.push(review),
            "test" => test.push(review),
            _ => {}
        }
    }
    if train.is_empty() || test.is_empty() {
        return Err(DataError::invalid(
            path,
            "holds no aclImdb/train and aclImdb/test reviews",
        ));
    }
    train.sort_by_key(|r| (r.label, r.id));
    test.sort_by_key(|r| (r.label, r.id));
    Ok((train, test))
}

/// A review from its file name (`<id>_<rating>.txt`) and bytes.
fn review(path: &Path, label: u8, bytes: Vec<u8>) -> Result<Review, DataError> {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let (id, rating) = stem
        .split_once('_')
        .and_then(|(id, rating)| Some((id.parse::<u32>().ok()?, rating.parse::<u8>().ok()?)))
        .ok_or_else(|| DataError::invalid(path, "the file name is not <id>_<rating>.txt"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        DataError::invalid(
            path,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok(Review {
        text,
        label,
        rating,
        id,
    })
}

/// Word → frequency rank (1 = most frequent), as in Keras's `imdb_word_index.json`.
#[derive(Debug, Clone, Default)]
pub struct WordIndex {
    pub ranks: HashMap<String, u32>,
}

impl WordIndex {
    pub fn read(path: &Path) -> Result<WordIndex, DataError> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        let ranks: HashMap<String, u32> = serde_json::from_str(&text).map_err(|e| {
            DataError::invalid(
                path,
                format!("not a word index (a JSON object of word: rank): {e}"),
            )
        })?;
        Ok(WordIndex { ranks })
    }

    pub fn len(&self) -> usize {
        self.ranks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ranks.is_empty()
    }

    /// Index → word, for decoding.
    pub fn reverse(&self) -> HashMap<u32, String> {
        self.ranks.iter().map(|(w, &r)| (r, w.clone())).collect()
    }
}

/// The options of Keras's `imdb.load_data`, with its defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncodeOptions {
    /// Keep only the `num_words - index_from` most frequent words; rarer ones become `oov_char`.
    pub num_words: Option<u32>,
    /// Also treat the `skip_top` most frequent words as out of vocabulary.
    pub skip_top: u32,
    /// Drop reviews longer than this (Keras drops them, it does not cut them).
    pub maxlen: Option<usize>,
    pub start_char: Option<u32>,
    pub oov_char: Option<u32>,
    pub index_from: u32,
    /// How text becomes words, and what becomes of a word the index does not have.
    pub rules: Rules,
}

/// Two ways from review text to word indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rules {
    /// Keras's `text_to_word_sequence` (Unicode lower case); a word missing from the index
    /// counts as out of vocabulary (`oov_char`).
    #[default]
    TextToWordSequence,
    /// As Keras's published `imdb.npz` was made: only ASCII `A`-`Z` lower-cased (so every
    /// training word is in the index), and a word missing from the index is *dropped*, as
    /// Keras's documentation says of test words never seen in training.
    ImdbNpz,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            num_words: None,
            skip_top: 0,
            maxlen: None,
            start_char: Some(1),
            oov_char: Some(2),
            index_from: 3,
            rules: Rules::TextToWordSequence,
        }
    }
}

impl EncodeOptions {
    /// `imdb.load_data(num_words=…)` as Keras's `imdb.npz` gives it ([`Rules::ImdbNpz`]).
    pub fn imdb_npz(num_words: u32) -> EncodeOptions {
        EncodeOptions {
            num_words: Some(num_words),
            rules: Rules::ImdbNpz,
            ..EncodeOptions::default()
        }
    }
}

/// Reviews as word indices, and their labels, like `imdb.load_data`, in its order of
/// steps: start character and shift, then the `maxlen` filter, then the vocabulary cut.
/// A word missing from the index is out of vocabulary or dropped, as `options.rules` says.
pub fn encode(
    reviews: &[Review],
    index: &WordIndex,
    options: &EncodeOptions,
) -> (Vec<Vec<u32>>, Vec<u8>) {
    let mut sequences = Vec::with_capacity(reviews.len());
    let mut labels = Vec::with_capacity(reviews.len());
    for review in reviews {
        let words = match options.rules {
            Rules::TextToWordSequence => tokenize(&review.text),
            Rules::ImdbNpz => tokenize_ascii_lowercase(&review.text),
        };
        let shifted: Vec<Option<u32>> = options
            .start_char
            .map(Some)
            .into_iter()
            .chain(
                words
                    .iter()
                    .map(|w| index.ranks.get(w).map(|r| r + options.index_from))
                    .filter(|w| w.is_some() || options.rules == Rules::TextToWordSequence),
            )
            .collect();
        if options.maxlen.is_some_and(|max| shifted.len() > max) {
            continue;
        }
        let keep = |w: u32| w >= options.skip_top && options.num_words.is_none_or(|n| w < n);
        let sequence = shifted
            .into_iter()
            .filter_map(|w| match w {
                Some(w) if keep(w) => Some(w),
                _ => options.oov_char,
            })
            .collect();
        sequences.push(sequence);
        labels.push(review.label);
    }
    (sequences, labels)
}

/// Shuffles reviews in place with a seed (Keras shuffles train and test after loading).
pub fn shuffle(reviews: &mut [Review], seed: u64) {
    Rng::new(seed).shuffle(reviews);
}

/// Indices back to words (reserved indices as `<pad>`, `<start>`, `<oov>`; unknown as `?`).
pub fn decode(sequence: &[u32], reverse: &HashMap<u32, String>, options: &EncodeOptions) -> String {
    sequence
        .iter()
        .map(|&w| {
            if w == 0 {
                "<pad>".to_string()
            } else if Some(w) == options.start_char {
                "<start>".to_string()
            } else if Some(w) == options.oov_char {
                "<oov>".to_string()
            } else {
                w.checked_sub(options.index_from)
                    .and_then(|r| reverse.get(&r).cloned())
                    .unwrap_or_else(|| "?".to_string())
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
