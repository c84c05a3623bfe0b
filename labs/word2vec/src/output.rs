//! The run's files: the vectors for other tools, and two pictures.
//!
//! | file | for |
//! |---|---|
//! | `vectors.vec` | word2vec's text format: a header `count dim`, then `word v1 v2 …` per line; gensim reads it with `KeyedVectors.load_word2vec_format(path)` |
//! | `vectors.tsv`, `metadata.tsv` | the TensorFlow Embedding Projector (projector.tensorflow.org → Load): one vector per line, tab-separated, and the words in the same order |
//! | `embedding.png` | chosen words in 2-D (PCA) with their labels; each analogy's two pairs joined by arrows, which should be parallel |
//! | `similarity.png` | the cosine similarity of every two chosen words, as a heat map |

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use plotters::prelude::*;

use shared::plot::{drawing_error as draw_err, text_style as font};

use crate::eval::Embeddings;

/// `vectors.vec`: word2vec's text format.
pub fn write_vec(path: &Path, embeddings: &Embeddings) -> Result<()> {
    let mut text = format!("{} {}\n", embeddings.len(), embeddings.dim);
    for (id, word) in embeddings.words.iter().enumerate() {
        text.push_str(word);
        for v in embeddings.row(id) {
            text.push_str(&format!(" {v}"));
        }
        text.push('\n');
    }
    shared::run::write_atomic(path, text.as_bytes())
}

/// Reads word2vec's text format (what [`write_vec`] and gensim's `save_word2vec_format`
/// write).
pub fn read_vec(path: &Path) -> Result<Embeddings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let (count, dim) = header
        .split_once(' ')
        .and_then(|(c, d)| {
            Some((
                c.trim().parse::<usize>().ok()?,
                d.trim().parse::<usize>().ok()?,
            ))
        })
        .ok_or_else(|| {
            anyhow!(
                "{}: the first line should be \"<words> <dimensions>\", not {header:?}",
                path.display()
            )
        })?;
    let mut words = Vec::with_capacity(count);
    let mut vectors = Vec::with_capacity(count * dim);
    for (n, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let mut parts = line.trim_end().split(' ');
        let word = parts.next().unwrap_or_default().to_string();
        let values = parts
            .map(str::parse::<f32>)
            .collect::<Result<Vec<f32>, _>>()
            .with_context(|| format!("{} line {}: not a number", path.display(), n + 2))?;
        if values.len() != dim {
            bail!(
                "{} line {}: {} numbers, the header says {dim}",
                path.display(),
                n + 2,
                values.len()
            );
        }
        words.push(word);
        vectors.extend(values);
    }
    if words.len() != count {
        bail!(
            "{}: {} words, the header says {count}",
            path.display(),
            words.len()
        );
    }
    Embeddings::new(words, dim, vectors)
}

/// `vectors.tsv` and `metadata.tsv` for the Embedding Projector.
pub fn write_projector(vectors: &Path, metadata: &Path, embeddings: &Embeddings) -> Result<()> {
    let mut values = String::new();
    for id in 0..embeddings.len() {
        let row: Vec<String> = embeddings.row(id).iter().map(|v| v.to_string()).collect();
        values.push_str(&row.join("\t"));
        values.push('\n');
    }
    shared::run::write_atomic(vectors, values.as_bytes())?;
    // One column of metadata: no header line (the projector's rule).
    shared::run::write_atomic(metadata, (embeddings.words.join("\n") + "\n").as_bytes())
}

/// Reads `vectors.tsv` and `metadata.tsv` back.
pub fn read_projector(vectors: &Path, metadata: &Path) -> Result<Embeddings> {
    let read =
        |p: &Path| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let words: Vec<String> = read(metadata)?.lines().map(str::to_string).collect();
    let mut dim = None;
    let mut values = Vec::new();
    for (n, line) in read(vectors)?.lines().enumerate() {
        let row = line
            .split('\t')
            .map(str::parse::<f32>)
            .collect::<Result<Vec<f32>, _>>()
            .with_context(|| format!("{} line {}: not a number", vectors.display(), n + 1))?;
        match dim {
            None => dim = Some(row.len()),
            Some(d) if d != row.len() => bail!(
                "{} line {}: {} numbers, the first line has {d}",
                vectors.display(),
                n + 1,
                row.len()
            ),
            Some(_) => {}
        }
        values.extend(row);
    }
    Embeddings::new(words, dim.unwrap_or(0), values)
}

// ---------------------------------------------------------------------------------------
// Pictures
// ---------------------------------------------------------------------------------------

/// A scatter of labelled points (`points[i]` is `labels[i]`), with arrows from point `a` to
/// point `b` for each `(a, b, colour index)` in `arrows`.
pub fn plot_embedding(
    path: &Path,
    title: &str,
    labels: &[String],
    points: &[[f32; 2]],
    arrows: &[(usize, usize, usize)],
) -> Result<()> {
    let err = draw_err(path);
    let root = BitMapBackend::new(path, (900, 760)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let (mut lo_x, mut hi_x, mut lo_y, mut hi_y) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for p in points {
        lo_x = lo_x.min(p[0]);
        hi_x = hi_x.max(p[0]);
        lo_y = lo_y.min(p[1]);
        hi_y = hi_y.max(p[1]);
    }
    if points.is_empty() {
        (lo_x, hi_x, lo_y, hi_y) = (-1.0, 1.0, -1.0, 1.0);
    }
    let pad_x = ((hi_x - lo_x) * 0.12).max(1e-3);
    let pad_y = ((hi_y - lo_y) * 0.08).max(1e-3);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, font(20))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(
            f64::from(lo_x - pad_x)..f64::from(hi_x + pad_x),
            f64::from(lo_y - pad_y)..f64::from(hi_y + pad_y),
        )
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("first principal component")
        .y_desc("second principal component")
        .label_style(font(13))
        .axis_desc_style(font(15))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(&err)?;
    let at = |i: usize| (f64::from(points[i][0]), f64::from(points[i][1]));
    for &(a, b, colour) in arrows {
        let colour = shared::plot::PALETTE[colour % shared::plot::PALETTE.len()];
        let (from, to) = (chart.backend_coord(&at(a)), chart.backend_coord(&at(b)));
        root.draw(&PathElement::new(vec![from, to], colour.stroke_width(2)))
            .map_err(&err)?;
        // The arrow's head: two short strokes back from the tip, 25° either side.
        let (dx, dy) = ((to.0 - from.0) as f64, (to.1 - from.1) as f64);
        let length = (dx * dx + dy * dy).sqrt();
        if length > 1.0 {
            let (ux, uy) = (dx / length, dy / length);
            for angle in [0.44f64, -0.44] {
                let (s, c) = angle.sin_cos();
                let (hx, hy) = (ux * c - uy * s, ux * s + uy * c);
                let end = (
                    to.0 - (12.0 * hx).round() as i32,
                    to.1 - (12.0 * hy).round() as i32,
                );
                root.draw(&PathElement::new(vec![to, end], colour.stroke_width(2)))
                    .map_err(&err)?;
            }
        }
    }
    chart
        .draw_series((0..points.len()).map(|i| Circle::new(at(i), 4, BLUE.mix(0.8).filled())))
        .map_err(&err)?;
    for (i, label) in labels.iter().enumerate() {
        let (x, y) = chart.backend_coord(&at(i));
        root.draw(&Text::new(label.clone(), (x + 6, y - 16), font(15)))
            .map_err(&err)?;
    }
    root.present().map_err(&err)?;
    Ok(())
}

/// A heat map of a square matrix of cosine similarities (red: similar, white: unrelated,
/// blue: opposite), with the value in each cell.
pub fn plot_similarity(
    path: &Path,
    title: &str,
    words: &[String],
    matrix: &[Vec<f32>],
) -> Result<()> {
    let err = draw_err(path);
    let n = words.len().max(1) as i32;
    let label_width = words.iter().map(|w| w.chars().count()).max().unwrap_or(1) as i32 * 9 + 16;
    let cell = (640 / n).clamp(22, 56);
    let (left, top) = (label_width + 16, label_width + 56);
    let size = (left + cell * n + 24, top + cell * n + 24);
    let root =
        BitMapBackend::new(path, (size.0.max(360) as u32, size.1 as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    root.draw(&Text::new(title.to_string(), (12, 12), font(18)))
        .map_err(&err)?;
    for (i, row) in matrix.iter().enumerate() {
        for (j, &value) in row.iter().enumerate() {
            let v = value.clamp(-1.0, 1.0);
            let fade = (255.0 * (1.0 - v.abs())) as u8;
            let colour = if v >= 0.0 {
                RGBColor(255, fade, fade)
            } else {
                RGBColor(fade, fade, 255)
            };
            let (x, y) = (left + j as i32 * cell, top + i as i32 * cell);
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                colour.filled(),
            ))
            .map_err(&err)?;
            root.draw(&Rectangle::new(
                [(x, y), (x + cell, y + cell)],
                RGBColor(210, 210, 210),
            ))
            .map_err(&err)?;
            if cell >= 30 {
                let size = (cell / 4).clamp(9, 13);
                let text_colour = if v.abs() > 0.6 { WHITE } else { BLACK };
                root.draw(&Text::new(
                    format!("{value:.2}"),
                    (x + 3, y + cell / 2 - size / 2),
                    font(size as u32).color(&text_colour),
                ))
                .map_err(&err)?;
            }
        }
    }
    for (i, word) in words.iter().enumerate() {
        let y = top + i as i32 * cell + cell / 2 - 7;
        root.draw(&Text::new(word.clone(), (12, y), font(14)))
            .map_err(&err)?;
        let x = left + i as i32 * cell + cell / 2 - 7;
        let style = font(14).transform(FontTransform::Rotate270);
        root.draw(&Text::new(word.clone(), (x, top - 8), style))
            .map_err(&err)?;
    }
    root.present().map_err(&err)?;
    Ok(())
}
