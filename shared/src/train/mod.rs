//! Training: the loop every lab shares, what it measures, and the callbacks it calls.
//!
//! * [`task`]: multi-class, binary and regression outputs, their losses and metrics;
//! * [`history`]: every metric of every epoch, as Keras's `History` keeps them;
//! * [`callbacks`]: early stopping, checkpoints, the progress bar, the history file;
//! * [`fit`](mod@fit): [`fit`](fn@fit), [`evaluate`] and [`predict`];
//! * [`throughput`]: timed training steps, for the benchmarks beside Keras.
//!
//! A lab describes one step of its lesson by implementing [`Supervised`] (forward pass and
//! loss for a batch) and [`Batcher`] (how a batch is built from item indices); [`fit`](fn@fit) does
//! the rest, the same way in every lab.

pub mod callbacks;
pub mod fit;
pub mod history;
pub mod task;
pub mod throughput;

pub use callbacks::{
    Callback, Control, EachEpoch, EarlyStopping, EarlyStoppingConfig, ModelCheckpoint, epoch_line,
    save_model_atomic,
};
pub use fit::{
    Batcher, CHECKPOINT_DIR, Checkpoints, ClassPrediction, Evaluation, FitConfig, Fitted,
    Predicted, Prediction, Supervised, Training, confusion_matrix, evaluate, fit, predict,
    predict_classes,
};
pub use history::{EpochRecord, History, Monitor};
pub use task::{Direction, Metric, StepOutput, Targets, Task, sigmoid_cross_entropy};
