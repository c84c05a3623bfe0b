"""Keras reference for Lab 8 (labs/imdb-lstm): IMDB sentiment with an LSTM, for the speed
benchmark. Same data, same encoding, same model as the Rust lab.

Data: the official aclImdb archive (aclImdb_labeled.tar.gz) and Keras's imdb_word_index.json,
encoded by the imdb.npz rules, as Keras's published imdb.npz was made: Keras's
text_to_word_sequence with only ASCII A-Z lower-cased (the filters
!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n become spaces, split on " ", empty strings dropped),
then [1] + [rank + 3 for each token in the index] (tokens not in the index are dropped),
values >= 10000 -> 2, then pad_sequences(maxlen=200, padding='pre', truncating='pre',
value=0). The tokenizer below is text_to_word_sequence's own code (str.translate + split),
checked against tests/fixtures/imdb_tokens.json: train/pos/576_10.txt must encode to Keras's
x_train[0] (the script checks it and says so).

Model: Embedding(10000, 128) -> LSTM(64) [or Bidirectional(LSTM(64))] -> Dense(1, sigmoid),
no masking, binary cross-entropy, Adam with Keras's defaults (lr 0.001, beta 0.9/0.999,
epsilon 1e-7), accuracy, batch 32.

Training subset (--train-reviews N): the 25,000 training reviews in file order (neg then pos,
each by numeric id) are permuted with the labs' SplitMix64 Fisher-Yates (shared/src/rng.rs,
ported below; --seed, default 42); the subset is the first N//2 negative and the first
N - N//2 positive reviews in that permuted order, kept in that order. So it is balanced.

Threads (--threads, default 2): OMP_NUM_THREADS, MKL_NUM_THREADS, TF_NUM_INTRAOP_THREADS and
TF_NUM_INTEROP_THREADS are set before numpy or TensorFlow is imported, then
tf.config.threading.set_intra_op_parallelism_threads(threads) and
set_inter_op_parallelism_threads(--inter-threads, default: the same, 2), as
bench/keras_rnn.py and bench/recurrent.sh do ("TensorFlow intra- and inter-op 2").

Paths (--path fit|loop|both):
  fit   model.fit(epochs=E, shuffle=True); a callback times each epoch (perf_counter from
        on_epoch_begin to on_epoch_end). Warm-up before it: one fit epoch on 272 samples
        (8 full batches and one of 16, so both batch shapes are traced); then the weights and
        the optimizer's state (Adam's moments and its step count) are put back to their
        initial values, so the timed epochs train from the same start as a cold run.
        With --no-test skipped, model.evaluate on the 25,000 test reviews at the end.
  loop  model.train_on_batch over batches of a fresh permutation each epoch (numpy
        default_rng(seed + epoch)), last batch partial; the epoch time is the loop alone.
        Warm-up: 3 full batches and one partial, then the same reset. loss/acc are the
        means over the epoch's batches, weighted by batch size (Keras 3's train_on_batch
        resets its metrics at every call and returns that batch's values).
  both  fit, then loop on a new model built with the same seed.

Output: lines starting with '#' describe the run (nproc, load, versions, threads, SIMD,
checksums); one line per measured epoch:
  keras path=fit epoch=1 seconds=... samples_per_s=... loss=... acc=...
and at the end `keras path=fit test_acc=... test_loss=... seconds=...`.

Checksums (to compare with the Rust side), over the padded int32 matrices in file order
(label neg then pos, then numeric id): the sum of all indices, and the sha256 of the
little-endian int32 bytes of the first 100 rows (rows of maxlen values, row-major); for
train, test and the selected training subset (its rows in training order).

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
    /tmp/tfvenv/bin/python bench/keras_imdb_lstm.py [TARBALL] [--word-index JSON] \
        [--train-reviews 25000] [--epochs 2] [--path fit|loop|both] [--threads 2] \
        [--inter-threads 2] [--batch-size 32] [--maxlen 200] [--units 64] [--bidirectional] \
        [--seed 42] [--no-test]
    # a quick check (about a minute):
    /tmp/tfvenv/bin/python bench/keras_imdb_lstm.py --train-reviews 512 --epochs 1 --no-test

Tested with TensorFlow 2.21.0 (tensorflow-cpu), Keras 3.15.1, numpy 2.4.6, Python 3.11.
"""

import argparse
import os
import sys


DEFAULT_TARBALL = "/work/shared/datasets/imdb/aclImdb_labeled.tar.gz"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("tarball", nargs="?", default=DEFAULT_TARBALL, help="aclImdb_labeled.tar.gz (or aclImdb_v1.tar.gz)")
    p.add_argument("--word-index", help="imdb_word_index.json (default: beside the tarball)")
    p.add_argument("--train-reviews", type=int, default=25_000)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--path", choices=["fit", "loop", "both"], default="both")
    p.add_argument("--threads", type=int, default=2, help="TensorFlow intra-op threads (and OMP/MKL)")
    p.add_argument("--inter-threads", type=int, help="TensorFlow inter-op threads (default: --threads)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--eval-batch-size", type=int, default=256)
    p.add_argument("--maxlen", type=int, default=200)
    p.add_argument("--num-words", type=int, default=10_000)
    p.add_argument("--embed", type=int, default=128)
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--bidirectional", action="store_true")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-test", action="store_true", help="skip model.evaluate on the test reviews")
    args = p.parse_args()
    if args.inter_threads is None:
        args.inter_threads = args.threads
    if not 2 <= args.train_reviews <= 25_000:
        p.error("--train-reviews must be in 2..25000")
    return args


ARGS = parse_args()
# Threads first: before numpy or TensorFlow is imported.
for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
    os.environ[var] = str(ARGS.threads)
os.environ["TF_NUM_INTEROP_THREADS"] = str(ARGS.inter_threads)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import hashlib  # noqa: E402
import json  # noqa: E402
import tarfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(ARGS.threads)
tf.config.threading.set_inter_op_parallelism_threads(ARGS.inter_threads)

import keras  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "imdb_tokens.json")
FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
FILTER_TABLE = str.maketrans({c: " " for c in FILTERS})
ASCII_LOWER = str.maketrans({chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)})
START, OOV, INDEX_FROM = 1, 2, 3
MASK = (1 << 64) - 1


# --- The labs' seeded order (shared/src/rng.rs: SplitMix64, Fisher-Yates) -------------------
class Rng:
    def __init__(self, seed):
        self.state = (seed ^ 0x9E3779B97F4A7C15) & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        return (self.next_u64() * n) >> 64

    def permutation(self, n):
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.below(i + 1)
            order[i], order[j] = order[j], order[i]
        return order


# --- Data -----------------------------------------------------------------------------------
def read_archive(path):
    """{'train': [(label, id, text)], 'test': [...]}, each sorted by (label, id): neg, then pos."""
    splits = {"train": [], "test": []}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            parts = member.name.lstrip("./").split("/")
            if len(parts) != 4 or not member.isfile():
                continue
            _, split, kind, name = parts
            if split in splits and kind in ("pos", "neg") and name.endswith(".txt"):
                text = tar.extractfile(member).read().decode("utf-8")
                splits[split].append((1 if kind == "pos" else 0, int(name.split("_")[0]), text))
    for reviews in splits.values():
        reviews.sort(key=lambda r: (r[0], r[1]))
    return splits


def tokenize(text):
    """tf_keras's text_to_word_sequence(text, lower=False) on the text with only A-Z lowered."""
    return [w for w in text.translate(ASCII_LOWER).translate(FILTER_TABLE).split(" ") if w]


def encode(text, index, num_words):
    seq = [START] + [index[w] + INDEX_FROM for w in tokenize(text) if w in index]
    return [v if v < num_words else OOV for v in seq]


def padded(sequences, maxlen):
    return keras.utils.pad_sequences(sequences, maxlen=maxlen, padding="pre", truncating="pre",
                                     value=0, dtype="int32")


def checksum(name, x):
    first = np.ascontiguousarray(x[:100], dtype="<i4").tobytes()
    print(f"# checksum {name} rows={x.shape[0]} maxlen={x.shape[1]} sum={int(x.astype(np.int64).sum())} "
          f"sha256_first100={hashlib.sha256(first).hexdigest()}", flush=True)


def subset_order(labels, n, seed):
    """First n//2 negative and n - n//2 positive reviews in the labs' permuted order."""
    want = {0: n // 2, 1: n - n // 2}
    out = []
    for i in Rng(seed).permutation(len(labels)):
        if want[labels[i]] > 0:
            want[labels[i]] -= 1
            out.append(i)
            if len(out) == n:
                break
    return np.array(out)


# --- Model ----------------------------------------------------------------------------------
def build(args):
    keras.utils.set_random_seed(args.seed)
    rnn = keras.layers.LSTM(args.units)
    if args.bidirectional:
        rnn = keras.layers.Bidirectional(rnn)
    model = keras.Sequential([
        keras.Input((args.maxlen,), dtype="int32"),
        keras.layers.Embedding(args.num_words, args.embed),
        rnn,
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def snapshot(model):
    model.optimizer.build(model.trainable_variables)
    return model.get_weights(), [v.numpy() for v in model.optimizer.variables]


def restore(model, state):
    weights, opt = state
    model.set_weights(weights)
    for v, value in zip(model.optimizer.variables, opt):
        v.assign(value)
    model.reset_metrics()


def line(path, epoch, seconds, n, loss, acc):
    print(f"keras path={path} epoch={epoch} seconds={seconds:.3f} samples_per_s={n / seconds:.1f} "
          f"loss={loss:.4f} acc={acc:.4f}", flush=True)


class EpochTimer(keras.callbacks.Callback):
    def __init__(self, n):
        super().__init__()
        self.n = n

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.start
        line("fit", epoch + 1, seconds, self.n, logs["loss"], logs["accuracy"])


def run_fit(args, x, y, x_test, y_test):
    model = build(args)
    state = snapshot(model)
    warm = min(len(x), 8 * args.batch_size + args.batch_size // 2)
    t = time.perf_counter()
    model.fit(x[:warm], y[:warm], batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
    restore(model, state)
    print(f"# fit warm-up: 1 epoch on {warm} samples, {time.perf_counter() - t:.2f} s (not counted); "
          f"weights and optimizer state reset", flush=True)
    model.fit(x, y, batch_size=args.batch_size, epochs=args.epochs, shuffle=True, verbose=0,
              callbacks=[EpochTimer(len(x))])
    if not args.no_test:
        t = time.perf_counter()
        loss, acc = model.evaluate(x_test, y_test, batch_size=args.eval_batch_size, verbose=0)
        print(f"keras path=fit test_acc={acc:.4f} test_loss={loss:.4f} test_reviews={len(x_test)} "
              f"seconds={time.perf_counter() - t:.1f}", flush=True)


def run_loop(args, x, y):
    model = build(args)
    state = snapshot(model)
    b = args.batch_size
    t = time.perf_counter()
    for s in range(3):  # full batches, then one partial: both shapes traced
        model.train_on_batch(x[s * b:(s + 1) * b], y[s * b:(s + 1) * b])
    model.train_on_batch(x[:max(1, b // 2)], y[:max(1, b // 2)])
    restore(model, state)
    print(f"# loop warm-up: 4 train_on_batch calls, {time.perf_counter() - t:.2f} s (not counted); "
          f"weights and optimizer state reset", flush=True)
    for epoch in range(1, args.epochs + 1):
        order = np.random.default_rng(args.seed + epoch).permutation(len(x))
        xs, ys = x[order], y[order]
        loss_sum = acc_sum = 0.0
        start = time.perf_counter()
        for i in range(0, len(xs), b):
            logs = model.train_on_batch(xs[i:i + b], ys[i:i + b], return_dict=True)
            n = min(b, len(xs) - i)
            loss_sum += logs["loss"] * n
            acc_sum += logs["accuracy"] * n
        line("loop", epoch, time.perf_counter() - start, len(x), loss_sum / len(x), acc_sum / len(x))


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for row in f:
                if row.startswith("flags"):
                    flags = set(row.split(":", 1)[1].split())
                    return " ".join(f"{k}={'yes' if k in flags else 'no'}" for k in ("avx2", "avx512f"))
    except OSError:
        pass
    return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for row in f:
                if row.startswith("model name"):
                    return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main(args):
    word_index = args.word_index or os.path.join(os.path.dirname(os.path.abspath(args.tarball)), "imdb_word_index.json")
    print(f"# nproc={os.cpu_count()} affinity={len(os.sched_getaffinity(0))} cpu={cpu_model()}", flush=True)
    print(f"# load={open('/proc/loadavg').read().split()[:3]} (1, 5, 15 min)", flush=True)
    print(f"# simd: {cpu_flags()}", flush=True)
    print(f"# tensorflow={tf.__version__} keras={keras.__version__} numpy={np.__version__} "
          f"python={sys.version.split()[0]}", flush=True)
    print(f"# threads: intra_op={tf.config.threading.get_intra_op_parallelism_threads()} "
          f"inter_op={tf.config.threading.get_inter_op_parallelism_threads()} "
          f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}", flush=True)

    t = time.perf_counter()
    with open(word_index, encoding="utf-8") as f:
        index = json.load(f)
    data = read_archive(args.tarball)
    enc = {s: [encode(r[2], index, args.num_words) for r in data[s]] for s in data}
    labels = {s: np.array([r[0] for r in data[s]], dtype="float32") for s in data}
    x_train, x_test = padded(enc["train"], args.maxlen), padded(enc["test"], args.maxlen)
    print(f"# data: {args.tarball}: train {len(x_train)}, test {len(x_test)}, encoded in "
          f"{time.perf_counter() - t:.1f} s (num_words={args.num_words}, maxlen={args.maxlen}, pre/pre)", flush=True)

    i576 = next(i for i, r in enumerate(data["train"]) if r[0] == 1 and r[1] == 576)
    if os.path.exists(FIXTURE) and args.num_words == 10_000:
        with open(FIXTURE, encoding="utf-8") as f:
            expected = json.load(f)["keras_x_train_0"]
        ok = enc["train"][i576] == expected
        print(f"# check: train/pos/576_10.txt encodes to Keras's x_train[0]: {'yes' if ok else 'NO'}", flush=True)
        if not ok:
            sys.exit("encoding differs from Keras's x_train[0]")
    checksum("train", x_train)
    checksum("test", x_test)

    order = subset_order(labels["train"].astype(int).tolist(), args.train_reviews, args.seed)
    x, y = x_train[order], labels["train"][order]
    print(f"# train subset: {len(x)} reviews (neg {int((y == 0).sum())}, pos {int((y == 1).sum())}), "
          f"seed {args.seed}", flush=True)
    checksum("train_subset", x)

    model = build(args)
    print(f"# model: Embedding({args.num_words}, {args.embed}) -> "
          f"{'Bidirectional(LSTM(%d))' % args.units if args.bidirectional else 'LSTM(%d)' % args.units} -> "
          f"Dense(1, sigmoid); {model.count_params():,} parameters; Adam(); batch {args.batch_size}; "
          f"epochs {args.epochs}", flush=True)
    del model

    if args.path in ("fit", "both"):
        run_fit(args, x, y, x_test, labels["test"])
    if args.path in ("loop", "both"):
        run_loop(args, x, y)
    print(f"# load after={open('/proc/loadavg').read().split()[:3]}", flush=True)


if __name__ == "__main__":
    main(ARGS)
