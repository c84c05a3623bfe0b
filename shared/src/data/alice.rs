//! *Alice's Adventures in Wonderland* (Project Gutenberg ebook #11), for the character-level
//! RNN and LSTM labs.
//!
//! The Gutenberg file wraps the book in a header and a licence. The book itself lies between
//! the `*** START OF … ***` and `*** END OF … ***` lines. Gutenberg republishes its texts
//! with small edits, so a download is verified by its structure (both markers, twelve
//! chapters) rather than by one hash.
//!
//! The lecture's task: read 10 characters, predict the 11th ("alice lear" → "n").

use std::collections::BTreeSet;
use std::path::Path;

use crate::DataError;
use crate::datasets::{DataSource, samples_dir};
use crate::download::{Downloader, RemoteFile};

pub const FILE: &str = "11-0.txt";

pub fn remote_file() -> RemoteFile {
    RemoteFile::with_structure_check(
        FILE,
        &[
            "https://www.gutenberg.org/files/11/11-0.txt",
            "https://www.gutenberg.org/cache/epub/11/pg11.txt",
        ],
        |path| {
            let text = std::fs::read_to_string(path).map_err(|e| format!("unreadable: {e}"))?;
            check_structure(&text)
        },
    )
}

/// The book's text, with the Gutenberg header and licence removed.
pub fn load(
    source: &DataSource,
    downloader: &Downloader,
    lowercase: bool,
) -> Result<String, DataError> {
    let path = match source {
        DataSource::Sample => samples_dir().join("alice").join(FILE),
        DataSource::Full { data_dir } => {
            downloader.ensure(&remote_file(), &data_dir.join("alice"))?
        }
    };
    read(&path, lowercase)
}

pub fn read(path: &Path, lowercase: bool) -> Result<String, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        DataError::invalid(
            path,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        )
    })?;
    let body = book_body(&text).map_err(|what| DataError::invalid(path, what))?;
    Ok(if lowercase { body.to_lowercase() } else { body })
}

/// The text between the START and END markers, without a byte-order mark and with `\n`
/// line ends.
pub fn book_body(text: &str) -> Result<String, String> {
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let start = find_marker(&text, "*** START OF")
        .ok_or("no \"*** START OF … PROJECT GUTENBERG EBOOK … ***\" line: is this a Project Gutenberg text?")?;
    let body_start = text[start..]
        .find('\n')
        .map(|i| start + i + 1)
        .unwrap_or(text.len());
    let body_end = find_marker(&text, "*** END OF")
        .filter(|&end| end >= body_start)
        .ok_or("no \"*** END OF … PROJECT GUTENBERG EBOOK … ***\" line after the START line (a truncated file?)")?;
    Ok(text[body_start..body_end].trim().to_string())
}

fn find_marker(text: &str, marker: &str) -> Option<usize> {
    text.match_indices(marker).map(|(i, _)| i).find(|&i| {
        text[i..]
            .lines()
            .next()
            .is_some_and(|l| l.to_uppercase().contains("PROJECT GUTENBERG"))
    })
}

/// Is this the Alice text? Both markers, and the twelve chapters of the book.
pub fn check_structure(text: &str) -> Result<(), String> {
    let body = book_body(text)?;
    let chapters = body
        .lines()
        .filter(|l| l.trim_start().starts_with("CHAPTER "))
        .count();
    if chapters < 12 {
        return Err(format!(
            "the book should have 12 chapters, this text has {chapters} CHAPTER lines"
        ));
    }
    if !body.contains("Alice") {
        return Err("the text never names Alice".into());
    }
    Ok(())
}

/// The characters of a text, sorted, each with its index: the model's alphabet.
#[derive(Debug, Clone, PartialEq)]
pub struct Vocabulary {
    pub chars: Vec<char>,
}

impl Vocabulary {
    pub fn of(text: &str) -> Vocabulary {
        let set: BTreeSet<char> = text.chars().collect();
        Vocabulary {
            chars: set.into_iter().collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.chars.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    pub fn index(&self, c: char) -> Option<usize> {
        self.chars.binary_search(&c).ok()
    }

    /// A text as indices; an unknown character is an error naming it.
    pub fn encode(&self, text: &str) -> Result<Vec<usize>, String> {
        text.chars()
            .map(|c| {
                self.index(c)
                    .ok_or_else(|| format!("the character {c:?} is not in the vocabulary"))
            })
            .collect()
    }

    pub fn decode(&self, indices: &[usize]) -> String {
        indices.iter().filter_map(|&i| self.chars.get(i)).collect()
    }
}

/// The lecture's training pairs: every `window` consecutive characters (starting every
/// `step` characters) and the character that follows them.
pub fn windows(encoded: &[usize], window: usize, step: usize) -> Vec<(Vec<usize>, usize)> {
    if window == 0 || encoded.len() <= window {
        return Vec::new();
    }
    (0..encoded.len() - window)
        .step_by(step.max(1))
        .map(|i| (encoded[i..i + window].to_vec(), encoded[i + window]))
        .collect()
}
