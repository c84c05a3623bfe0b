"""Keras reference for labs/alice-lstm/examples/bench.rs: the same IMDB-sized problem.

Embedding(10,000 -> 128), LSTM(64) or SimpleRNN(64) over 200 steps, Dense(1, sigmoid),
binary cross-entropy, Adam, batch 64, synthetic tokens. Steady-state training throughput.

    python bench/keras_rnn.py [repeats] [steps] [lstm|rnn ...]

Prints one JSON line per layer: `fit` (one epoch of `steps` batches per repeat, after a
warm-up epoch) and a `train_on_batch` loop, median samples/s over the repeats.
Needs tensorflow-cpu (tested: TensorFlow 2.21, Keras 3.15).
"""

import json
import sys
import time

import os

import numpy as np
import tensorflow as tf
import keras

# Both sides of a comparison on the same threads: 2 by default (TF_THREADS to change).
THREADS = int(os.environ.get("TF_THREADS", "2"))
tf.config.threading.set_intra_op_parallelism_threads(THREADS)
tf.config.threading.set_inter_op_parallelism_threads(THREADS)

VOCAB, EMBED, UNITS, STEPS, BATCH = 10_000, 128, 64, 200, 64


def model_for(kind):
    layer = keras.layers.LSTM(UNITS) if kind == "lstm" else keras.layers.SimpleRNN(UNITS)
    model = keras.Sequential(
        [
            keras.Input((STEPS,), dtype="int32"),
            keras.layers.Embedding(VOCAB, EMBED),
            layer,
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    kinds = sys.argv[3:] or ["lstm", "rnn"]
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, size=(steps * BATCH, STEPS), dtype=np.int32)
    y = rng.integers(0, 2, size=(steps * BATCH, 1)).astype("float32")
    for kind in kinds:
        keras.utils.set_random_seed(0)
        model = model_for(kind)
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)  # warm-up: builds the graph
        fit_rates = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
            fit_rates.append(steps * BATCH / (time.perf_counter() - start))
        for s in range(2):  # warm-up: train_on_batch traces its own function first
            model.train_on_batch(x[s * BATCH:(s + 1) * BATCH], y[s * BATCH:(s + 1) * BATCH])
        tob_rates = []
        for _ in range(repeats):
            start = time.perf_counter()
            for s in range(steps):
                model.train_on_batch(x[s * BATCH:(s + 1) * BATCH], y[s * BATCH:(s + 1) * BATCH])
            tob_rates.append(steps * BATCH / (time.perf_counter() - start))
        print(json.dumps({
            "framework": f"keras {keras.__version__}",
            "variant": kind,
            "threads": THREADS,
            "fit_samples_per_s_median": round(float(np.median(fit_rates)), 1),
            "train_on_batch_samples_per_s_median": round(float(np.median(tob_rates)), 1),
            "fit_all": [round(r, 1) for r in fit_rates],
            "train_on_batch_all": [round(r, 1) for r in tob_rates],
        }), flush=True)


if __name__ == "__main__":
    main()
