"""Keras reference for lab 10 (lab-imdb-regularization): TensorFlow's "overfit and underfit"
tutorial on IMDB, on exactly the reviews the Rust lab uses.

The same six models (small 4-4-1, medium 16-16-1, big 512-512-1, medium with L2(0.001) on the
hidden kernels, with Dropout(0.5) after each hidden layer, with both), Adam with Keras's
defaults, binary cross-entropy, batch 512, 20 epochs, validation on 20% of the 25,000
training reviews held out with the lab's own seeded order (SplitMix64, ported below), the
25,000 test reviews once at the end. Reviews are encoded as `imdb.load_data(num_words=10000)`
encodes them (Keras's `text_to_word_sequence`, `imdb_word_index.json`, start 1, OOV 2,
index_from 3), from the official aclImdb files, and fed as dense multi-hot rows, as the
tutorial does. The table has the lab's columns.

Batches: a tf.data pipeline reshuffled each epoch (seeded), not `fit(x, y, shuffle=True)` on
arrays, which once `keras.utils.set_random_seed` has run repeats one order in every epoch
(Keras 3.15 / TF 2.21; see docs/imdb-regularization-l2-parity.md).

    /tmp/tfvenv/bin/python bench/keras_imdb_regularization.py ../shared/datasets \
        [--models small,medium,...] [--check runs/imdb-regularization/<run>/validation_reviews.txt]

Threads: 2 (intra-op), as the Rust side's flex backend on this machine.
"""

import argparse
import json
import math
import os
import sys
import tarfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

NUM_WORDS = 10_000
MASK = (1 << 64) - 1
FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


# --- The lab's seeded order (shared/src/rng.rs: SplitMix64, Fisher-Yates) -------------------
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


# --- Reviews, as shared/src/data/imdb.rs reads and encodes them -----------------------------
def read_reviews(data_dir):
    """{'train': [(label, id, text)], 'test': [...]}, each sorted by (label, id)."""
    root = os.path.join(data_dir, "imdb")
    splits = {"train": [], "test": []}
    folder = os.path.join(root, "aclImdb")

    def add(split, kind, name, text):
        if split in splits and kind in ("pos", "neg") and name.endswith(".txt"):
            rid = int(name.split("_")[0])
            splits[split].append((1 if kind == "pos" else 0, rid, text))

    if os.path.isdir(folder):
        for split in splits:
            for kind in ("neg", "pos"):
                d = os.path.join(folder, split, kind)
                for name in os.listdir(d):
                    with open(os.path.join(d, name), encoding="utf-8") as f:
                        add(split, kind, name, f.read())
    else:
        archive = next(
            os.path.join(root, a)
            for a in ("aclImdb_labeled.tar.gz", "aclImdb_v1.tar.gz")
            if os.path.exists(os.path.join(root, a))
        )
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                parts = member.name.lstrip("./").split("/")
                if len(parts) != 4 or not member.isfile():
                    continue
                _, split, kind, name = parts
                if split in splits and kind in ("pos", "neg") and name.endswith(".txt"):
                    text = tar.extractfile(member).read().decode("utf-8")
                    add(split, kind, name, text)
    for split in splits.values():
        split.sort(key=lambda r: (r[0], r[1]))
    with open(os.path.join(root, "imdb_word_index.json"), encoding="utf-8") as f:
        index = json.load(f)
    return splits, index


def tokenize(text):
    """Keras's text_to_word_sequence."""
    table = str.maketrans({c: " " for c in FILTERS})
    return [w for w in text.lower().translate(table).split(" ") if w]


def encode(text, index):
    """imdb.load_data(num_words=10000): start 1, rank + 3, OOV 2."""
    out = [1]
    for w in tokenize(text):
        r = index.get(w)
        v = r + 3 if r is not None else None
        out.append(v if v is not None and v < NUM_WORDS else 2)
    return out


def multi_hot(sequences):
    x = np.zeros((len(sequences), NUM_WORDS), dtype=np.float32)
    for i, s in enumerate(sequences):
        x[i, s] = 1.0
    return x


# --- The models -----------------------------------------------------------------------------
MODELS = {
    "small": (4, 0.0, 0.0),
    "medium": (16, 0.0, 0.0),
    "big": (512, 0.0, 0.0),
    "l2": (16, 0.001, 0.0),
    "dropout": (16, 0.0, 0.5),
    "l2+dropout": (16, 0.001, 0.5),
}


def build(keras, units, l2, dropout):
    reg = keras.regularizers.l2(l2) if l2 > 0 else None
    layers = [keras.Input((NUM_WORDS,))]
    for _ in range(2):
        layers.append(keras.layers.Dense(units, activation="relu", kernel_regularizer=reg))
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(1, activation="sigmoid"))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(),  # lr 0.001, beta 0.9/0.999, epsilon 1e-7
        loss="binary_crossentropy",
        metrics=["accuracy", "binary_crossentropy"],
    )
    return model


def train_batches(tf, x, y, seed, batch_size):
    """The training reviews in a new seeded order each epoch, in batches: `fit` makes a new
    iterator per epoch, and `reshuffle_each_iteration` draws a new permutation for each."""
    return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(
        len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)


def stats(name, params, h, test_acc, seconds):
    val = h["val_binary_crossentropy"]
    best = min(range(len(val)), key=lambda i: val[i])
    rises = next((i + 1 for i in range(len(val) - 1) if val[i + 1] > val[i]), None)
    return {
        "model": name,
        "params": params,
        "best_val": (best + 1, val[best]),
        "rises_after": rises,
        "final_val": val[-1],
        "final_val_accuracy": h["val_accuracy"][-1],
        "accuracy_gap": 100 * (h["accuracy"][-1] - h["val_accuracy"][-1]),
        "loss_gap": val[-1] - h["binary_crossentropy"][-1],
        "test_accuracy": test_acc,
        "minutes": seconds / 60,
    }


def table(rows):
    out = "{:<11} {:>10} {:>15} {:>6} {:>10} {:>8} {:>9} {:>9} {:>9} {:>7}\n".format(
        "model", "params", "best val (ep)", "rises", "final val", "val acc", "acc gap",
        "loss gap", "test acc", "min")
    for s in rows:
        out += "{:<11} {:>10} {:>15} {:>6} {:>10.4f} {:>7.2f}% {:>8.2f}p {:>9.4f} {:>8.2f}% {:>7.2f}\n".format(
            s["model"], f"{s['params']:,}", f"{s['best_val'][1]:.4f} ({s['best_val'][0]})",
            "-" if s["rises_after"] is None else str(s["rises_after"]), s["final_val"],
            100 * s["final_val_accuracy"], s["accuracy_gap"], s["loss_gap"],
            100 * s["test_accuracy"], s["minutes"])
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data_dir", help="folder with imdb/ (aclImdb_labeled.tar.gz + imdb_word_index.json)")
    p.add_argument("--models", default="small,medium,big,l2,dropout,l2+dropout")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=512)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--validation-split", type=float, default=0.2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--check", help="the lab's validation_reviews.txt: the split must match it")
    p.add_argument("--out", help="write the histories and the table (JSON) here")
    args = p.parse_args()

    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras = tf.keras
    keras.utils.set_random_seed(args.seed)

    started = time.time()
    splits, index = read_reviews(args.data_dir)
    train_all = splits["train"]
    order = Rng(args.seed).permutation(len(train_all))
    n_valid = int(math.floor(len(order) * args.validation_split + 0.5))
    valid = [train_all[i] for i in order[:n_valid]]
    train = [train_all[i] for i in order[n_valid:]]
    names = [f"{'pos' if r[0] else 'neg'}/{r[1]}" for r in valid]
    if args.check:
        with open(args.check) as f:
            theirs = f.read().split()
        assert theirs == names, "the validation split differs from the lab's"
        print(f"validation split identical to {args.check} ({len(names)} reviews)")

    def xy(reviews):
        return multi_hot([encode(r[2], index) for r in reviews]), np.array([[r[0]] for r in reviews], np.float32)

    x_train, y_train = xy(train)
    first = f"{'pos' if train[0][0] else 'neg'}/{train[0][1]}"
    print(f"review {first} as a multi-hot row: 1 at {int(x_train[0].sum())} of the {NUM_WORDS} columns "
          f"(the lab prints the same line)")
    x_val, y_val = xy(valid)
    x_test, y_test = xy(splits["test"])
    print(f"{len(train)} train, {len(valid)} validation, {len(x_test)} test "
          f"(read and encoded in {time.time() - started:.0f} s); TensorFlow {tf.__version__}, "
          f"{args.threads} threads")

    rows, histories = [], {}
    for name in args.models.split(","):
        units, l2, dropout = MODELS[name]
        keras.utils.set_random_seed(args.seed)
        model = build(keras, units, l2, dropout)
        t = time.time()
        data = train_batches(tf, x_train, y_train, args.seed, args.batch_size)
        h = model.fit(data, epochs=args.epochs, validation_data=(x_val, y_val), shuffle=False,
                      verbose=2).history  # shuffle=False: the pipeline shuffles (no warning)
        seconds = time.time() - t
        test = model.evaluate(x_test, y_test, batch_size=1000, verbose=0, return_dict=True)
        rows.append(stats(name, model.count_params(), h, test["accuracy"], seconds))
        histories[name] = h
        print(f"{name}: {seconds:.0f} s, test accuracy {100 * test['accuracy']:.2f}%", flush=True)
    text = table(rows)
    print("\nKeras " + keras.__version__ + "\n" + text)
    print(f"total training time {sum(r['minutes'] for r in rows):.2f} min")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"rows": rows, "histories": histories, "table": text}, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
