//! Part 1: classify any photo with a pretrained ImageNet network, as the lecture does with
//! Keras's `VGG16(weights="imagenet")`, `preprocess_input` and `decode_predictions`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use plotters::prelude::*;
use serde::Serialize;
use shared::image_io::{self, INPUT_SIZE, Preprocessing, RgbImage};
use shared::imagenet::{self, ImagenetClass};
use shared::plot::{drawing_error, text_style};
use shared::report::{Summary, thousands};
use shared::run::RunDir;

use crate::network::Network;
use crate::weights::{self, Pretrained};

/// How a photo is brought to 224 x 224 before the network sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resize {
    /// What the weights were trained with: `crop` for PyTorch weights, `squash` for Keras's
    Auto,
    /// torchvision: shorter side to 256 (bilinear, antialiased), then the centre 224 x 224
    Crop,
    /// Keras's `load_img(target_size=(224, 224))`: the whole photo squashed to 224 x 224
    /// (nearest neighbour), whatever its shape
    Squash,
}

impl Resize {
    fn resolve(self, model: Pretrained) -> Resize {
        match (self, model.preprocessing()) {
            (Resize::Auto, Preprocessing::Caffe) => Resize::Squash,
            (Resize::Auto, Preprocessing::Torch | Preprocessing::Lite) => Resize::Crop,
            (chosen, _) => chosen,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Resize::Auto => "as the weights expect",
            Resize::Crop => "shorter side to 256, centre crop 224 x 224 (torchvision)",
            Resize::Squash => "squashed to 224 x 224, nearest neighbour (Keras load_img)",
        }
    }

    fn apply(self, image: &RgbImage) -> Result<RgbImage, image_io::ImageError> {
        match self {
            Resize::Squash => Preprocessing::Caffe.resize(image),
            Resize::Crop | Resize::Auto => Preprocessing::Torch.resize(image),
        }
    }
}

/// One class of a top-5 list.
#[derive(Debug, Clone, Serialize)]
pub struct Guess {
    pub class: usize,
    pub wnid: String,
    pub name: String,
    pub probability: f32,
}

/// What the network said about one photo.
#[derive(Debug, Clone, Serialize)]
pub struct Classified {
    pub path: PathBuf,
    pub width: usize,
    pub height: usize,
    pub top5: Vec<Guess>,
    pub milliseconds: f64,
}

/// The `top` most probable classes of a probability vector, as Keras's `decode_predictions`
/// lists them.
pub fn top_classes(probabilities: &[f32], classes: &[ImagenetClass], top: usize) -> Vec<Guess> {
    imagenet::decode_predictions(probabilities, classes, top)
        .into_iter()
        .map(|(class, name, probability)| Guess {
            class,
            wnid: name.wnid.clone(),
            name: name.name.clone(),
            probability,
        })
        .collect()
}

/// The files to classify: each path given, folders expanded to the PNG and JPEG files they
/// hold (sorted by name, not recursing).
pub fn image_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading folder {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .and_then(|e| e.to_str())
                            .map(|e| {
                                matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png")
                            })
                            .unwrap_or(false)
                })
                .collect();
            if found.is_empty() {
                bail!(
                    "folder {} holds no .jpg, .jpeg or .png file",
                    path.display()
                );
            }
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Everything part 1 needs to know.
pub struct ClassifyArgs {
    pub model: Pretrained,
    pub weights: Option<PathBuf>,
    pub images: Vec<PathBuf>,
    pub resize: Resize,
    pub data_dir: PathBuf,
    pub out: PathBuf,
    pub device: Device,
}

/// Part 1: prints a `decode_predictions`-style top 5 for every image and saves a picture of
/// each with its top-5 bars, plus `predictions.json`, in a new run folder.
pub fn run(args: &ClassifyArgs) -> Result<Vec<Classified>> {
    let files = image_files(&args.images)?;
    if files.is_empty() {
        bail!("no image to classify: pass image files or folders");
    }
    let classes = imagenet::read_class_index(&imagenet::bundled_class_index())?;
    // Every image is read and prepared before the weights are loaded (528 MB for VGG-16),
    // so that a bad file is reported at once.
    let resize = args.resize.resolve(args.model);
    let normalization = args.model.preprocessing();
    let mut inputs = Vec::new();
    for file in &files {
        let image = image_io::decode(file)?;
        inputs.push((image.width, image.height, resize.apply(&image)?));
    }
    let path = weights::locate(args.model, args.weights.as_deref(), &args.data_dir)?;
    let started = Instant::now();
    let network = Network::load(args.model, &path, &args.device)?;
    println!(
        "{} loaded from {} in {:.1} s",
        args.model.name(),
        path.display(),
        started.elapsed().as_secs_f64()
    );
    println!("\n{}", network.summary());
    println!(
        "Preprocessing: {}; values {}\n",
        resize.describe(),
        match normalization {
            Preprocessing::Caffe =>
                "as Keras's \"caffe\" mode (BGR, minus the ImageNet mean, 0-255)",
            Preprocessing::Torch => "as torchvision (/255, minus mean, divided by std, RGB)",
            Preprocessing::Lite => "as TensorFlow's EfficientNet-Lite ((x - 127) / 128, RGB)",
        }
    );

    let run = RunDir::create(&args.out, "vgg16-transfer")?;
    let mut results = Vec::new();
    for (n, (file, (width, height, input))) in files.iter().zip(&inputs).enumerate() {
        let values = normalization.normalize(input)?;
        let started = Instant::now();
        let tensor = Tensor::<4>::from_data(
            TensorData::new(values, [1, 3, INPUT_SIZE, INPUT_SIZE]),
            &args.device,
        );
        let probabilities = shared::floats(softmax(network.forward(tensor), 1));
        let milliseconds = 1000.0 * started.elapsed().as_secs_f64();
        let top5 = top_classes(&probabilities, &classes, 5);
        println!(
            "{} ({width} x {height}, {milliseconds:.0} ms):",
            file.display(),
        );
        for guess in &top5 {
            println!(
                "  ('{}', '{}', {:.4})",
                guess.wnid, guess.name, guess.probability
            );
        }
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("image{n}"));
        let picture = run.file(&format!("{n:02}-{stem}-top5.png"));
        plot_top5(
            &picture,
            input,
            &top5,
            &format!("{stem} — {}", args.model.name()),
        )?;
        results.push(Classified {
            path: file.clone(),
            width: *width,
            height: *height,
            top5,
            milliseconds,
        });
    }
    run.write_json("predictions.json", &results)?;
    let mut summary = Summary::new("Lab 4 · a pretrained ImageNet network");
    summary
        .row(
            "network",
            format!(
                "{} ({} parameters)",
                args.model.name(),
                thousands(match &network {
                    Network::Vgg(net) => net.config.num_params(),
                    Network::EfficientNet(net) => net.config.num_params(),
                })
            ),
        )
        .row("weights", path.display())
        .row("images", files.len())
        .row("preprocessing", resize.describe());
    for result in &results {
        let best = &result.top5[0];
        summary.row(
            &result
                .path
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            format!("{} ({:.1}%)", best.name, 100.0 * best.probability),
        );
    }
    summary.row("outputs", run.path.display());
    let text = summary.render();
    println!("\n{text}");
    run.write_text("summary.txt", &text)?;
    Ok(results)
}

/// The network's input (what it really saw) on the left, its top-5 as bars on the right.
pub fn plot_top5(path: &Path, image: &RgbImage, top5: &[Guess], title: &str) -> Result<()> {
    let err = drawing_error(path);
    let (w, h) = (image.width as i32, image.height as i32);
    let root = BitMapBackend::new(path, (w as u32 + 460, h as u32 + 60)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    root.draw(&Text::new(title.to_string(), (10, 8), text_style(18)))
        .map_err(&err)?;
    let (x0, y0) = (10, 40);
    for y in 0..image.height {
        for x in 0..image.width {
            if let Some([r, g, b]) = image.pixel(x, y) {
                root.draw_pixel((x0 + x as i32, y0 + y as i32), &RGBColor(r, g, b))
                    .map_err(&err)?;
            }
        }
    }
    let bar_x = x0 + w + 20;
    let bar_width = 420.0;
    let row = (h / 5).max(24);
    for (k, guess) in top5.iter().enumerate() {
        let y = y0 + k as i32 * row;
        let length = (bar_width * guess.probability.clamp(0.0, 1.0) as f64) as i32;
        let color = if k == 0 {
            shared::plot::BLUE
        } else {
            RGBColor(150, 170, 200)
        };
        root.draw(&Rectangle::new(
            [(bar_x, y + 18), (bar_x + length.max(1), y + row - 8)],
            color.filled(),
        ))
        .map_err(&err)?;
        root.draw(&Text::new(
            format!("{} {:.1}%", guess.name, 100.0 * guess.probability),
            (bar_x, y),
            text_style(15),
        ))
        .map_err(&err)?;
    }
    root.present().map_err(&err)?;
    Ok(())
}
