//! Safe extraction of `.tar.gz` archives.
//!
//! An archive from the internet decides the names of the files it creates. A careless
//! extractor lets it write anywhere (`../../.bashrc`, `/etc/…`), plant a link that points out
//! of the target folder, or create device files. This one refuses all of those, and
//! extracts into a temporary folder that is renamed into place only when every entry went
//! well: a target folder either does not exist or is complete.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use flate2::read::GzDecoder;
use tar::EntryType;

use crate::DataError;

/// Extracts `archive` (gzipped tar) so that it becomes `target`. The archive's entries must
/// all lie under one top folder, which is renamed to `target` (e.g. `cifar-10-batches-bin/`).
pub fn extract_tar_gz(archive: &Path, target: &Path) -> Result<(), DataError> {
    if target.exists() {
        return Err(DataError::invalid(
            target,
            "already exists; not extracting over it",
        ));
    }
    let parent = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| DataError::io(parent, e))?;
    let staging = parent.join(format!(
        ".{}.extracting-{}",
        target.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&staging);
    let result = unpack(archive, &staging)
        .and_then(|top| fs::rename(&top, target).map_err(|e| DataError::io(target, e)));
    let _ = fs::remove_dir_all(&staging);
    result
}

/// Unpacks into `staging` and returns the single top folder the archive holds.
fn unpack(archive: &Path, staging: &Path) -> Result<PathBuf, DataError> {
    let file = fs::File::open(archive).map_err(|e| DataError::io(archive, e))?;
    let mut tar = tar::Archive::new(GzDecoder::new(io::BufReader::new(file)));
    let broken = |e: io::Error| {
        DataError::invalid(archive, format!("not a readable .tar.gz (truncated?): {e}"))
    };
    fs::create_dir_all(staging).map_err(|e| DataError::io(staging, e))?;
    let mut top: Option<PathBuf> = None;
    for entry in tar.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let name = entry.path().map_err(broken)?.to_path_buf();
        let relative = safe_relative(&name).ok_or_else(|| {
            DataError::invalid(
                archive,
                format!("refusing entry {}: absolute or `..` path", name.display()),
            )
        })?;
        let Some(first) = relative.components().next() else {
            continue;
        };
        let first = PathBuf::from(first.as_os_str());
        match &top {
            None => top = Some(first),
            Some(t) if *t != first => {
                return Err(DataError::invalid(
                    archive,
                    "holds more than one top-level folder",
                ));
            }
            _ => {}
        }
        let kind = entry.header().entry_type();
        match kind {
            EntryType::Directory => {
                fs::create_dir_all(staging.join(&relative))
                    .map_err(|e| DataError::io(staging, e))?;
            }
            EntryType::Regular | EntryType::Continuous => {
                let dest = staging.join(&relative);
                if let Some(dir) = dest.parent() {
                    fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
                }
                let mut out = fs::File::create(&dest).map_err(|e| DataError::io(&dest, e))?;
                io::copy(&mut entry, &mut out).map_err(broken)?;
            }
            EntryType::Symlink | EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(broken)?
                    .map(|l| l.to_path_buf())
                    .unwrap_or_default();
                // A link may only point to something inside the archive's own tree.
                let base = if kind == EntryType::Symlink {
                    relative.parent().map(Path::to_path_buf).unwrap_or_default()
                } else {
                    PathBuf::new()
                };
                if safe_relative(&base.join(&link)).is_none() {
                    return Err(DataError::invalid(
                        archive,
                        format!(
                            "refusing entry {}: a link pointing out of the archive ({})",
                            name.display(),
                            link.display()
                        ),
                    ));
                }
                // Datasets need no links: skip the harmless ones rather than create them.
            }
            EntryType::XGlobalHeader
            | EntryType::XHeader
            | EntryType::GNULongName
            | EntryType::GNULongLink => {}
            other => {
                return Err(DataError::invalid(
                    archive,
                    format!(
                        "refusing entry {}: a {other:?} (device files and FIFOs are never extracted)",
                        name.display()
                    ),
                ));
            }
        }
    }
    let top = top.ok_or_else(|| DataError::invalid(archive, "is empty"))?;
    Ok(staging.join(top))
}

/// `path` without `.` parts, if it stays inside its base: relative, and no `..` climbing
/// above the start.
fn safe_relative(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Copies one file out of a zip archive (a Python wheel, for instance) to `dest`, through
/// `<dest>.part` and a rename, so that `dest` either does not exist or is complete. `member`
/// is the path inside the archive; an existing `dest` is never overwritten.
pub fn extract_zip_member(archive: &Path, member: &str, dest: &Path) -> Result<(), DataError> {
    if dest.exists() {
        return Err(DataError::invalid(
            dest,
            "already exists; not extracting over it",
        ));
    }
    let broken = |what: String| DataError::invalid(archive, what);
    let file = fs::File::open(archive).map_err(|e| DataError::io(archive, e))?;
    let mut zip = zip::ZipArchive::new(io::BufReader::new(file))
        .map_err(|e| broken(format!("not a readable zip archive (truncated?): {e}")))?;
    let mut entry = zip
        .by_name(member)
        .map_err(|e| broken(format!("has no {member} ({e})")))?;
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
    }
    let part = crate::download::part_path(dest);
    let copied = fs::File::create(&part)
        .and_then(|mut out| io::copy(&mut entry, &mut out).and_then(|_| out.sync_all()));
    if let Err(e) = copied {
        let _ = fs::remove_file(&part);
        return Err(broken(format!("extracting {member}: {e}")));
    }
    fs::rename(&part, dest).map_err(|e| DataError::io(dest, e))
}
