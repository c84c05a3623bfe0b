//! The data layer: files on disk (or downloaded) to items in memory. Nothing here knows
//! about tensors or training; the batchers (`crate::batchers`, `crate::chars`) turn items into
//! tensors.
//!
//! | module | what |
//! |---|---|
//! | [`datasets`] | where bundled samples and full datasets live; which data a run uses |
//! | [`download`] | checksum-verified, resumable downloads of the official files |
//! | [`archive`], [`files`] | safe `.tar.gz` extraction; gzip or plain files alike |
//! | [`mnist`], [`cifar10`] | the image datasets in their official formats |
//! | [`images`] | an in-memory image set, and a run's training/validation/test splits |
//! | [`image_io`] | photos (JPEG, PNG) to a pretrained network's input |
//! | [`imagenet`] | ImageNet's class index and `decode_predictions` |
//! | [`imdb`], [`text`] | IMDB reviews; Keras's text preprocessing |
//! | [`alice`], [`auto_mpg`] | the Alice text; the Auto MPG table |

pub mod alice;
pub mod archive;
pub mod auto_mpg;
pub mod cifar10;
pub mod datasets;
pub mod download;
pub mod files;
pub mod image_io;
pub mod imagenet;
pub mod images;
pub mod imdb;
pub mod mnist;
pub mod text;
