"""Keras reference for labs/alice-lstm/examples/recurrent_bench.rs: the same IMDB-sized problem.

Embedding(10,000 -> 128), LSTM(64) or SimpleRNN(64) over 200 steps, Dense(1, sigmoid),
binary cross-entropy, Adam, batch 64, synthetic tokens. Steady-state training throughput.

    python bench/keras_rnn.py [repeats] [steps] [lstm|rnn ...]

Prints one JSON line per layer: `fit` (one epoch of `steps` batches per repeat, after a
warm-up epoch) and a `train_on_batch` loop after three warm-up steps, median samples/s over
the repeats (bench/keras_timing.py).
Needs tensorflow-cpu (tested: TensorFlow 2.21, Keras 3.15).
"""

import json
import os
import sys

import numpy as np
import tensorflow as tf
import keras

from keras_timing import measure

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
        print(json.dumps({
            "framework": f"keras {keras.__version__}",
            "variant": kind,
            "threads": THREADS,
            **measure(model, x, y, BATCH, steps, repeats, "samples"),
        }), flush=True)


if __name__ == "__main__":
    main()
