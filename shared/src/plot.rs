//! PNG plots, drawn with plotters.
//!
//! Text is drawn with the DejaVu Sans font embedded in the binary (`assets/`), so plots look
//! the same everywhere and need no system fonts or libraries.

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::images::ImageSet;
use crate::train::{ClassPrediction, History};

const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

fn init_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is part of the binary, so this cannot fail at run time.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// The course's font (DejaVu Sans, part of the binary) at `size` pixels, registered on first
/// use: for a lab that draws its own pictures with plotters, so that they look like these.
pub fn text_style(size: u32) -> TextStyle<'static> {
    init_font();
    font(size)
}

/// For `map_err` on plotters' drawing errors: the message names the file being drawn.
pub fn drawing_error<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> anyhow::Error + '_ {
    draw_err(path)
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

fn draw_err<E: std::fmt::Debug>(path: &Path) -> impl Fn(E) -> anyhow::Error + '_ {
    move |e| anyhow!("drawing {}: {e:?}", path.display())
}

/// Training curves, Keras-style: one panel per metric (loss first), training (blue) and
/// validation (red) per epoch.
pub fn plot_history(path: &Path, history: &History, title: &str) -> Result<()> {
    let names: Vec<(String, String)> = history
        .metrics
        .iter()
        .map(|m| (m.name().to_string(), format!("val_{}", m.name())))
        .collect();
    let panels: Vec<Panel> = names
        .iter()
        .map(|(train, valid)| {
            Panel::new(
                train,
                train,
                vec![
                    ("train", BLUE, history.series(train)),
                    ("valid", RED, history.series(valid)),
                ],
            )
        })
        .collect();
    plot_curves(path, title, &panels)
}

/// Colours for [`Series`], so that labs need not depend on plotters themselves.
pub use plotters::style::{BLACK, BLUE, CYAN, GREEN, MAGENTA, RED, RGBColor};

/// More colours, one per model when several are compared.
pub const PALETTE: [RGBColor; 6] = [
    BLUE,
    RED,
    RGBColor(0, 150, 0),
    RGBColor(230, 130, 0),
    MAGENTA,
    RGBColor(0, 150, 170),
];

/// A named, coloured line of (epoch, value) points.
pub type Series<'a> = (&'a str, RGBColor, Vec<(usize, f64)>);

/// One chart of [`plot_curves`]: solid lines (`series`), dashed lines (`dashed`, e.g. the
/// validation curves beside solid training ones in the same colours), an optional
/// logarithmic y axis, and vertical markers at chosen epochs.
pub struct Panel<'a> {
    pub title: &'a str,
    pub y_label: &'a str,
    pub series: Vec<Series<'a>>,
    pub dashed: Vec<Series<'a>>,
    /// A logarithmic y axis: a loss that falls from 0.7 to 0.001 stays readable.
    pub log_y: bool,
    /// `(x, label)`: a vertical line at `x` ("best epoch 38").
    pub markers: Vec<(usize, String)>,
}

impl<'a> Panel<'a> {
    /// A panel of solid lines, linear axes and no markers.
    pub fn new(title: &'a str, y_label: &'a str, series: Vec<Series<'a>>) -> Self {
        Panel {
            title,
            y_label,
            series,
            dashed: Vec::new(),
            log_y: false,
            markers: Vec::new(),
        }
    }

    pub fn with_dashed(mut self, dashed: Vec<Series<'a>>) -> Self {
        self.dashed = dashed;
        self
    }

    pub fn log_scale(mut self) -> Self {
        self.log_y = true;
        self
    }

    pub fn marker(mut self, x: usize, label: impl Into<String>) -> Self {
        self.markers.push((x, label.into()));
        self
    }
}

/// Line charts side by side, sharing the x axis "epoch".
pub fn plot_curves(path: &Path, title: &str, panels: &[Panel]) -> Result<()> {
    plot_lines(path, title, "epoch", panels)
}

/// Line charts side by side over whole-number x values (epochs, time steps, …).
pub fn plot_lines(path: &Path, title: &str, x_label: &str, panels: &[Panel]) -> Result<()> {
    init_font();
    let err = draw_err(path);
    let width = (560 * panels.len().max(1) as u32).max(760);
    let root = BitMapBackend::new(path, (width, 440)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let root = root.titled(title, font(22)).map_err(&err)?;
    let areas = root.split_evenly((1, panels.len().max(1)));
    for (panel, area) in panels.iter().zip(areas.iter()) {
        draw_panel(area, panel, x_label).map_err(|e| anyhow!("drawing {}: {e}", path.display()))?;
    }
    root.present().map_err(&err)?;
    Ok(())
}

/// `0.0312`, `4.5`, `120`: two significant digits, for the labels of a log axis.
fn significant(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let digits = (1 - v.abs().log10().floor() as i32).max(0) as usize;
    format!("{v:.digits$}")
}

fn draw_panel(area: &Area, panel: &Panel, x_label: &str) -> Result<()> {
    // On a log axis the chart draws log10 of each value, and labels the ticks with the values.
    let y = |v: f64| if panel.log_y { v.log10() } else { v };
    let usable = |v: f64| v.is_finite() && (!panel.log_y || v > 0.0);
    let all = panel.series.iter().chain(&panel.dashed);
    let (mut lo, mut hi, mut last_epoch) = (f64::INFINITY, f64::NEG_INFINITY, 1usize);
    for &(epoch, value) in all
        .flat_map(|(_, _, p)| p.iter())
        .filter(|(_, v)| usable(*v))
    {
        lo = lo.min(y(value));
        hi = hi.max(y(value));
        last_epoch = last_epoch.max(epoch);
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-3);
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, font(18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.5f64..last_epoch as f64 + 0.5, (lo - pad)..(hi + pad))
        .map_err(chart_err)?;
    let log_y = panel.log_y;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(if log_y {
            format!("{} (log scale)", panel.y_label)
        } else {
            panel.y_label.to_string()
        })
        .label_style(font(13))
        .axis_desc_style(font(15))
        .x_labels(last_epoch.clamp(2, 12))
        .x_label_formatter(&|x| {
            // Only whole numbers get a label.
            if (x - x.round()).abs() < 1e-6 {
                format!("{x:.0}")
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| {
            if log_y {
                significant(10f64.powf(*v))
            } else {
                format!("{v:.3}")
            }
        })
        .draw()
        .map_err(chart_err)?;
    let points = |p: &[(usize, f64)]| -> Vec<(f64, f64)> {
        p.iter()
            .filter(|(_, v)| usable(*v))
            .map(|&(e, v)| (e as f64, y(v)))
            .collect()
    };
    for (name, color, series) in &panel.series {
        let (color, line) = (*color, points(series));
        chart
            .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))
            .map_err(chart_err)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        if line.len() <= 60 {
            chart
                .draw_series(line.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(chart_err)?;
        }
    }
    for (name, color, series) in &panel.dashed {
        let color = *color;
        chart
            .draw_series(DashedLineSeries::new(
                points(series),
                6,
                4,
                color.stroke_width(2),
            ))
            .map_err(chart_err)?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 8, y)], color.stroke_width(2))
            });
    }
    for (x, label) in &panel.markers {
        let x = *x as f64;
        chart
            .draw_series(DashedLineSeries::new(
                vec![(x, lo - pad), (x, hi + pad)],
                4,
                4,
                BLACK.mix(0.6).stroke_width(1),
            ))
            .map_err(chart_err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                label.clone(),
                (x, hi + pad * 0.2),
                font(13),
            )))
            .map_err(chart_err)?;
    }
    chart
        .configure_series_labels()
        .label_font(font(14))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(chart_err)?;
    Ok(())
}

/// Points with a dashed diagonal `y = x`: predictions against true values (a perfect model
/// puts every point on the diagonal).
pub fn plot_scatter(
    path: &Path,
    title: &str,
    (x_label, y_label): (&str, &str),
    points: &[(f64, f64)],
) -> Result<()> {
    init_font();
    let err = draw_err(path);
    let root = BitMapBackend::new(path, (640, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let finite: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(x, y) in &finite {
        lo = lo.min(x.min(y));
        hi = hi.max(x.max(y));
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-3);
    let range = (lo - pad)..(hi + pad);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, font(20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(range.clone(), range)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(font(13))
        .axis_desc_style(font(15))
        .draw()
        .map_err(&err)?;
    chart
        .draw_series(DashedLineSeries::new(
            vec![(lo - pad, lo - pad), (hi + pad, hi + pad)],
            6,
            4,
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(&err)?;
    chart
        .draw_series(
            finite
                .iter()
                .map(|&p| Circle::new(p, 4, BLUE.mix(0.6).filled())),
        )
        .map_err(&err)?;
    root.present().map_err(&err)?;
    Ok(())
}

/// A histogram of `values` in `bins` equal bins (errors of a regression model, say).
pub fn plot_histogram(
    path: &Path,
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
) -> Result<()> {
    init_font();
    let err = draw_err(path);
    let root = BitMapBackend::new(path, (720, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let lo = finite.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = match (lo.is_finite(), hi > lo) {
        (true, true) => (lo, hi),
        (true, false) => (lo - 0.5, lo + 0.5), // all values equal
        (false, _) => (-0.5, 0.5),             // nothing to count
    };
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in &finite {
        let bin = (((v - lo) / width) as usize).min(bins - 1);
        counts[bin] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1).max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, font(20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, 0.0..top as f64 * 1.1)
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("count")
        .label_style(font(13))
        .axis_desc_style(font(15))
        .draw()
        .map_err(&err)?;
    chart
        .draw_series(counts.iter().enumerate().map(|(i, &count)| {
            let x0 = lo + i as f64 * width;
            Rectangle::new(
                [(x0, 0.0), (x0 + width, count as f64)],
                BLUE.mix(0.6).filled(),
            )
        }))
        .map_err(&err)?;
    root.present().map_err(&err)?;
    Ok(())
}

/// Plotters errors, for `?` into anyhow.
fn chart_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> anyhow::Error {
    anyhow!("{e}")
}

/// A confusion matrix as a heat map: rows are the true classes, columns the predictions.
/// Colour shows the share of each true class; the number is the count.
pub fn plot_confusion(
    path: &Path,
    matrix: &[Vec<usize>],
    class_names: &[String],
    title: &str,
) -> Result<()> {
    init_font();
    let err = draw_err(path);
    let n = matrix.len().max(1);
    let label_width = class_names.iter().map(|c| c.len()).max().unwrap_or(1) as i32 * 9 + 20;
    let cell = (560 / n as i32).clamp(24, 64);
    let (left, top) = (label_width + 30, 70);
    let size = (
        left + cell * n as i32 + 30,
        top + cell * n as i32 + label_width + 40,
    );
    let root = BitMapBackend::new(path, (size.0 as u32, size.1 as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    root.draw(&Text::new(title.to_string(), (20, 15), font(20)))
        .map_err(&err)?;
    root.draw(&Text::new(
        "predicted →".to_string(),
        (left, top - 25),
        font(15),
    ))
    .map_err(&err)?;
    root.draw(&Text::new("true ↓".to_string(), (10, top - 25), font(15)))
        .map_err(&err)?;
    for (t, row) in matrix.iter().enumerate() {
        let total: usize = row.iter().sum::<usize>().max(1);
        for (p, &count) in row.iter().enumerate() {
            let share = count as f64 / total as f64;
            let shade = (255.0 * (1.0 - share)) as u8;
            let color = RGBColor(shade, shade, 255);
            let (x, y) = (left + p as i32 * cell, top + t as i32 * cell);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                color.filled(),
            ))
            .map_err(&err)?;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                RGBColor(200, 200, 200),
            ))
            .map_err(&err)?;
            if count > 0 {
                let text_color = if share > 0.5 { WHITE } else { BLACK };
                let label = count.to_string();
                let size = (cell / 3).clamp(9, 16);
                let style = font(size as u32).color(&text_color);
                let tx = x + cell / 2 - (label.len() as i32 * size) / 3;
                root.draw(&Text::new(label, (tx, y + cell / 2 - size / 2), style))
                    .map_err(&err)?;
            }
        }
        let name = class_names.get(t).cloned().unwrap_or_else(|| t.to_string());
        root.draw(&Text::new(
            name,
            (20, top + t as i32 * cell + cell / 2 - 7),
            font(14),
        ))
        .map_err(&err)?;
    }
    for (p, name) in class_names.iter().enumerate().take(n) {
        let x = left + p as i32 * cell + cell / 2 - 5;
        let style = font(14).transform(FontTransform::Rotate90);
        root.draw(&Text::new(
            name.clone(),
            (x, top + n as i32 * cell + 8),
            style,
        ))
        .map_err(&err)?;
    }
    root.present().map_err(&err)?;
    Ok(())
}

/// One picture of an image grid.
#[derive(Debug, Clone)]
pub struct GridImage {
    /// `channels * height * width` bytes, channel-major (1 channel: grey, 3: RGB).
    pub pixels: Vec<u8>,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub caption: String,
    /// Drawn with a red frame and caption (a misclassified example).
    pub highlight: bool,
}

/// Images in a grid with a caption under each one.
pub fn plot_image_grid(
    path: &Path,
    images: &[GridImage],
    columns: usize,
    title: &str,
) -> Result<()> {
    init_font();
    let err = draw_err(path);
    let columns = columns.clamp(1, images.len().max(1));
    let rows = images.len().div_ceil(columns).max(1);
    let (h, w) = images
        .first()
        .map(|i| (i.height, i.width))
        .unwrap_or((1, 1));
    let scale = (112 / h.max(w)).clamp(1, 16) as i32;
    let caption_height = 20;
    let cell_w = (w as i32 * scale + 14).max(92);
    let cell_h = h as i32 * scale + caption_height + 14;
    let top = 44;
    let size = (
        columns as i32 * cell_w + 10,
        top + rows as i32 * cell_h + 10,
    );
    let root = BitMapBackend::new(path, (size.0 as u32, size.1 as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    root.draw(&Text::new(title.to_string(), (10, 10), font(18)))
        .map_err(&err)?;
    for (k, image) in images.iter().enumerate() {
        let x0 = 5 + (k % columns) as i32 * cell_w + (cell_w - w as i32 * scale) / 2;
        let y0 = top + (k / columns) as i32 * cell_h;
        let plane = image.height * image.width;
        for y in 0..image.height {
            for x in 0..image.width {
                let at = |c: usize| {
                    image
                        .pixels
                        .get(c * plane + y * image.width + x)
                        .copied()
                        .unwrap_or(0)
                };
                let color = if image.channels >= 3 {
                    RGBColor(at(0), at(1), at(2))
                } else {
                    RGBColor(at(0), at(0), at(0))
                };
                let (px, py) = (x0 + x as i32 * scale, y0 + y as i32 * scale);
                root.draw(&Rectangle::new(
                    [(px, py), (px + scale, py + scale)],
                    color.filled(),
                ))
                .map_err(&err)?;
            }
        }
        if image.highlight {
            let frame = [
                (x0 - 2, y0 - 2),
                (x0 + w as i32 * scale + 1, y0 + h as i32 * scale + 1),
            ];
            root.draw(&Rectangle::new(frame, RED.stroke_width(2)))
                .map_err(&err)?;
        }
        let color = if image.highlight { RED } else { BLACK };
        let caption_x = 5 + (k % columns) as i32 * cell_w + 4;
        root.draw(&Text::new(
            image.caption.clone(),
            (caption_x, y0 + h as i32 * scale + 4),
            font(13).color(&color),
        ))
        .map_err(&err)?;
    }
    root.present().map_err(&err)?;
    Ok(())
}

/// Classified images in a grid captioned "true → predicted (confidence)", the mistakes
/// framed in red; `name` turns a class index into its name.
pub fn plot_predictions(
    path: &Path,
    set: &ImageSet,
    predictions: &[&ClassPrediction],
    name: impl Fn(usize) -> String,
    columns: usize,
    title: &str,
) -> Result<()> {
    let images: Vec<GridImage> = predictions
        .iter()
        .map(|p| GridImage {
            pixels: set.image(p.index).to_vec(),
            channels: set.channels,
            height: set.height,
            width: set.width,
            caption: format!(
                "{} → {} ({:.0}%)",
                name(p.target),
                name(p.predicted),
                100.0 * p.confidence
            ),
            highlight: p.predicted != p.target,
        })
        .collect();
    plot_image_grid(path, &images, columns, title)
}

/// Scales real values to 0-255 grey levels (the smallest value black, the largest white).
pub fn to_grey(values: &[f32]) -> Vec<u8> {
    let lo = values.iter().copied().fold(f32::INFINITY, f32::min);
    let hi = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let range = (hi - lo).max(1e-12);
    values
        .iter()
        .map(|v| (255.0 * (v - lo) / range).round() as u8)
        .collect()
}

/// A stack of 2-D maps (`[count, height, width]`, e.g. conv filters or feature maps) as a
/// grid of grey images, each scaled to its own range.
pub fn plot_maps(
    path: &Path,
    values: &[f32],
    shape: [usize; 3],
    captions: &[String],
    columns: usize,
    title: &str,
) -> Result<()> {
    let [count, height, width] = shape;
    let plane = height * width;
    let images: Vec<GridImage> = (0..count)
        .map(|k| GridImage {
            pixels: to_grey(&values[k * plane..(k + 1) * plane]),
            channels: 1,
            height,
            width,
            caption: captions.get(k).cloned().unwrap_or_default(),
            highlight: false,
        })
        .collect();
    plot_image_grid(path, &images, columns, title)
}
