//! The text a model learns from, as sentences of words.
//!
//! word2vec only ever looks at words that stand near each other, so a corpus is just a list
//! of sentences, each a list of lower-case words. Three corpora, from seconds to minutes:
//!
//! | `--corpus` | what | words |
//! |---|---|---|
//! | `toy` | the lecture's toy sentences (`datasets/word2vec/toy.txt`): kings and queens, countries and capitals, foods, ages | about 500 |
//! | `alice` | *Alice's Adventures in Wonderland* (bundled), one sentence per sentence of the book | about 27,000 |
//! | `imdb` | IMDB movie reviews, one review per sentence: 600 bundled, or all 50,000 with `--full` | 140,000 / 12 million |
//!
//! Words are what [`words`] makes of a text: lower case, runs of letters and digits, with
//! an apostrophe kept inside a word ("don't", "alice's"); everything else separates words.
//!
//! A loaded corpus is a [`Text`]: each distinct word stored once, the sentences as numbers
//! into that list. IMDB's 11.5 million words as separate strings took about half a gigabyte
//! while the corpus loaded; as numbers they take 46 MB.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use shared::datasets::{DataSource, samples_dir};
use shared::download::Downloader;

/// The lecture's example sentence, for the skip-gram pairs and CBOW contexts shown at the
/// start of every run.
pub const LECTURE_SENTENCE: &str = "I love king of Korea";

/// Which text to learn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "lowercase")]
pub enum Corpus {
    /// The lecture's toy sentences (bundled): trains in a second, the analogies visible.
    #[default]
    Toy,
    /// Alice's Adventures in Wonderland (bundled).
    Alice,
    /// IMDB reviews: 600 bundled, all 50,000 with --full.
    Imdb,
}

impl burn::config::Config for Corpus {}

impl Corpus {
    pub fn name(self) -> &'static str {
        match self {
            Corpus::Toy => "toy",
            Corpus::Alice => "alice",
            Corpus::Imdb => "imdb",
        }
    }
}

/// The toy corpus, as bundled with the course.
pub fn toy_path() -> PathBuf {
    samples_dir().join("word2vec").join("toy.txt")
}

/// A text as word2vec reads it: lower case, letters and digits, apostrophes inside words
/// kept (’ becomes '), every other character a separator.
///
/// ```text
/// "‘Curiouser and curiouser!’ cried Alice"  →  curiouser and curiouser cried alice
/// "Don’t miss it.<br /><br />9/10"          →  don't miss it br br 9 10
/// ```
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        let c = if c == '’' { '\'' } else { c };
        if c.is_alphanumeric() || (c == '\'' && !word.is_empty()) {
            word.extend(c.to_lowercase());
        } else {
            finish_word(&mut word, &mut out);
        }
    }
    finish_word(&mut word, &mut out);
    out
}

/// Ends a word: apostrophes at its end are quotation marks, not part of it.
fn finish_word(word: &mut String, out: &mut Vec<String>) {
    let trimmed = word.trim_end_matches('\'');
    if !trimmed.is_empty() {
        out.push(trimmed.to_string());
    }
    word.clear();
}

/// The toy corpus's format: one sentence per line; blank lines and lines starting with
/// `#` are skipped.
pub fn parse_lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(words)
        .filter(|s| !s.is_empty())
        .collect()
}

/// A book as sentences: split at `.`, `!` and `?` (and at blank lines, so that chapter
/// titles stand alone).
pub fn book_sentences(text: &str) -> Vec<Vec<String>> {
    text.split("\n\n")
        .flat_map(|paragraph| paragraph.split(['.', '!', '?']))
        .map(words)
        .filter(|s| !s.is_empty())
        .collect()
}

/// An IMDB review as one sentence: the HTML line breaks (`<br />`) the reviews contain are
/// not words.
pub fn review_sentence(text: &str) -> Vec<String> {
    words(&text.replace("<br />", " "))
}

/// A corpus with every distinct word stored once: `sentences` hold indexes into `words`,
/// which lists the words in order of first appearance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Text {
    pub words: Vec<String>,
    pub sentences: Vec<Vec<u32>>,
    index: HashMap<String, u32>,
}

impl Text {
    /// Adds a sentence (skipped when empty).
    pub fn push<S: AsRef<str>>(&mut self, sentence: &[S]) {
        if sentence.is_empty() {
            return;
        }
        let ids = sentence
            .iter()
            .map(|word| {
                let word = word.as_ref();
                match self.index.get(word) {
                    Some(&id) => id,
                    None => {
                        let id = u32::try_from(self.words.len())
                            .expect("fewer than 4 billion distinct words");
                        self.index.insert(word.to_string(), id);
                        self.words.push(word.to_string());
                        id
                    }
                }
            })
            .collect();
        self.sentences.push(ids);
    }

    /// Sentence `i` as words.
    pub fn sentence(&self, i: usize) -> Vec<&str> {
        self.sentences[i]
            .iter()
            .map(|&id| self.words[id as usize].as_str())
            .collect()
    }

    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.sentences.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sentences.is_empty()
    }

    /// Total number of words.
    pub fn word_count(&self) -> usize {
        self.sentences.iter().map(Vec::len).sum()
    }

    /// How often each of `words` occurs.
    pub fn counts(&self) -> Vec<u64> {
        let mut counts = vec![0u64; self.words.len()];
        for sentence in &self.sentences {
            for &id in sentence {
                counts[id as usize] += 1;
            }
        }
        counts
    }
}

impl From<Vec<Vec<String>>> for Text {
    fn from(sentences: Vec<Vec<String>>) -> Text {
        let mut text = Text::default();
        for sentence in &sentences {
            text.push(sentence);
        }
        text
    }
}

/// Loads a corpus: the bundled copy, or with `Full` the official data (Alice from Project
/// Gutenberg, IMDB's 50,000 reviews from `<data-dir>/imdb/`). `quick` keeps only a slice
/// (the first 200 reviews, the first 2,000 sentences of the book).
pub fn load(corpus: Corpus, source: &DataSource, quick: bool) -> Result<Text> {
    // `quick` keeps the first sentences only.
    let keep = match (quick, corpus) {
        (false, _) | (true, Corpus::Toy) => usize::MAX,
        (true, Corpus::Alice) => 2_000,
        (true, Corpus::Imdb) => 200,
    };
    let text = match corpus {
        Corpus::Toy => {
            let path = toy_path();
            let text = std::fs::read_to_string(&path).with_context(|| {
                format!(
                    "reading the toy corpus {} (it is part of the course's datasets/ folder)",
                    path.display()
                )
            })?;
            Text::from(parse_lines(&text))
        }
        Corpus::Alice => {
            let text = shared::alice::load(source, &Downloader::default(), false)?;
            let mut sentences = book_sentences(&text);
            sentences.truncate(keep);
            Text::from(sentences)
        }
        Corpus::Imdb => {
            // Review by review: only one review's words exist as strings at a time.
            let imdb = shared::imdb::load(source, &Downloader::default())?;
            let mut text = Text::default();
            for review in imdb.train.iter().chain(&imdb.test) {
                if text.len() == keep {
                    break;
                }
                text.push(&review_sentence(&review.text));
            }
            text
        }
    };
    if text.is_empty() {
        bail!("the {} corpus holds no words", corpus.name());
    }
    Ok(text)
}

/// Writes the corpus as word2vec and gensim read it: one sentence per line, words separated
/// by single spaces (gensim's `LineSentence`).
pub fn dump(text: &Text, path: &Path) -> Result<()> {
    let mut out = String::with_capacity(text.word_count() * 7);
    for i in 0..text.len() {
        out.push_str(&text.sentence(i).join(" "));
        out.push('\n');
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    shared::run::write_atomic(path, out.as_bytes())
}
