//! Tables for the terminal: the model summary (like Keras's `model.summary()`) and the
//! one-screen summary at the end of a run.

/// One row of a model summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerRow {
    pub name: String,
    pub kind: String,
    pub output_shape: Vec<usize>,
    pub params: usize,
}

/// `61706` → `61,706`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn shape(dims: &[usize]) -> String {
    let inner: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    format!("[{}]", inner.join(", "))
}

/// A Keras-style summary: layer, output shape, parameters, and the total.
pub fn model_summary(title: &str, rows: &[LayerRow]) -> String {
    let name_width = rows
        .iter()
        .map(|r| r.name.len() + r.kind.len() + 3)
        .max()
        .unwrap_or(10)
        .max(12);
    let shape_width = rows
        .iter()
        .map(|r| shape(&r.output_shape).len())
        .max()
        .unwrap_or(12)
        .max(12);
    let width = name_width + shape_width + 14;
    let mut out = format!("{title}\n{}\n", "=".repeat(width));
    out += &format!(
        "{:<name_width$}  {:<shape_width$}  {:>10}\n{}\n",
        "Layer (type)",
        "Output shape",
        "Params",
        "-".repeat(width)
    );
    for row in rows {
        out += &format!(
            "{:<name_width$}  {:<shape_width$}  {:>10}\n",
            format!("{} ({})", row.name, row.kind),
            shape(&row.output_shape),
            thousands(row.params)
        );
    }
    let total: usize = rows.iter().map(|r| r.params).sum();
    out += &format!(
        "{}\nTotal params: {}\n",
        "=".repeat(width),
        thousands(total)
    );
    out
}

/// The summary printed at the end of a run and saved as `summary.txt`.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    title: String,
    rows: Vec<(String, String)>,
}

impl Summary {
    pub fn new(title: &str) -> Self {
        Summary {
            title: title.to_string(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, key: &str, value: impl std::fmt::Display) -> &mut Self {
        self.rows.push((key.to_string(), value.to_string()));
        self
    }

    pub fn render(&self) -> String {
        let key_width = self.rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        let body: Vec<String> = self
            .rows
            .iter()
            .map(|(k, v)| format!("  {k:<key_width$}  {v}"))
            .collect();
        let width = body
            .iter()
            .map(|l| l.chars().count())
            .chain([self.title.len() + 4])
            .max()
            .unwrap_or(20);
        format!(
            "{}\n  {}\n{}\n{}\n{}\n",
            "=".repeat(width),
            self.title,
            "-".repeat(width),
            body.join("\n"),
            "=".repeat(width)
        )
    }
}

/// The process's peak resident memory in MB (`VmHWM` of `/proc/self/status`), where the
/// system reports it (Linux); `None` elsewhere.
pub fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
