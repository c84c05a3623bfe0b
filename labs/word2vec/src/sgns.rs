//! Negative sampling (음성 샘플링), the fast way word2vec trains: skip-gram or CBOW on two
//! plain tables of floats, updated in place, as word2vec.c and gensim do.
//!
//! The network of the lecture has an input table `W` (one row per word: the word vectors we
//! keep) and an output table `W'` (one row per word). A softmax over the whole vocabulary
//! would touch every row of `W'` for every pair ([`crate::softmax`] does exactly that).
//! Negative sampling asks a cheaper question: is `(centre, context)` a real pair or is
//! `(centre, noise word)` made up? For the hidden vector `h` (the centre's row of `W` in
//! skip-gram, the mean of the context rows in CBOW), the true word `v₀` and `k` noise words
//! `v₁…vₖ` (rows of `W'`):
//!
//! ```text
//! loss = −log σ(h·v₀) − Σₖ log σ(−h·vₖ)                σ(x) = 1 / (1 + e^(−x))
//!
//! for each target t (label y = 1 for the true word, 0 for noise):
//!     g = σ(h·v_t) − y                                  ∂loss/∂(h·v_t)
//!     ∂loss/∂v_t = g·h       ∂loss/∂h = Σ_t g·v_t
//! ```
//!
//! Only `k + 1` rows of `W'` and one row of `W` (CBOW: the context rows) change per example:
//! a sparse gradient, applied at once by SGD. Writing this as dense tensors with autodiff
//! would compute (and apply) a gradient the size of both tables for every batch; here it is
//! a few hundred multiply-adds. The tests check [`negative_sampling`] against burn's
//! autodiff on the same loss.
//!
//! **Threads (Hogwild!).** word2vec.c and gensim split the corpus between threads that
//! update the same tables without any locking: two threads rarely touch the same row at the
//! same moment, and when they do, one update is partly lost, which SGD shrugs off (Recht et
//! al., 2011). [`SharedRows`] is that: the one place in the lab where Rust's guarantees are
//! set aside, on purpose, for speed. With `--threads 1` nothing is shared and every run
//! with the same seed gives the same vectors.

use std::marker::PhantomData;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Result, anyhow};
use shared::rng::Rng;

use crate::vocab::{NoiseTable, subsample};
use crate::windows::{Architecture, reduced_window, window_range};

/// The two tables of word2vec, `vocab × dim` floats each, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Tables {
    pub vocab: usize,
    pub dim: usize,
    /// `W` (word2vec.c's `syn0`): the word vectors, what the lab keeps.
    pub input: Vec<f32>,
    /// `W'` (`syn1neg`): the output vectors, used only to train `W`.
    pub output: Vec<f32>,
}

impl Tables {
    /// word2vec.c's start: `W` uniform in `[−0.5/dim, 0.5/dim)`, `W'` zero.
    pub fn new(vocab: usize, dim: usize, seed: u64) -> Tables {
        let mut rng = Rng::new(seed);
        let input = (0..vocab * dim)
            .map(|_| ((rng.unit() - 0.5) / dim as f64) as f32)
            .collect();
        Tables {
            vocab,
            dim,
            input,
            output: vec![0.0; vocab * dim],
        }
    }

    pub fn input_row(&self, id: usize) -> &[f32] {
        &self.input[id * self.dim..(id + 1) * self.dim]
    }
}

/// A table whose rows several threads read and update at the same time, without locks
/// (Hogwild!). See the module's documentation.
pub struct SharedRows<'a> {
    ptr: *mut f32,
    rows: usize,
    dim: usize,
    _table: PhantomData<&'a mut [f32]>,
}

// SAFETY: the pointer comes from a `&mut [f32]` that outlives `'a`; sharing it between
// threads is the Hogwild! data race described above, accepted deliberately.
unsafe impl Send for SharedRows<'_> {}
unsafe impl Sync for SharedRows<'_> {}

impl<'a> SharedRows<'a> {
    pub fn new(table: &'a mut [f32], dim: usize) -> SharedRows<'a> {
        assert!(dim > 0 && table.len().is_multiple_of(dim));
        SharedRows {
            rows: table.len() / dim,
            dim,
            ptr: table.as_mut_ptr(),
            _table: PhantomData,
        }
    }

    /// Row `id`, to read and update in place.
    ///
    /// # Safety
    ///
    /// The caller holds no other reference to this row (in this thread) while it uses the
    /// slice. Other threads may read and write the same row meanwhile: that is the Hogwild!
    /// race (lost or mixed updates, never memory outside the table).
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn row(&self, id: u32) -> &mut [f32] {
        let id = id as usize;
        assert!(id < self.rows, "row {id} of a table of {} rows", self.rows);
        // SAFETY: in bounds (checked above); exclusivity is the caller's promise.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(id * self.dim), self.dim) }
    }
}

/// `a · b`, with eight running sums so that the compiler can use SIMD (a single running sum
/// would fix the order of the additions and forbid it).
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a_chunks, a_rest) = a[..n].as_chunks::<8>();
    let (b_chunks, b_rest) = b[..n].as_chunks::<8>();
    let mut sums = [0f32; 8];
    for (x, y) in a_chunks.iter().zip(b_chunks) {
        for ((s, x), y) in sums.iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    let mut total: f32 = sums.iter().sum();
    for (x, y) in a_rest.iter().zip(b_rest) {
        total += x * y;
    }
    total
}

/// `y += alpha · x`.
#[inline(always)]
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += alpha * x;
    }
}

/// `σ(f)` and `e^(−|f|)`, from one exponential, without overflow for any `f`.
#[inline(always)]
fn sigmoid_parts(f: f32) -> (f32, f32) {
    let e = (-f.abs()).exp(); // in (0, 1]
    let sigma = if f >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (sigma, e)
}

/// `σ(f)` and one target's loss, `−log σ(f)` (label 1) or `−log σ(−f)` (label 0), without
/// overflow for any `f`: with `z = ±f`, `−log σ(z) = max(−z, 0) + log(1 + e^(−|z|))`.
#[inline(always)]
pub fn sigmoid_and_loss(f: f32, label: f32) -> (f32, f32) {
    let (sigma, e) = sigmoid_parts(f);
    let z = if label > 0.5 { f } else { -f };
    (sigma, (-z).max(0.0) + e.ln_1p())
}

/// One negative-sampling example: the hidden vector `h`, the true word `targets[0]` and the
/// noise words `targets[1..]` (rows of `output`). Adds `∂loss/∂h` to `grad_h` (computed with
/// each row before its update), moves each target row by `−lr · ∂loss/∂v_t`, and returns the
/// loss. word2vec.c's inner loop, with its `neu1e` as `−lr · grad_h`.
///
/// The loss is [`sigmoid_and_loss`] summed over the targets, with the logarithms added up
/// as the logarithm of a product (each factor `1 + e^(−|z|)` lies in (1, 2]): one logarithm
/// per example instead of one per target, which took a quarter of the training time.
#[inline(always)]
pub fn negative_sampling(
    h: &[f32],
    output: &SharedRows,
    targets: &[u32],
    lr: f32,
    grad_h: &mut [f32],
) -> f32 {
    let mut outside = 0.0f32; // Σ max(−z, 0)
    let mut product = 1.0f64; // Π (1 + e^(−|z|))
    for (k, &t) in targets.iter().enumerate() {
        let label = if k == 0 { 1.0 } else { 0.0 };
        // SAFETY: the only reference to this row of `output` in this thread (h and grad_h
        // are rows of the input table or buffers of their own).
        let v = unsafe { output.row(t) };
        let f = dot(h, v);
        let (sigma, e) = sigmoid_parts(f);
        let z = if k == 0 { f } else { -f };
        outside += (-z).max(0.0);
        product *= 1.0 + f64::from(e);
        let g = sigma - label;
        axpy(g, v, grad_h);
        axpy(-lr * g, h, v);
    }
    outside + product.ln() as f32
}

/// The settings of negative-sampling training.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub architecture: Architecture,
    pub window: usize,
    /// Noise words per example (`--negative`).
    pub negative: usize,
    pub epochs: usize,
    /// The starting learning rate; it falls linearly to `lr · min_lr_fraction` at the end.
    pub lr: f64,
    pub min_lr_fraction: f64,
    pub threads: usize,
    pub seed: u64,
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq)]
pub struct EpochStats {
    pub epoch: usize,
    /// Mean loss per example (per pair in skip-gram, per centre word in CBOW).
    pub loss: f64,
    /// The learning rate at the end of the epoch.
    pub lr: f64,
    pub seconds: f64,
    /// Words of the corpus read, and those that survived subsampling.
    pub words: u64,
    pub kept_words: u64,
    /// Examples trained on.
    pub examples: u64,
}

impl EpochStats {
    /// Corpus words per second (gensim's "raw words").
    pub fn words_per_second(&self) -> f64 {
        self.words as f64 / self.seconds.max(1e-9)
    }

    /// Words that survived subsampling per second (gensim's "effective words").
    pub fn kept_words_per_second(&self) -> f64 {
        self.kept_words as f64 / self.seconds.max(1e-9)
    }
}

/// The learning rate as training goes: word2vec.c's linear decay over all the words of all
/// epochs, `lr · max(1 − done / total, min_fraction)`, shared by the threads.
pub struct Schedule {
    lr: f64,
    min_fraction: f64,
    total_words: u64,
    done: AtomicU64,
}

impl Schedule {
    pub fn new(lr: f64, min_fraction: f64, total_words: u64) -> Schedule {
        Schedule {
            lr,
            min_fraction,
            total_words,
            done: AtomicU64::new(0),
        }
    }

    pub fn advance(&self, words: u64) {
        self.done.fetch_add(words, Ordering::Relaxed);
    }

    pub fn lr(&self) -> f32 {
        let done = self.done.load(Ordering::Relaxed) as f64;
        let left = 1.0 - done / (self.total_words as f64 + 1.0);
        (self.lr * left.max(self.min_fraction)) as f32
    }
}

/// How many corpus words a thread reads between two looks at the learning rate (word2vec.c:
/// 10,000).
const SCHEDULE_EVERY: u64 = 10_000;

/// A thread's working memory, reused from sentence to sentence.
#[derive(Debug, Default)]
struct Scratch {
    kept: Vec<u32>,
    targets: Vec<u32>,
    hidden: Vec<f32>,
    grad: Vec<f32>,
}

/// Loss sum and counts of a stretch of training.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    loss: f64,
    examples: u64,
    words: u64,
    kept_words: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.loss += other.loss;
        self.examples += other.examples;
        self.words += other.words;
        self.kept_words += other.kept_words;
    }
}

/// The noise words of one example, after the true word: `negative` draws, leaving out any
/// that happens to be the true word (as word2vec.c does).
#[inline(always)]
fn fill_targets(
    targets: &mut Vec<u32>,
    word: u32,
    negative: usize,
    noise: &NoiseTable,
    rng: &mut Rng,
) {
    targets.clear();
    targets.push(word);
    for _ in 0..negative {
        let n = noise.sample(rng);
        if n != word {
            targets.push(n);
        }
    }
}

/// What every thread of an epoch shares: the two tables, the settings, the subsampling
/// probabilities, the noise table and the learning-rate schedule.
struct Shared<'a> {
    input: SharedRows<'a>,
    output: SharedRows<'a>,
    settings: &'a Settings,
    keep: &'a [f32],
    noise: &'a NoiseTable,
    schedule: &'a Schedule,
}

impl Shared<'_> {
    /// One sentence of training: subsampling, then every centre word with its (reduced)
    /// window.
    #[inline(always)]
    fn train_sentence(
        &self,
        sentence: &[u32],
        lr: f32,
        rng: &mut Rng,
        scratch: &mut Scratch,
    ) -> Counts {
        let Scratch {
            kept,
            targets,
            hidden,
            grad,
        } = scratch;
        let (input, output, settings) = (&self.input, &self.output, self.settings);
        subsample(sentence, self.keep, rng, kept);
        let mut counts = Counts {
            words: sentence.len() as u64,
            kept_words: kept.len() as u64,
            ..Counts::default()
        };
        let len = kept.len();
        for centre in 0..len {
            let window = window_range(len, centre, reduced_window(settings.window, rng));
            match settings.architecture {
                Architecture::Skipgram => {
                    // The centre's vector predicts each neighbour in turn.
                    // SAFETY: the only reference to this row of `input` here.
                    let h = unsafe { input.row(kept[centre]) };
                    for j in window.filter(|&j| j != centre) {
                        fill_targets(targets, kept[j], settings.negative, self.noise, rng);
                        grad.fill(0.0);
                        counts.loss += f64::from(negative_sampling(h, output, targets, lr, grad));
                        counts.examples += 1;
                        axpy(-lr, grad, h);
                    }
                }
                Architecture::Cbow => {
                    // The mean of the neighbours' vectors predicts the centre.
                    hidden.fill(0.0);
                    let mut n = 0;
                    for j in window.clone().filter(|&j| j != centre) {
                        // SAFETY: read only, one row at a time.
                        axpy(1.0, unsafe { input.row(kept[j]) }, hidden);
                        n += 1;
                    }
                    if n == 0 {
                        continue;
                    }
                    let inverse = 1.0 / n as f32;
                    hidden.iter_mut().for_each(|x| *x *= inverse);
                    fill_targets(targets, kept[centre], settings.negative, self.noise, rng);
                    grad.fill(0.0);
                    counts.loss += f64::from(negative_sampling(hidden, output, targets, lr, grad));
                    counts.examples += 1;
                    // word2vec.c (and gensim's default) give every context word the whole
                    // gradient of the mean, not 1/n of it: the learning rate 0.05 is tuned so.
                    for j in window.filter(|&j| j != centre) {
                        // SAFETY: one row at a time.
                        axpy(-lr, grad, unsafe { input.row(kept[j]) });
                    }
                }
            }
        }
        counts
    }

    /// [`Shared::train_sentence`] compiled for CPUs with AVX2 and FMA (8 floats per
    /// instruction instead of 4); the CPU is asked once, at run time.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn train_sentence_avx2(
        &self,
        sentence: &[u32],
        lr: f32,
        rng: &mut Rng,
        scratch: &mut Scratch,
    ) -> Counts {
        self.train_sentence(sentence, lr, rng, scratch)
    }

    /// One thread's share of an epoch: its sentences, in order.
    fn train_chunk(&self, sentences: &[Vec<u32>], seed: u64) -> Counts {
        let mut rng = Rng::new(seed);
        let dim = self.input.dim;
        let mut scratch = Scratch {
            hidden: vec![0.0; dim],
            grad: vec![0.0; dim],
            ..Scratch::default()
        };
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        let mut total = Counts::default();
        let mut unreported = 0;
        let mut lr = self.schedule.lr();
        for sentence in sentences {
            #[cfg(target_arch = "x86_64")]
            let counts = if avx2 {
                // SAFETY: the CPU has AVX2 and FMA (checked above).
                unsafe { self.train_sentence_avx2(sentence, lr, &mut rng, &mut scratch) }
            } else {
                self.train_sentence(sentence, lr, &mut rng, &mut scratch)
            };
            #[cfg(not(target_arch = "x86_64"))]
            let counts = self.train_sentence(sentence, lr, &mut rng, &mut scratch);
            total.add(counts);
            unreported += counts.words;
            if unreported >= SCHEDULE_EVERY {
                self.schedule.advance(unreported);
                unreported = 0;
                lr = self.schedule.lr();
            }
        }
        self.schedule.advance(unreported);
        total
    }
}

/// Splits `0..sentences.len()` into `parts` consecutive ranges of about equal word counts.
pub fn split_by_words(sentences: &[Vec<u32>], parts: usize) -> Vec<Range<usize>> {
    let parts = parts.max(1);
    let total: usize = sentences.iter().map(Vec::len).sum();
    let mut ranges = Vec::with_capacity(parts);
    let (mut start, mut seen) = (0, 0);
    for (i, sentence) in sentences.iter().enumerate() {
        seen += sentence.len();
        let goal = total * (ranges.len() + 1) / parts;
        if seen >= goal && ranges.len() + 1 < parts {
            ranges.push(start..i + 1);
            start = i + 1;
        }
    }
    ranges.push(start..sentences.len());
    ranges.retain(|r| !r.is_empty());
    ranges
}

/// Trains `tables` on the encoded corpus for `settings.epochs` epochs; `keep` holds the
/// subsampling probabilities, `noise` the noise distribution. Calls `on_epoch` after each
/// epoch.
pub fn train(
    tables: &mut Tables,
    corpus: &[Vec<u32>],
    settings: &Settings,
    keep: &[f32],
    noise: &NoiseTable,
    mut on_epoch: impl FnMut(&EpochStats),
) -> Result<Vec<EpochStats>> {
    let words: u64 = corpus.iter().map(|s| s.len() as u64).sum();
    let schedule = Schedule::new(
        settings.lr,
        settings.min_lr_fraction,
        words * settings.epochs as u64,
    );
    let chunks = split_by_words(corpus, settings.threads);
    let dim = tables.dim;
    let shared = Shared {
        input: SharedRows::new(&mut tables.input, dim),
        output: SharedRows::new(&mut tables.output, dim),
        settings,
        keep,
        noise,
        schedule: &schedule,
    };
    let mut history = Vec::with_capacity(settings.epochs);
    for epoch in 1..=settings.epochs {
        let start = Instant::now();
        // Each thread and epoch has its own random stream, fixed by the seed.
        let seed_of = |thread: usize| {
            settings
                .seed
                .wrapping_mul(1_000_003)
                .wrapping_add((epoch * 1000 + thread) as u64)
        };
        let mut counts = Counts::default();
        if chunks.len() <= 1 {
            for (thread, range) in chunks.iter().enumerate() {
                counts.add(shared.train_chunk(&corpus[range.clone()], seed_of(thread)));
            }
        } else {
            let shared = &shared;
            let results: Vec<std::thread::Result<Counts>> = std::thread::scope(|scope| {
                let handles: Vec<_> = chunks
                    .iter()
                    .enumerate()
                    .map(|(thread, range)| {
                        let seed = seed_of(thread);
                        scope.spawn(move || shared.train_chunk(&corpus[range.clone()], seed))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join()).collect()
            });
            for result in results {
                counts.add(result.map_err(|_| anyhow!("a training thread panicked"))?);
            }
        }
        let stats = EpochStats {
            epoch,
            loss: counts.loss / counts.examples.max(1) as f64,
            lr: f64::from(schedule.lr()),
            seconds: start.elapsed().as_secs_f64(),
            words: counts.words,
            kept_words: counts.kept_words,
            examples: counts.examples,
        };
        on_epoch(&stats);
        history.push(stats);
    }
    Ok(history)
}
