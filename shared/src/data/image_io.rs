//! Turns a JPEG or PNG file into the 3 x 224 x 224 input a pretrained ImageNet network expects.
//!
//! Pretrained weights only reach their published accuracy on inputs prepared the way their
//! authors prepared them, and a resize that is only "almost the same" changes every score a
//! little, so nothing can be compared with the Python results any more. This module therefore
//! copies the two reference pipelines step by step, down to Pillow's rounding:
//!
//! | step | Keras (`keras.applications`) | torchvision |
//! | --- | --- | --- |
//! | decode | `load_img`: Pillow, `convert("RGB")` | Pillow, `convert("RGB")` |
//! | resize | straight to 224 x 224, nearest neighbour | shorter side to 256 (bilinear, antialiased), centre crop 224 |
//! | values | [`Preprocessing::Caffe`]: BGR, minus the mean, 0-255 | [`Preprocessing::Torch`]: /255, minus mean, / std |
//!
//! A third set of values, [`Preprocessing::Lite`], is `(x - 127) / 128` for weights trained
//! with TensorFlow's EfficientNet-Lite recipe, framed as torchvision frames.
//!
//! [`load_imagenet_input`] does all of it; [`decode`], [`Preprocessing::resize`] and
//! [`Preprocessing::normalize`] are the steps, for when you want to look at the image in between.
//!
//! Measured against Pillow 13 (see `shared/fixtures/image_io/make_image_fixture.py`): resizing, cropping and
//! both normalisations are bit-exact. JPEG decoding is not: `image` decodes with zune-jpeg and
//! Pillow with libjpeg-turbo, whose IDCT and chroma upsampling round differently, so a few
//! pixels differ by 1 to 6 levels out of 255. PNG decoding is exact.
//!
//! Like the references, EXIF orientation and ICC colour profiles are ignored.

use std::io::Cursor;
use std::path::Path;

use image::codecs::jpeg::JpegDecoder;
use image::codecs::png::PngDecoder;
use image::{DynamicImage, ImageDecoder, Limits};

/// The widest or tallest image [`decode`] accepts, so that a hostile or mistaken file cannot
/// make it allocate gigabytes; photos are well below (a 50 MP camera makes about 8,700 px).
pub const MAX_SIDE: u32 = 20_000;

/// The most pixels [`decode`] accepts: 100 million pixels take 300 MB as RGB, and up to 800 MB
/// while a 16-bit PNG is decoded. (Pillow warns from 89 million and refuses from 179 million.)
pub const MAX_PIXELS: u64 = 100_000_000;

/// The largest file [`decode`] reads into memory; any PNG or JPEG within the pixel limits is
/// smaller.
pub const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The memory the `image` decoders may ask for: a 100 MP 16-bit RGBA PNG needs 800 MB.
const MAX_DECODER_ALLOC: u64 = 1024 * 1024 * 1024;

/// The side of the square image both reference pipelines feed to the network.
pub const INPUT_SIZE: usize = 224;

/// torchvision's `Resize(256)`: the shorter side before the 224 centre crop.
pub const TORCH_RESIZE: usize = 256;

/// Keras's `preprocess_input(mode="caffe")` means, in B, G, R order. They are written as `f64`
/// and rounded to `f32` because NumPy rounds Python's doubles the same way.
const CAFFE_MEAN_BGR: [f32; 3] = [103.939_f64 as f32, 116.779_f64 as f32, 123.68_f64 as f32];
/// torchvision's `Normalize` mean and standard deviation, in R, G, B order (see above).
const TORCH_MEAN: [f32; 3] = [0.485_f64 as f32, 0.456_f64 as f32, 0.406_f64 as f32];
const TORCH_STD: [f32; 3] = [0.229_f64 as f32, 0.224_f64 as f32, 0.225_f64 as f32];

/// Pillow's fixed-point resampling keeps 22 bits after the point (`PRECISION_BITS`).
const PRECISION_BITS: u32 = 32 - 8 - 2;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Everything that can go wrong, each message naming the file, the problem and what to do,
/// because a student who sees "decoding error" alone cannot tell a typo from a broken download.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Usually a typo, or a relative path run from another folder.
    #[error(
        "image file {path} does not exist: check the spelling (a relative path starts in the folder you run the program from)"
    )]
    NotFound { path: String },

    /// The file exists but cannot be read: a folder, missing permissions, a disk error.
    #[error(
        "cannot read image file {path}: {source}; check that it is a readable file, not a folder"
    )]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },

    /// A zero-byte file, the usual trace of a failed download.
    #[error("{name} is empty (0 bytes): the download or copy failed, fetch the file again")]
    Empty { name: String },

    /// Over [`MAX_FILE_BYTES`]: refused before reading it into memory.
    #[error(
        "{name} is {bytes} bytes, more than the {max_mib} MiB this loader reads: shrink the image first, the network only needs 224 x 224 pixels",
        max_mib = MAX_FILE_BYTES >> 20
    )]
    FileTooLarge { name: String, bytes: u64 },

    /// Text, an HTML error page, or bytes of no known format.
    #[error("{name} is not an image ({what}): pass a PNG or JPEG file")]
    NotAnImage { name: String, what: String },

    /// A real image, but not PNG or JPEG (GIF, WebP, BMP, TIFF...).
    #[error(
        "{name} is a {format} image, but only PNG and JPEG are read: convert it first (for example with an image editor, or `convert` from ImageMagick)"
    )]
    UnsupportedFormat { name: String, format: String },

    /// The header's size is over [`MAX_SIDE`] or [`MAX_PIXELS`]; nothing was allocated yet.
    #[error(
        "{name} is {width} x {height} pixels, over this loader's limit of {max_side} pixels a side and {max_mp} million pixels in all: shrink it first, the network only needs 224 x 224 pixels",
        max_side = MAX_SIDE,
        max_mp = MAX_PIXELS / 1_000_000
    )]
    TooLarge {
        name: String,
        width: u32,
        height: u32,
    },

    /// The file stops early, as after an interrupted download or copy.
    #[error(
        "{name} is a truncated {format} file (its data stops before the end of the image): the download or copy was cut short, fetch the file again"
    )]
    Truncated { name: String, format: &'static str },

    /// The data is inconsistent: bad checksums, impossible values.
    #[error(
        "{name} is a damaged {format} file ({detail}): fetch it again, or re-save it with an image editor"
    )]
    Corrupt {
        name: String,
        format: &'static str,
        detail: String,
    },

    /// Valid, but uses something the `image` decoders do not handle (rare: 12-bit JPEG...).
    #[error(
        "{name} uses a {format} feature this loader does not support ({detail}): re-save it as an ordinary 8-bit RGB PNG or JPEG"
    )]
    Unsupported {
        name: String,
        format: &'static str,
        detail: String,
    },

    /// A hand-built [`RgbImage`] whose `pixels` length does not match its size.
    #[error(
        "an RgbImage of {width} x {height} pixels needs width * height * 3 bytes, but it has {bytes}: build it with RgbImage::new"
    )]
    BadBuffer {
        width: usize,
        height: usize,
        bytes: usize,
    },

    /// A resize or crop asked for an impossible size (zero, too large, a crop bigger than the image).
    #[error("cannot make a {width} x {height} image: {reason}")]
    BadSize {
        width: usize,
        height: usize,
        reason: &'static str,
    },
}

/// A decoded picture, 8 bits per channel, because that is where both reference pipelines stand
/// before resizing, and comparing against them needs the same bytes.
///
/// `pixels` is row-major and interleaved: `[r, g, b, r, g, b, ...]`, `width * height * 3` bytes.
/// The fields are public so you can look at and build images by hand; the functions of this
/// module check the length and return [`ImageError::BadBuffer`] rather than panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// `width * height * 3` bytes, row after row, `[r, g, b]` for each pixel.
    pub pixels: Vec<u8>,
}

impl RgbImage {
    /// Builds an image, refusing a buffer of the wrong length so that a mistake shows up here
    /// and not as a strange picture three steps later.
    pub fn new(width: usize, height: usize, pixels: Vec<u8>) -> Result<Self, ImageError> {
        let image = RgbImage {
            width,
            height,
            pixels,
        };
        image.check()?;
        Ok(image)
    }

    /// The `[r, g, b]` at column `x`, row `y`, or `None` outside the image, for tests and
    /// debugging without index arithmetic.
    pub fn pixel(&self, x: usize, y: usize) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y * self.width + x) * 3;
        match self.pixels.get(i..i + 3) {
            Some(&[r, g, b]) => Some([r, g, b]),
            _ => None,
        }
    }

    fn check(&self) -> Result<(), ImageError> {
        let expected = self
            .width
            .checked_mul(self.height)
            .and_then(|n| n.checked_mul(3));
        if expected == Some(self.pixels.len()) {
            Ok(())
        } else {
            Err(ImageError::BadBuffer {
                width: self.width,
                height: self.height,
                bytes: self.pixels.len(),
            })
        }
    }
}

/// Which pretrained weights the input is for: each set of weights was trained on inputs
/// resized and scaled in one particular way, and only works well on inputs made the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preprocessing {
    /// For Keras's `VGG16`, `VGG19` and `ResNet50` ImageNet weights (converted from Caffe):
    /// `load_img(path, target_size=(224, 224))`, which resizes with nearest neighbour, then
    /// `preprocess_input`: channels in B, G, R order, minus the ImageNet mean
    /// [103.939, 116.779, 123.68], values left on the 0-255 scale.
    Caffe,
    /// For torchvision's ImageNet weights (`ResNet50_Weights.IMAGENET1K_V1`,
    /// `VGG16_Weights.IMAGENET1K_V1`, ...): `Resize(256)` (bilinear, antialiased),
    /// `CenterCrop(224)`, `ToTensor()` (0-1) and `Normalize(mean=[0.485, 0.456, 0.406],
    /// std=[0.229, 0.224, 0.225])`, channels in R, G, B order.
    Torch,
    /// For EfficientNet-Lite weights (trained by TensorFlow's `efficientnet_lite_builder`,
    /// whose `MEAN_RGB` and `STDDEV_RGB` are 127 and 128 for every channel): framed as
    /// [`Preprocessing::Torch`] (shorter side 256, centre crop 224), then `(x - 127) / 128`,
    /// R, G, B. (TensorFlow's own evaluation crops the centre 87.5 % first and resizes with
    /// bicubic interpolation: the same framing, slightly different pixels.)
    Lite,
}

impl Preprocessing {
    /// Brings a decoded image to 224 x 224 the way this preprocessing's reference pipeline
    /// does, because the network was trained on that framing: Keras squashes the whole picture
    /// (nearest neighbour), torchvision keeps the aspect ratio and crops the centre.
    pub fn resize(self, image: &RgbImage) -> Result<RgbImage, ImageError> {
        match self {
            Preprocessing::Caffe => resize_nearest(image, INPUT_SIZE, INPUT_SIZE),
            Preprocessing::Torch | Preprocessing::Lite => {
                let resized = resize_shorter_side(image, TORCH_RESIZE)?;
                center_crop(&resized, INPUT_SIZE, INPUT_SIZE)
            }
        }
    }

    /// Turns pixels into the float values the network was trained on, channel-major
    /// (`[3, height, width]`, burn's and PyTorch's layout; add the batch dimension yourself).
    /// Every step is computed in `f32`, in the reference's order, so the values are identical.
    pub fn normalize(self, image: &RgbImage) -> Result<Vec<f32>, ImageError> {
        image.check()?;
        let mut values = Vec::with_capacity(image.pixels.len());
        for channel in 0..3 {
            let pixels = image.pixels.chunks_exact(3);
            match self {
                // Output channel 0 is blue, the input's channel 2.
                Preprocessing::Caffe => values
                    .extend(pixels.map(|p| f32::from(p[2 - channel]) - CAFFE_MEAN_BGR[channel])),
                Preprocessing::Torch => values.extend(pixels.map(|p| {
                    (f32::from(p[channel]) / 255.0 - TORCH_MEAN[channel]) / TORCH_STD[channel]
                })),
                Preprocessing::Lite => {
                    values.extend(pixels.map(|p| (f32::from(p[channel]) - 127.0) / 128.0))
                }
            }
        }
        Ok(values)
    }
}

/// Reads an image file and prepares it for `preprocessing`'s weights in one call, because that
/// is all a prediction demo needs: `[3, 224, 224]` values, channel-major.
pub fn load_imagenet_input(
    path: &Path,
    preprocessing: Preprocessing,
) -> Result<Vec<f32>, ImageError> {
    let image = decode(path)?;
    preprocessing.normalize(&preprocessing.resize(&image)?)
}

// ------------------------------------------------------------------------------------ decoding

/// Reads and decodes a PNG or JPEG file into RGB, as Pillow's `Image.open(path).convert("RGB")`
/// does, so that what follows starts from the same pixels as the Python references.
pub fn decode(path: &Path) -> Result<RgbImage, ImageError> {
    let name = path.display().to_string();
    let read_error = |source: std::io::Error| match source.kind() {
        std::io::ErrorKind::NotFound => ImageError::NotFound { path: name.clone() },
        _ => ImageError::Read {
            path: name.clone(),
            source,
        },
    };
    let bytes = std::fs::metadata(path).map_err(read_error)?.len();
    if bytes > MAX_FILE_BYTES {
        return Err(ImageError::FileTooLarge { name, bytes });
    }
    let data = std::fs::read(path).map_err(read_error)?;
    decode_bytes(&data, &name)
}

/// Decodes a PNG or JPEG held in memory (a download, an upload, `include_bytes!`); `name` only
/// appears in error messages.
///
/// Like Pillow's `convert("RGB")`: grey is copied to the three channels, alpha is dropped (not
/// blended), palettes are looked up, 16-bit RGB(A) and grey+alpha keep the high byte, 16-bit
/// grey is clipped to 255 (Pillow's `I;16` to `RGB` rule, surprising but what Keras sees), and
/// CMYK JPEGs are converted with Pillow's formula `R = (255 - C) * (255 - K) / 255` (Adobe
/// polarity, no colour profile). The size in the header is checked against [`MAX_SIDE`] and
/// [`MAX_PIXELS`] before any pixel memory is allocated.
pub fn decode_bytes(bytes: &[u8], name: &str) -> Result<RgbImage, ImageError> {
    let name = name.to_string();
    if bytes.is_empty() {
        return Err(ImageError::Empty { name });
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ImageError::FileTooLarge {
            name,
            bytes: bytes.len() as u64,
        });
    }
    if bytes.starts_with(&PNG_SIGNATURE[..bytes.len().min(PNG_SIGNATURE.len())]) {
        decode_png(bytes, name)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        decode_jpeg(bytes, name)
    } else if looks_like_text(bytes) {
        let what = if bytes.trim_ascii_start().starts_with(b"<") {
            "it is text, probably an HTML page: a failed download?".to_string()
        } else {
            "it is text".to_string()
        };
        Err(ImageError::NotAnImage { name, what })
    } else if let Ok(format) = image::guess_format(bytes) {
        Err(ImageError::UnsupportedFormat {
            name,
            format: format!("{format:?}"),
        })
    } else {
        let start: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let what = format!(
            "its first bytes, {}, start no known image format",
            start.join(" ")
        );
        Err(ImageError::NotAnImage { name, what })
    }
}

fn decode_png(bytes: &[u8], name: String) -> Result<RgbImage, ImageError> {
    const FORMAT: &str = "PNG";
    // The header (IHDR) always comes first, at fixed offsets: check the size before `image`
    // even sets up its decoder.
    if bytes.get(12..16) == Some(b"IHDR")
        && let Some(&[w0, w1, w2, w3, h0, h1, h2, h3]) = bytes.get(16..24)
    {
        let (width, height) = (
            u32::from_be_bytes([w0, w1, w2, w3]),
            u32::from_be_bytes([h0, h1, h2, h3]),
        );
        check_size(&name, width, height)?;
    }
    // Pillow turns 16-bit grey (PNG colour type 0) into RGB by clipping, everything else
    // 16-bit by keeping the high byte; `image` hides the colour type when there is a tRNS chunk.
    let grey16 = bytes.get(24) == Some(&16) && bytes.get(25) == Some(&0);
    let decoder = PngDecoder::with_limits(Cursor::new(bytes), decoder_limits())
        .map_err(|e| decoder_error(e, &name, FORMAT))?;
    let image = read_pixels(decoder, &name, FORMAT)?;
    to_rgb(image, grey16, &name, FORMAT)
}

fn decode_jpeg(bytes: &[u8], name: String) -> Result<RgbImage, ImageError> {
    const FORMAT: &str = "JPEG";
    // zune-jpeg quietly fills a truncated JPEG with grey; libjpeg, and so Pillow, refuse it.
    let complete = jpeg_reaches_end(bytes);
    let decoder = match JpegDecoder::new(Cursor::new(bytes)) {
        Ok(decoder) => decoder,
        Err(_) if !complete => {
            return Err(ImageError::Truncated {
                name,
                format: FORMAT,
            });
        }
        Err(e) => return Err(decoder_error(e, &name, FORMAT)),
    };
    if !complete {
        return Err(ImageError::Truncated {
            name,
            format: FORMAT,
        });
    }
    let image = read_pixels(decoder, &name, FORMAT)?;
    to_rgb(image, false, &name, FORMAT)
}

/// The header's size against the limits, before anything is allocated.
fn check_size(name: &str, width: u32, height: u32) -> Result<(), ImageError> {
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge {
            name: name.to_string(),
            width,
            height,
        });
    }
    Ok(())
}

/// `image`'s own limits, as a second fence behind `check_size`.
fn decoder_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODER_ALLOC);
    limits
}

fn read_pixels(
    mut decoder: impl ImageDecoder,
    name: &str,
    format: &'static str,
) -> Result<DynamicImage, ImageError> {
    let (width, height) = decoder.dimensions();
    check_size(name, width, height)?;
    let mut limits = decoder_limits();
    decoder
        .set_limits(limits.clone())
        .map_err(|e| decoder_error(e, name, format))?;
    limits
        .reserve(decoder.total_bytes())
        .map_err(|e| decoder_error(e, name, format))?;
    DynamicImage::from_decoder(decoder).map_err(|e| decoder_error(e, name, format))
}

fn decoder_error(error: image::ImageError, name: &str, format: &'static str) -> ImageError {
    let name = name.to_string();
    match error {
        image::ImageError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            ImageError::Truncated { name, format }
        }
        image::ImageError::Unsupported(e) => ImageError::Unsupported {
            name,
            format,
            detail: e.to_string(),
        },
        image::ImageError::Limits(e) => ImageError::Unsupported {
            name,
            format,
            detail: format!("it needs too much memory: {e}"),
        },
        other => ImageError::Corrupt {
            name,
            format,
            detail: other.to_string(),
        },
    }
}

/// Whether a JPEG's segments and scans run on to its end-of-image marker (FF D9), which is what
/// a truncated download lacks. Segments are skipped by their length, so the end marker of an
/// EXIF thumbnail does not count.
fn jpeg_reaches_end(bytes: &[u8]) -> bool {
    let mut i = 2; // after the start-of-image marker, FF D8
    loop {
        // Find the next marker; libjpeg also skips stray bytes between segments.
        while bytes.get(i).is_some_and(|&b| b != 0xFF) {
            i += 1;
        }
        while bytes.get(i) == Some(&0xFF) {
            i += 1; // 0xFF fill bytes
        }
        let Some(&marker) = bytes.get(i) else {
            return false;
        };
        i += 1;
        match marker {
            0xD9 => return true,
            0x01 | 0xD0..=0xD7 => continue, // markers without a length
            _ => {}
        }
        let Some(&[high, low]) = bytes.get(i..i + 2) else {
            return false;
        };
        i += usize::from(u16::from_be_bytes([high, low]));
        if marker == 0xDA {
            // Start of scan: entropy-coded data follows, where 0xFF is always followed by 0x00
            // (a stuffed byte) or a restart marker, until the next real marker.
            loop {
                match bytes.get(i..i + 2) {
                    None => return false,
                    Some(&[0xFF, next]) if next != 0x00 && !(0xD0..=0xD7).contains(&next) => break,
                    Some(_) => i += 1,
                }
            }
        }
    }
}

fn looks_like_text(bytes: &[u8]) -> bool {
    let start = &bytes[..bytes.len().min(64)];
    // UTF-8 text; the 64-byte cut may split the last character.
    let utf8 = std::str::from_utf8(start).map_or_else(|e| e.error_len().is_none(), |_| true);
    utf8 && start
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80)
}

fn to_rgb(
    image: DynamicImage,
    grey16: bool,
    name: &str,
    format: &'static str,
) -> Result<RgbImage, ImageError> {
    let (width, height) = (image.width() as usize, image.height() as usize);
    // 16-bit to 8-bit as Pillow does: the high byte, except for grey, clipped to 255.
    let to_8 = |v: u16| {
        if grey16 {
            v.min(255) as u8
        } else {
            (v >> 8) as u8
        }
    };
    let pixels: Vec<u8> = match image {
        DynamicImage::ImageRgb8(buffer) => buffer.into_raw(),
        DynamicImage::ImageRgba8(buffer) => {
            buffer.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect()
        }
        DynamicImage::ImageLuma8(buffer) => buffer.pixels().flat_map(|p| [p[0]; 3]).collect(),
        DynamicImage::ImageLumaA8(buffer) => buffer.pixels().flat_map(|p| [p[0]; 3]).collect(),
        DynamicImage::ImageRgb16(buffer) => buffer.pixels().flat_map(|p| p.0.map(to_8)).collect(),
        DynamicImage::ImageRgba16(buffer) => buffer
            .pixels()
            .flat_map(|p| [to_8(p[0]), to_8(p[1]), to_8(p[2])])
            .collect(),
        DynamicImage::ImageLuma16(buffer) => {
            buffer.pixels().flat_map(|p| [to_8(p[0]); 3]).collect()
        }
        DynamicImage::ImageLumaA16(buffer) => {
            buffer.pixels().flat_map(|p| [to_8(p[0]); 3]).collect()
        }
        other => {
            let detail = format!("colour type {:?}", other.color());
            return Err(ImageError::Unsupported {
                name: name.to_string(),
                format,
                detail,
            });
        }
    };
    RgbImage::new(width, height, pixels)
}

// ------------------------------------------------------------------------------------ resizing

/// The target of a resize or crop must be a real image within the decoding limits, so that a
/// wrong argument gives an error instead of a panic or a huge allocation.
fn check_target(width: usize, height: usize) -> Result<(), ImageError> {
    let reason = if width == 0 || height == 0 {
        "both sides must be at least 1 pixel"
    } else if width > MAX_SIDE as usize
        || height > MAX_SIDE as usize
        || (width as u64) * (height as u64) > MAX_PIXELS
    {
        "that is over the size limits (MAX_SIDE, MAX_PIXELS)"
    } else {
        return Ok(());
    };
    Err(ImageError::BadSize {
        width,
        height,
        reason,
    })
}

fn check_source(image: &RgbImage) -> Result<(), ImageError> {
    image.check()?;
    if image.width == 0 || image.height == 0 {
        let reason = "the source image has no pixels";
        return Err(ImageError::BadSize {
            width: image.width,
            height: image.height,
            reason,
        });
    }
    Ok(())
}

/// Pillow's `Image.resize(size, Image.NEAREST)`, which Keras's `load_img` uses by default: each
/// output pixel copies one input pixel, chosen exactly as Pillow chooses it (a running `f64`
/// position, truncated), so even the ties go the same way.
pub fn resize_nearest(
    image: &RgbImage,
    width: usize,
    height: usize,
) -> Result<RgbImage, ImageError> {
    check_source(image)?;
    check_target(width, height)?;
    if (width, height) == (image.width, image.height) {
        return Ok(image.clone());
    }
    let columns = nearest_sources(image.width, width);
    let rows = nearest_sources(image.height, height);
    let mut pixels = Vec::with_capacity(width * height * 3);
    for &row in &rows {
        for &column in &columns {
            let source = row.zip(column).and_then(|(y, x)| image.pixel(x, y));
            // Pillow leaves a pixel black when its source falls outside (it never does here).
            pixels.extend_from_slice(&source.unwrap_or([0, 0, 0]));
        }
    }
    RgbImage::new(width, height, pixels)
}

/// The input index each output index copies, as Pillow's `ImagingScaleAffine` computes it.
fn nearest_sources(in_size: usize, out_size: usize) -> Vec<Option<usize>> {
    let step = in_size as f64 / out_size as f64;
    let mut position = step * 0.5;
    (0..out_size)
        .map(|_| {
            let index = position as usize; // truncation, Pillow's `COORD`; never negative here
            position += step;
            (index < in_size).then_some(index)
        })
        .collect()
}

/// Pillow's `Image.resize(size, Image.BILINEAR)`, which torchvision's `Resize` uses on PIL
/// images. When shrinking it is not a plain 2 x 2 interpolation: the triangle filter widens
/// with the shrink factor, so every input pixel counts (antialiasing). Reproduced from
/// Pillow's `ImagingResample` (`src/libImaging/Resample.c`): a horizontal then a vertical pass,
/// normalised `f64` weights turned into 22-bit fixed point, each pass rounded and clipped to
/// 8 bits.
pub fn resize_bilinear(
    image: &RgbImage,
    width: usize,
    height: usize,
) -> Result<RgbImage, ImageError> {
    check_source(image)?;
    check_target(width, height)?;
    if (width, height) == (image.width, image.height) {
        return Ok(image.clone());
    }
    let mut vertical = Weights::new(image.height, height);
    let horizontal = (width != image.width).then(|| {
        // Only the rows the vertical pass reads need the horizontal pass.
        let first = vertical.first.first().copied().unwrap_or(0);
        let last = vertical
            .first
            .last()
            .zip(vertical.weights.last())
            .map_or(0, |(f, w)| f + w.len());
        for start in &mut vertical.first {
            *start -= first;
        }
        let rows = image
            .pixels
            .get(first * image.width * 3..last * image.width * 3)
            .unwrap_or_default();
        let weights = Weights::new(image.width, width);
        resample_rows(rows, image.width, last - first, &weights)
    });
    if height == image.height {
        return Ok(horizontal.unwrap_or_else(|| image.clone()));
    }
    Ok(resample_columns(
        horizontal.as_ref().unwrap_or(image),
        &vertical,
    ))
}

/// For each output position of one pass: the first input index and the fixed-point weights
/// of the inputs from there on (Pillow's `precompute_coeffs` and `normalize_coeffs_8bpc`).
struct Weights {
    first: Vec<usize>,
    weights: Vec<Vec<i64>>,
}

impl Weights {
    fn new(in_size: usize, out_size: usize) -> Weights {
        // The triangle filter; its support is 1 input pixel, widened when shrinking.
        let triangle = |x: f64| if x.abs() < 1.0 { 1.0 - x.abs() } else { 0.0 };
        let scale = in_size as f64 / out_size as f64;
        let filter_scale = scale.max(1.0);
        let support = filter_scale;
        let inverse = 1.0 / filter_scale;
        let mut first = Vec::with_capacity(out_size);
        let mut weights = Vec::with_capacity(out_size);
        for out in 0..out_size {
            let center = (out as f64 + 0.5) * scale;
            // C's `(int)` truncates toward zero, as `as` does.
            let min = ((center - support + 0.5) as i64).max(0) as usize;
            let max = ((center + support + 0.5) as i64).min(in_size as i64).max(0) as usize;
            let mut w: Vec<f64> = (min..max)
                .map(|x| triangle((x as f64 - center + 0.5) * inverse))
                .collect();
            let mut total = 0.0;
            for &v in &w {
                total += v;
            }
            if total != 0.0 {
                w.iter_mut().for_each(|v| *v /= total);
            }
            let one = f64::from(1u32 << PRECISION_BITS);
            let fixed = w.iter().map(|&v| {
                if v < 0.0 {
                    (-0.5 + v * one) as i64
                } else {
                    (0.5 + v * one) as i64
                }
            });
            first.push(min);
            weights.push(fixed.collect());
        }
        Weights { first, weights }
    }
}

/// Rounds a fixed-point sum back to a byte, as Pillow's `clip8`.
fn clip8(sum: i64) -> u8 {
    (sum >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The horizontal pass over `height` rows of `width` pixels.
fn resample_rows(rows: &[u8], width: usize, height: usize, weights: &Weights) -> RgbImage {
    let out_width = weights.first.len();
    let mut pixels = Vec::with_capacity(out_width * height * 3);
    for row in rows.chunks_exact(width * 3).take(height) {
        for (&first, w) in weights.first.iter().zip(&weights.weights) {
            for channel in 0..3 {
                let mut sum: i64 = 1 << (PRECISION_BITS - 1);
                for (k, &weight) in w.iter().enumerate() {
                    sum += i64::from(row.get((first + k) * 3 + channel).copied().unwrap_or(0))
                        * weight;
                }
                pixels.push(clip8(sum));
            }
        }
    }
    RgbImage {
        width: out_width,
        height,
        pixels,
    }
}

/// The vertical pass: each output row mixes the input rows the weights name.
fn resample_columns(image: &RgbImage, weights: &Weights) -> RgbImage {
    let stride = image.width * 3;
    let mut pixels = Vec::with_capacity(stride * weights.first.len());
    for (&first, w) in weights.first.iter().zip(&weights.weights) {
        for i in 0..stride {
            let mut sum: i64 = 1 << (PRECISION_BITS - 1);
            for (k, &weight) in w.iter().enumerate() {
                sum += i64::from(
                    image
                        .pixels
                        .get((first + k) * stride + i)
                        .copied()
                        .unwrap_or(0),
                ) * weight;
            }
            pixels.push(clip8(sum));
        }
    }
    RgbImage {
        width: image.width,
        height: weights.first.len(),
        pixels,
    }
}

/// torchvision's `transforms.Resize(size)` with an integer size: the shorter side becomes
/// `size`, the longer one `int(size * long / short)` (truncated, as torchvision does), so the
/// picture keeps its proportions; bilinear as in [`resize_bilinear`].
pub fn resize_shorter_side(image: &RgbImage, size: usize) -> Result<RgbImage, ImageError> {
    check_source(image)?;
    let (width, height) = (image.width, image.height);
    let (short, long) = if width <= height {
        (width, height)
    } else {
        (height, width)
    };
    let Some(product) = size.checked_mul(long) else {
        return Err(ImageError::BadSize {
            width: size,
            height: size,
            reason: "the size overflows",
        });
    };
    // Python's `int(size * long / short)`: an exact product, one correctly rounded division.
    let new_long = (product as f64 / short as f64) as usize;
    let (new_width, new_height) = if width <= height {
        (size, new_long)
    } else {
        (new_long, size)
    };
    resize_bilinear(image, new_width, new_height)
}

/// torchvision's `transforms.CenterCrop`: the middle `width` x `height` pixels. The offset is
/// `int(round((side - crop) / 2))` with Python's rounding of halves to even, so an odd margin
/// of 33 puts 16 pixels on the left, but one of 35 puts 18. (torchvision pads with black when
/// the image is smaller than the crop; this returns an error instead.)
pub fn center_crop(image: &RgbImage, width: usize, height: usize) -> Result<RgbImage, ImageError> {
    image.check()?;
    check_target(width, height)?;
    if width > image.width || height > image.height {
        return Err(ImageError::BadSize {
            width,
            height,
            reason: "the crop is larger than the image",
        });
    }
    let left = half_rounded_to_even(image.width - width);
    let top = half_rounded_to_even(image.height - height);
    let mut pixels = Vec::with_capacity(width * height * 3);
    for row in image
        .pixels
        .chunks_exact(image.width * 3)
        .skip(top)
        .take(height)
    {
        pixels.extend_from_slice(row.get(left * 3..(left + width) * 3).unwrap_or_default());
    }
    RgbImage::new(width, height, pixels)
}

/// Python's `round(n / 2)`: halves go to the even neighbour.
fn half_rounded_to_even(n: usize) -> usize {
    let half = n / 2;
    if n % 2 == 1 && half % 2 == 1 {
        half + 1
    } else {
        half
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use sha2::{Digest, Sha256};
    use std::path::PathBuf;
    use std::time::{Duration, Instant};

    // Where the fixture and the photos are: the only lines to change when this file moves.
    const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/image_io");
    const PHOTO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../datasets/imagenet/photos");

    fn photo_path(name: &str) -> PathBuf {
        Path::new(PHOTO_DIR).join(name)
    }

    fn fixture() -> Value {
        let path = Path::new(FIXTURE_DIR).join("image_fixture.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("the fixture is JSON")
    }

    /// The largest difference, in levels out of 255, between a pixel decoded here (zune-jpeg)
    /// and by Pillow 13.0 (libjpeg-turbo), measured over every value of each photo
    /// (differing values / all values, then the largest difference after each resize):
    /// - chelsea.jpg (4:2:2): 42,194 / 405,900 differ, by at most 3; 224 nearest 3, 224 crop 3;
    /// - coffee.jpg (4:2:0): 125,892 / 720,000 differ, 10 of them by more than 3, the most by 6;
    ///   224 nearest 4, 224 crop 3;
    /// - rocket.jpg (4:4:4): 5,866 / 819,840 differ, by at most 2; nearest 2, crop 2;
    /// - the tiny JPEGs: rgb.jpg 2 of 60 values differ, by 2; gray.jpg and cmyk.jpg are exact.
    ///
    /// Given Pillow's decoded pixels instead, both resizes and both normalisations are bit-exact
    /// on all three photos (checked once; the synthetic tests below check it every time).
    fn jpeg_tolerance(photo: &str) -> u8 {
        match photo {
            "chelsea.jpg" => 3,
            "coffee.jpg" => 6,
            "rocket.jpg" => 2,
            _ => 2, // the tiny JPEGs
        }
    }

    /// Deterministic noise, the same formula as `synthetic()` in make_image_fixture.py.
    fn synthetic(width: usize, height: usize) -> RgbImage {
        let mut pixels = Vec::with_capacity(width * height * 3);
        for y in 0..height as u32 {
            for x in 0..width as u32 {
                for c in 0..3u32 {
                    let h = x
                        .wrapping_mul(374_761_393)
                        .wrapping_add(y.wrapping_mul(668_265_263))
                        .wrapping_add(c.wrapping_mul(2_246_822_519));
                    let h = (h ^ (h >> 13)).wrapping_mul(1_274_126_177);
                    pixels.push((h >> 16) as u8);
                }
            }
        }
        RgbImage::new(width, height, pixels).unwrap()
    }

    fn sha256(image: &RgbImage) -> String {
        Sha256::digest(&image.pixels)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn usize_of(v: &Value) -> usize {
        v.as_u64().expect("an integer") as usize
    }

    /// Checks the fixture's `[x, y, r, g, b]` samples; returns the largest difference seen.
    fn check_pixels(image: &RgbImage, samples: &Value, tolerance: u8, what: &str) -> u8 {
        let samples = samples.as_array().expect("a list of samples");
        assert!(samples.len() >= 12, "{what}: too few samples");
        let mut worst = 0;
        for s in samples {
            let s: Vec<usize> = s.as_array().unwrap().iter().map(usize_of).collect();
            let got = image
                .pixel(s[0], s[1])
                .unwrap_or_else(|| panic!("{what}: no pixel at {s:?}"));
            for c in 0..3 {
                let diff = got[c].abs_diff(s[2 + c] as u8);
                assert!(
                    diff <= tolerance,
                    "{what}: pixel ({}, {}) is {got:?}, Pillow's {:?}",
                    s[0],
                    s[1],
                    &s[2..]
                );
                worst = worst.max(diff);
            }
        }
        worst
    }

    /// Checks the fixture's `[channel, y, x, value]` samples of a `[3, 224, 224]` tensor.
    fn check_tensor(values: &[f32], samples: &Value, tolerance: f32, what: &str) {
        assert_eq!(
            values.len(),
            3 * INPUT_SIZE * INPUT_SIZE,
            "{what}: tensor length"
        );
        for s in samples.as_array().expect("a list of samples") {
            let s = s.as_array().unwrap();
            let (c, y, x) = (usize_of(&s[0]), usize_of(&s[1]), usize_of(&s[2]));
            let expected = s[3].as_f64().unwrap() as f32;
            let got = values[(c * INPUT_SIZE + y) * INPUT_SIZE + x];
            assert!(
                (got - expected).abs() <= tolerance,
                "{what}: [{c}, {y}, {x}] is {got}, reference {expected}"
            );
        }
    }

    #[test]
    fn decodes_every_png_and_jpeg_layout_like_pillow() {
        let fixture = fixture();
        let tiny = fixture["tiny"].as_object().unwrap();
        assert!(tiny.len() >= 13, "the fixture lists the tiny files");
        for (name, expected) in tiny {
            let image = decode(&Path::new(FIXTURE_DIR).join("tiny").join(name))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(
                (image.width, image.height),
                (usize_of(&expected["width"]), usize_of(&expected["height"]))
            );
            let tolerance = if name.ends_with(".png") {
                0
            } else {
                jpeg_tolerance(name)
            };
            let reference = expected["rgb"].as_array().unwrap();
            assert_eq!(image.pixels.len(), reference.len(), "{name}");
            for (i, (&got, want)) in image.pixels.iter().zip(reference).enumerate() {
                let want = usize_of(want) as u8;
                assert!(
                    got.abs_diff(want) <= tolerance,
                    "{name}: byte {i} is {got}, Pillow's {want}"
                );
            }
        }
    }

    #[test]
    fn nearest_resize_is_bit_exact_against_pillow() {
        let fixture = fixture();
        let synthetic_sizes = fixture["synthetic"].as_object().unwrap();
        assert!(synthetic_sizes.len() >= 7);
        for (size, expected) in synthetic_sizes {
            let (w, h) = size.split_once('x').unwrap();
            let image = synthetic(w.parse().unwrap(), h.parse().unwrap());
            let resized = Preprocessing::Caffe.resize(&image).unwrap();
            let what = format!("nearest {size}");
            check_pixels(&resized, &expected["keras_nearest_224"]["pixels"], 0, &what);
            assert_eq!(
                sha256(&resized),
                expected["keras_nearest_224"]["sha256"],
                "{what}"
            );
        }
    }

    #[test]
    fn torchvision_resize_and_crop_are_bit_exact_against_pillow() {
        let fixture = fixture();
        for (size, expected) in fixture["synthetic"].as_object().unwrap() {
            let (w, h) = size.split_once('x').unwrap();
            let image = synthetic(w.parse().unwrap(), h.parse().unwrap());
            let resized = resize_shorter_side(&image, TORCH_RESIZE).unwrap();
            let reference = &expected["torch_resize_256"];
            let what = format!("resize 256 {size}");
            assert_eq!(
                (resized.width, resized.height),
                (
                    usize_of(&reference["width"]),
                    usize_of(&reference["height"])
                ),
                "{what}"
            );
            assert_eq!(sha256(&resized), reference["sha256"], "{what}");
            let crop = &expected["torch_crop_224"];
            let (left, top) = (usize_of(&crop["left"]), usize_of(&crop["top"]));
            assert_eq!(
                half_rounded_to_even(resized.width - INPUT_SIZE),
                left,
                "crop left {size}"
            );
            assert_eq!(
                half_rounded_to_even(resized.height - INPUT_SIZE),
                top,
                "crop top {size}"
            );
            let cropped = Preprocessing::Torch.resize(&image).unwrap();
            check_pixels(&cropped, &crop["pixels"], 0, &format!("crop {size}"));
            assert_eq!(sha256(&cropped), crop["sha256"], "crop {size}");
        }
    }

    #[test]
    fn both_normalizations_are_exact_against_the_references() {
        let fixture = fixture();
        for (size, expected) in fixture["synthetic"].as_object().unwrap() {
            let (w, h) = size.split_once('x').unwrap();
            let image = synthetic(w.parse().unwrap(), h.parse().unwrap());
            for (preprocessing, key) in [
                (Preprocessing::Caffe, "caffe"),
                (Preprocessing::Torch, "torch"),
            ] {
                let values = preprocessing
                    .normalize(&preprocessing.resize(&image).unwrap())
                    .unwrap();
                check_tensor(&values, &expected[key], 0.0, &format!("{key} {size}"));
            }
        }
    }

    #[test]
    fn photos_match_pillow_within_the_jpeg_tolerance() {
        let fixture = fixture();
        let photos = fixture["photos"].as_object().unwrap();
        assert_eq!(photos.len(), 3);
        for (photo, expected) in photos {
            let tolerance = jpeg_tolerance(photo);
            let image = decode(&photo_path(photo)).unwrap();
            let decoded = &expected["decoded"];
            let size = (usize_of(&decoded["width"]), usize_of(&decoded["height"]));
            assert_eq!((image.width, image.height), size, "{photo}");
            check_pixels(&image, &decoded["pixels"], tolerance, photo);

            let nearest = Preprocessing::Caffe.resize(&image).unwrap();
            check_pixels(
                &nearest,
                &expected["keras_nearest_224"]["pixels"],
                tolerance,
                photo,
            );
            let values = Preprocessing::Caffe.normalize(&nearest).unwrap();
            check_tensor(&values, &expected["caffe"], f32::from(tolerance), photo);

            let resized = resize_shorter_side(&image, TORCH_RESIZE).unwrap();
            let reference = &expected["torch_resize_256"];
            let size = (
                usize_of(&reference["width"]),
                usize_of(&reference["height"]),
            );
            assert_eq!((resized.width, resized.height), size, "{photo}");
            let cropped = Preprocessing::Torch.resize(&image).unwrap();
            check_pixels(
                &cropped,
                &expected["torch_crop_224"]["pixels"],
                tolerance,
                photo,
            );
            let values = Preprocessing::Torch.normalize(&cropped).unwrap();
            // One level is 1 / 255 / std after normalisation; the smallest std is 0.224.
            check_tensor(
                &values,
                &expected["torch"],
                f32::from(tolerance) / 255.0 / 0.224 + 1e-6,
                photo,
            );
        }
        // The one-call version is the same three steps.
        let path = photo_path("chelsea.jpg");
        let steps = Preprocessing::Torch
            .resize(&decode(&path).unwrap())
            .unwrap();
        let expected = Preprocessing::Torch.normalize(&steps).unwrap();
        assert_eq!(
            load_imagenet_input(&path, Preprocessing::Torch).unwrap(),
            expected
        );
    }

    // ---------------------------------------------------------------- bad input

    fn error_of(bytes: &[u8], name: &str) -> ImageError {
        match decode_bytes(bytes, name) {
            Ok(image) => panic!(
                "{name} decoded to a {} x {} image",
                image.width, image.height
            ),
            Err(e) => e,
        }
    }

    fn png_bytes(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([x as u8, y as u8, (x * y) as u8])
        });
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
            .unwrap();
        bytes
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// A PNG whose header claims `width` x `height` RGB pixels, followed by a few bytes of data.
    fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&crc32(&[kind, data].concat()).to_be_bytes());
            c
        };
        let mut header = width.to_be_bytes().to_vec();
        header.extend_from_slice(&height.to_be_bytes());
        header.extend_from_slice(&[8, 2, 0, 0, 0]); // 8 bits, RGB, no interlace
        [
            PNG_SIGNATURE.to_vec(),
            chunk(b"IHDR", &header),
            chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00]),
            chunk(b"IEND", &[]),
        ]
        .concat()
    }

    #[test]
    fn a_huge_png_header_is_refused_at_once() {
        let bytes = png_claiming(100_000, 100_000);
        assert_eq!(crc32(b"IEND"), 0xAE42_6082, "the CRC is PNG's");
        let start = Instant::now();
        // Decoding it would ask for 30 GB, more than the machine has: the test would abort.
        let error = error_of(&bytes, "huge.png");
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "refused in {:?}",
            start.elapsed()
        );
        assert!(
            matches!(
                error,
                ImageError::TooLarge {
                    width: 100_000,
                    height: 100_000,
                    ..
                }
            ),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.contains("huge.png") && message.contains("100000 x 100000"),
            "{message}"
        );

        // Each limit on its own: a side, then the pixel count with both sides allowed.
        assert!(matches!(
            error_of(&png_claiming(MAX_SIDE + 1, 1), "wide.png"),
            ImageError::TooLarge { .. }
        ));
        assert!(matches!(
            error_of(&png_claiming(10_001, 10_000), "big.png"),
            ImageError::TooLarge { .. }
        ));
        assert!(check_size("ok", MAX_SIDE, 5_000).is_ok());
        // Within the limits, the same few bytes of data are not the 180,000 pixels the header promises.
        assert!(matches!(
            error_of(&png_claiming(300, 200), "short.png"),
            ImageError::Corrupt { .. }
        ));
    }

    #[test]
    fn a_huge_jpeg_header_is_refused() {
        let mut bytes = std::fs::read(Path::new(FIXTURE_DIR).join("tiny/rgb.jpg")).unwrap();
        // Rewrite the frame header (SOF0: FF C0, length, precision, height, width) to 30000 x 30000.
        let sof = bytes
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("a baseline JPEG");
        bytes[sof + 5..sof + 9].copy_from_slice(&[0x75, 0x30, 0x75, 0x30]);
        let error = error_of(&bytes, "huge.jpg");
        assert!(
            matches!(
                error,
                ImageError::TooLarge {
                    width: 30_000,
                    height: 30_000,
                    ..
                }
            ),
            "{error}"
        );
    }

    #[test]
    fn empty_text_and_other_formats_are_refused_with_a_reason() {
        let error = error_of(b"", "empty.jpg");
        assert!(
            matches!(error, ImageError::Empty { .. }) && error.to_string().contains("empty.jpg"),
            "{error}"
        );

        let error = error_of(b"cat,dog\n1,2\n", "labels.csv");
        assert!(matches!(error, ImageError::NotAnImage { .. }), "{error}");
        assert!(
            error.to_string().contains("labels.csv") && error.to_string().contains("text"),
            "{error}"
        );

        let error = error_of(b"<!DOCTYPE html><html>404 Not Found</html>", "cat.jpg");
        assert!(error.to_string().contains("HTML"), "{error}");

        let error = error_of(b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff", "cat.gif");
        assert!(
            matches!(&error, ImageError::UnsupportedFormat { format, .. } if format == "Gif"),
            "{error}"
        );

        let error = error_of(&[0x00, 0x01, 0x02, 0x03, 0xFE], "noise.bin");
        assert!(error.to_string().contains("00 01 02 03 fe"), "{error}");
    }

    #[test]
    fn truncated_files_are_refused() {
        let png = png_bytes(40, 30);
        assert!(decode_bytes(&png, "whole.png").is_ok());
        for cut in [png.len() / 2, 20, 5] {
            let error = error_of(&png[..cut], "cut.png");
            assert!(
                matches!(error, ImageError::Truncated { format: "PNG", .. }),
                "{cut} bytes: {error}"
            );
            assert!(error.to_string().contains("cut.png"), "{error}");
        }

        let jpeg = std::fs::read(photo_path("chelsea.jpg")).unwrap();
        assert!(jpeg_reaches_end(&jpeg));
        // Without its last two bytes (the end marker) Pillow refuses it too.
        for cut in [jpeg.len() - 2, jpeg.len() / 2, 1000, 3] {
            let error = error_of(&jpeg[..cut], "cut.jpg");
            assert!(
                matches!(error, ImageError::Truncated { format: "JPEG", .. }),
                "{cut} bytes: {error}"
            );
        }
    }

    #[test]
    fn damaged_png_is_refused() {
        let mut png = png_bytes(40, 30);
        let idat = png.windows(4).position(|w| w == b"IDAT").unwrap();
        png[idat + 10] ^= 0xFF; // the chunk's CRC no longer matches
        let error = error_of(&png, "damaged.png");
        assert!(matches!(error, ImageError::Corrupt { .. }), "{error}");
    }

    #[test]
    fn missing_files_and_folders_name_the_path() {
        let error = decode(Path::new("no/such/cat.jpg")).unwrap_err();
        assert!(matches!(error, ImageError::NotFound { .. }), "{error}");
        assert!(error.to_string().contains("no/such/cat.jpg"), "{error}");

        let error = decode(Path::new(FIXTURE_DIR)).unwrap_err();
        assert!(matches!(error, ImageError::Read { .. }), "{error}");
        assert!(error.to_string().contains("fixtures"), "{error}");
    }

    #[test]
    fn bad_images_and_sizes_are_errors_not_panics() {
        let broken = RgbImage {
            width: 4,
            height: 4,
            pixels: vec![0; 5],
        };
        assert!(matches!(
            RgbImage::new(4, 4, vec![0; 5]),
            Err(ImageError::BadBuffer { .. })
        ));
        assert!(matches!(
            resize_nearest(&broken, 2, 2),
            Err(ImageError::BadBuffer { .. })
        ));
        assert!(matches!(
            resize_bilinear(&broken, 2, 2),
            Err(ImageError::BadBuffer { .. })
        ));
        assert!(matches!(
            center_crop(&broken, 2, 2),
            Err(ImageError::BadBuffer { .. })
        ));
        assert!(matches!(
            Preprocessing::Torch.normalize(&broken),
            Err(ImageError::BadBuffer { .. })
        ));
        let overflowing = RgbImage {
            width: usize::MAX,
            height: 3,
            pixels: vec![],
        };
        assert!(matches!(
            Preprocessing::Caffe.resize(&overflowing),
            Err(ImageError::BadBuffer { .. })
        ));

        let empty = RgbImage::new(0, 0, vec![]).unwrap();
        assert!(matches!(
            resize_shorter_side(&empty, 256),
            Err(ImageError::BadSize { .. })
        ));
        assert!(matches!(
            resize_nearest(&empty, 224, 224),
            Err(ImageError::BadSize { .. })
        ));

        let image = synthetic(10, 8);
        assert!(matches!(
            resize_bilinear(&image, 0, 5),
            Err(ImageError::BadSize { .. })
        ));
        assert!(matches!(
            resize_nearest(&image, 100_000, 100_000),
            Err(ImageError::BadSize { .. })
        ));
        assert!(matches!(
            resize_shorter_side(&image, usize::MAX),
            Err(ImageError::BadSize { .. })
        ));
        assert!(matches!(
            center_crop(&image, 11, 8),
            Err(ImageError::BadSize { .. })
        ));
        assert_eq!(center_crop(&image, 10, 8).unwrap(), image);
    }

    #[test]
    fn small_helpers_behave_like_python() {
        // Python: [round(n / 2) for n in range(8)] == [0, 0, 1, 2, 2, 2, 3, 4]
        let got: Vec<usize> = (0..8).map(half_rounded_to_even).collect();
        assert_eq!(got, [0, 0, 1, 2, 2, 2, 3, 4]);
        // A 2 x 1 image shrunk to 1 x 1 averages, an enlarged one keeps the ends.
        let two = RgbImage::new(2, 1, vec![0, 10, 255, 100, 20, 0]).unwrap();
        assert_eq!(resize_bilinear(&two, 1, 1).unwrap().pixels, [50, 15, 128]);
        assert_eq!(
            resize_nearest(&two, 4, 1).unwrap().pixels,
            [0, 10, 255, 0, 10, 255, 100, 20, 0, 100, 20, 0]
        );
    }
}
