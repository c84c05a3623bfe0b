//! ImageNet's 1,000 class labels, as Keras's `imagenet_class_index.json` gives them
//! (`"0": ["n01440764", "tench"]`, …), and `decode_predictions` for the transfer-learning lab.

use std::path::{Path, PathBuf};

use crate::DataError;
use crate::datasets::samples_dir;
use crate::download::RemoteFile;

pub const CLASS_INDEX: &str = "imagenet_class_index.json";

pub fn remote_class_index() -> RemoteFile {
    RemoteFile::new(
        CLASS_INDEX,
        &["https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"],
        "a1e7a966a1f601d39e4b43e119b3e7dd4a2ad3ea08cf69847cbaf021013767bc",
    )
}

/// One ImageNet class: its WordNet id and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagenetClass {
    pub wnid: String,
    pub name: String,
}

/// The bundled copy of the class index (the whole official file).
pub fn bundled_class_index() -> PathBuf {
    samples_dir().join("imagenet").join(CLASS_INDEX)
}

/// The 1,000 classes in index order.
pub fn read_class_index(path: &Path) -> Result<Vec<ImagenetClass>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let map: std::collections::HashMap<String, (String, String)> = serde_json::from_str(&text)
        .map_err(|e| {
            DataError::invalid(
                path,
                format!("not a class index (\"0\": [wnid, name], …): {e}"),
            )
        })?;
    let mut classes = Vec::with_capacity(map.len());
    for i in 0..map.len() {
        let (wnid, name) = map
            .get(&i.to_string())
            .ok_or_else(|| DataError::invalid(path, format!("class {i} is missing")))?;
        classes.push(ImagenetClass {
            wnid: wnid.clone(),
            name: name.clone(),
        });
    }
    if classes.len() != 1000 {
        return Err(DataError::invalid(
            path,
            format!("has {} classes, ImageNet has 1,000", classes.len()),
        ));
    }
    Ok(classes)
}

/// Keras's `decode_predictions`: the `top` most probable classes as (index, class,
/// probability), most probable first.
pub fn decode_predictions<'a>(
    probabilities: &[f32],
    classes: &'a [ImagenetClass],
    top: usize,
) -> Vec<(usize, &'a ImagenetClass, f32)> {
    let mut order: Vec<usize> = (0..probabilities.len().min(classes.len())).collect();
    order.sort_by(|&a, &b| probabilities[b].total_cmp(&probabilities[a]));
    order
        .into_iter()
        .take(top)
        .map(|i| (i, &classes[i], probabilities[i]))
        .collect()
}
