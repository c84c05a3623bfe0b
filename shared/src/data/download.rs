//! Downloading the official dataset files.
//!
//! What a good downloader does, and this one does:
//! * tries each source (mirror) in turn, with a few retries and timeouts on each;
//! * streams into `<name>.part` beside the target with a progress bar (size, speed, ETA);
//! * resumes an interrupted transfer with an HTTP `Range` request when the server allows it;
//! * checks the SHA-256 before the file is renamed into place, so a file with the official
//!   name is always complete and correct: never half-written, never silently corrupt;
//! * when nothing can be reached, says which file to fetch by hand and where to put it.
//!
//! TLS is rustls (pure Rust): no OpenSSL needed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// One file of a dataset: its official name, where to get it, and its checksum.
#[derive(Debug, Clone)]
pub struct RemoteFile {
    /// The official file name, e.g. `train-images-idx3-ubyte.gz`.
    pub name: String,
    /// Sources to try in order: the official host first, then well-known mirrors.
    pub urls: Vec<String>,
    /// How a downloaded or existing file is known to be the right one.
    pub check: Check,
}

/// How a file is verified.
#[derive(Debug, Clone)]
pub enum Check {
    /// Its SHA-256, lower-case hex: for files that never change.
    Sha256(String),
    /// Its MD5, for the few official files whose publisher gives only that.
    Md5(String),
    /// A test of its structure: for files republished with small edits (Project Gutenberg's
    /// texts), where no single hash stays right. Returns what is wrong.
    Structure(fn(&Path) -> Result<(), String>),
}

impl RemoteFile {
    pub fn new(name: &str, urls: &[&str], sha256: &str) -> Self {
        RemoteFile {
            name: name.to_string(),
            urls: urls.iter().map(|u| u.to_string()).collect(),
            check: Check::Sha256(sha256.to_ascii_lowercase()),
        }
    }

    pub fn new_md5(name: &str, urls: &[&str], md5: &str) -> Self {
        RemoteFile {
            name: name.to_string(),
            urls: urls.iter().map(|u| u.to_string()).collect(),
            check: Check::Md5(md5.to_ascii_lowercase()),
        }
    }

    pub fn with_structure_check(
        name: &str,
        urls: &[&str],
        check: fn(&Path) -> Result<(), String>,
    ) -> Self {
        RemoteFile {
            name: name.to_string(),
            urls: urls.iter().map(|u| u.to_string()).collect(),
            check: Check::Structure(check),
        }
    }

    /// The official SHA-256, where the file has one.
    pub fn sha256(&self) -> Option<&str> {
        match &self.check {
            Check::Sha256(hash) => Some(hash),
            Check::Md5(_) | Check::Structure(_) => None,
        }
    }

    /// `Ok` if the file at `path` is a good copy, else what is wrong with it.
    pub fn verify(&self, path: &Path) -> Result<(), DownloadError> {
        let io = |source| DownloadError::Io {
            path: path.to_path_buf(),
            source,
        };
        match &self.check {
            Check::Sha256(expected) => {
                let actual = sha256_file(path).map_err(io)?;
                if &actual == expected {
                    Ok(())
                } else {
                    Err(DownloadError::Mismatch {
                        path: path.to_path_buf(),
                        what: format!("its SHA-256 is {actual},\nnot the official {expected}"),
                    })
                }
            }
            Check::Md5(expected) => {
                let actual = md5_file(path).map_err(io)?;
                if &actual == expected {
                    Ok(())
                } else {
                    Err(DownloadError::Mismatch {
                        path: path.to_path_buf(),
                        what: format!("its MD5 is {actual},\nnot the official {expected}"),
                    })
                }
            }
            Check::Structure(check) => check(path).map_err(|what| DownloadError::Mismatch {
                path: path.to_path_buf(),
                what,
            }),
        }
    }
}

#[derive(Debug, Error)]
pub enum DownloadError {
    #[error(
        "could not download {name}:\n{tried}\nIf this machine is offline, download it by hand from\n  {first_url}\nand save it as\n  {dest}\nthen run again.",
        dest = dest.display()
    )]
    Failed {
        name: String,
        dest: PathBuf,
        first_url: String,
        /// One line per attempt: the URL and what went wrong.
        tried: String,
    },
    #[error(
        "{path} is not a good copy: {what}. It is probably truncated or another file.\nMove it aside or delete it, then run again to download a good copy.",
        path = path.display()
    )]
    Mismatch { path: PathBuf, what: String },
    #[error("writing {path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The SHA-256 of a file, as lower-case hex.
pub fn sha256_file(path: &Path) -> io::Result<String> {
    hash_file::<Sha256>(path)
}

/// The MD5 of a file, as lower-case hex.
pub fn md5_file(path: &Path) -> io::Result<String> {
    hash_file::<md5::Md5>(path)
}

fn hash_file<D: Digest>(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = D::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How one attempt on one URL ended, when it did not end well.
enum AttemptError {
    /// Worth another try on the same URL (timeout, dropped connection, server error).
    Retry(String),
    /// No point in trying this URL again (404, 403, …): go to the next mirror.
    NextSource(String),
}

#[derive(Debug, Clone)]
pub struct Downloader {
    agent: ureq::Agent,
    /// Attempts per URL.
    attempts: u32,
    /// Pause before the second attempt; doubled for each further one.
    backoff: Duration,
    /// Show a progress bar (on a terminal only).
    progress: bool,
}

impl Default for Downloader {
    fn default() -> Self {
        Downloader::new(Duration::from_secs(30), 3, Duration::from_secs(2))
    }
}

impl Downloader {
    /// `timeout`: for connecting and for each read, so a stalled server is noticed.
    pub fn new(timeout: Duration, attempts: u32, backoff: Duration) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(timeout))
            .timeout_recv_response(Some(timeout))
            .timeout_per_read(Some(timeout))
            .user_agent("burn-labs dataset downloader")
            .build()
            .into();
        Downloader {
            agent,
            attempts: attempts.max(1),
            backoff,
            progress: true,
        }
    }

    pub fn quiet(mut self) -> Self {
        self.progress = false;
        self
    }

    /// Makes sure `dir/<file.name>` exists and has the official checksum, downloading it if
    /// it is missing. A file already there with another checksum is an error and is left
    /// untouched: it may be somebody's only copy.
    pub fn ensure(&self, file: &RemoteFile, dir: &Path) -> Result<PathBuf, DownloadError> {
        let dest = dir.join(&file.name);
        if dest.exists() {
            return file.verify(&dest).map(|()| dest);
        }
        fs::create_dir_all(dir).map_err(|source| DownloadError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        self.download(file, &dest)
    }

    fn download(&self, file: &RemoteFile, dest: &Path) -> Result<PathBuf, DownloadError> {
        let part = part_path(dest);
        let mut tried = Vec::new();
        for url in &file.urls {
            for attempt in 1..=self.attempts {
                if attempt > 1 {
                    std::thread::sleep(self.backoff * 2u32.pow(attempt - 2));
                }
                match self.fetch_into(url, &part, &file.name) {
                    Ok(()) => {}
                    Err(AttemptError::Retry(why)) => {
                        tried.push(format!("  - {url} (attempt {attempt}): {why}"));
                        continue;
                    }
                    Err(AttemptError::NextSource(why)) => {
                        tried.push(format!("  - {url}: {why}"));
                        break;
                    }
                }
                // The whole file is in `.part`: check it before it takes the official name.
                match file.verify(&part) {
                    Ok(()) => {}
                    Err(DownloadError::Mismatch { what, .. }) => {
                        let _ = fs::remove_file(&part);
                        tried.push(format!(
                            "  - {url}: checksum mismatch ({}); the download was discarded",
                            what.replace('\n', " ")
                        ));
                        break;
                    }
                    Err(other) => return Err(other),
                }
                fs::rename(&part, dest).map_err(|source| DownloadError::Io {
                    path: dest.to_path_buf(),
                    source,
                })?;
                return Ok(dest.to_path_buf());
            }
        }
        Err(DownloadError::Failed {
            name: file.name.clone(),
            dest: dest.to_path_buf(),
            first_url: file.urls.first().cloned().unwrap_or_default(),
            tried: tried.join("\n"),
        })
    }

    /// One attempt: fetch `url` into `part`, continuing from what `part` already holds.
    fn fetch_into(&self, url: &str, part: &Path, name: &str) -> Result<(), AttemptError> {
        let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
        let mut request = self.agent.get(url);
        if have > 0 {
            request = request.header("Range", format!("bytes={have}-"));
        }
        let response = request.call().map_err(|e| match e {
            ureq::Error::HostNotFound => AttemptError::NextSource("host not found".into()),
            // A name that does not resolve will not resolve in two seconds either.
            ureq::Error::Io(e) if e.to_string().contains("lookup address") => {
                AttemptError::NextSource("cannot resolve the host name (offline?)".into())
            }
            ureq::Error::BadUri(u) => AttemptError::NextSource(format!("bad URL {u}")),
            other => AttemptError::Retry(other.to_string()),
        })?;
        let status = response.status().as_u16();
        let header = |key: &str| {
            response
                .headers()
                .get(key)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let (append, start) = match status {
            200 => (false, 0),
            206 => {
                // `Content-Range: bytes <start>-<end>/<total>` must continue where we stopped.
                let start = header("content-range").and_then(|r| {
                    r.strip_prefix("bytes ")?
                        .split('-')
                        .next()?
                        .parse::<u64>()
                        .ok()
                });
                if start != Some(have) {
                    let _ = fs::remove_file(part);
                    return Err(AttemptError::Retry(
                        "server resumed at the wrong offset; starting over".into(),
                    ));
                }
                (true, have)
            }
            // Range not satisfiable: what we have may already be the whole file.
            416 if have > 0 => return Ok(()),
            404 | 410 => {
                return Err(AttemptError::NextSource(format!(
                    "HTTP {status}: not found"
                )));
            }
            400..=499 => return Err(AttemptError::NextSource(format!("HTTP {status}"))),
            _ => return Err(AttemptError::Retry(format!("HTTP {status}"))),
        };
        let length = header("content-length").and_then(|l| l.parse::<u64>().ok());
        let total = length.map(|l| l + start);

        let mut out = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(part)
            .map_err(|e| {
                AttemptError::NextSource(format!("cannot write {}: {e}", part.display()))
            })?;

        let bar = self.progress_bar(name, url, total, start);
        let mut body = response.into_body().into_reader();
        let mut buffer = vec![0u8; 1 << 16];
        let mut written = start;
        loop {
            let n = match body.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    bar.abandon();
                    return Err(AttemptError::Retry(format!(
                        "transfer broke off after {written} bytes ({e}); will resume"
                    )));
                }
            };
            out.write_all(&buffer[..n]).map_err(|e| {
                AttemptError::NextSource(format!("cannot write {}: {e}", part.display()))
            })?;
            written += n as u64;
            bar.set_position(written);
        }
        out.flush().map_err(|e| {
            AttemptError::NextSource(format!("cannot write {}: {e}", part.display()))
        })?;
        if let Some(total) = total
            && written != total
        {
            bar.abandon();
            return Err(AttemptError::Retry(format!(
                "connection closed after {written} of {total} bytes; will resume"
            )));
        }
        bar.finish_and_clear();
        Ok(())
    }

    fn progress_bar(&self, name: &str, url: &str, total: Option<u64>, start: u64) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        eprintln!(
            "downloading {name} from {url}{}",
            if start > 0 {
                format!(" (resuming at {start} bytes)")
            } else {
                String::new()
            }
        );
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::no_length(),
        };
        let style = ProgressStyle::with_template(
            "  [{bar:30.cyan/blue}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .expect("static progress template")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_position(start);
        bar
    }
}

/// `<dest>.part`: where a download grows until it is complete and verified.
pub fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".part");
    dest.with_file_name(name)
}
