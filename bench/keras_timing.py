"""Steady-state training speed of a compiled Keras model, measured the two ways Keras trains:
`model.fit` over `steps` batches and a `train_on_batch` loop of `steps` batches, each after a
warm-up (graph tracing), `repeats` times. Imported by bench/keras_lenet.py,
bench/keras_cifar.py and bench/keras_rnn.py; returns the JSON fields they print
(`<unit>_per_s`). `setup` is the command line the first two share."""
import argparse
import os
import statistics
import time

import numpy as np


def setup(repeats, steps):
    """`--threads N --repeats R --steps S`; quiets TensorFlow's start-up log and pins its intra-
    and inter-op threads to N (0: TensorFlow's default). Call before importing keras."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=0, help="TF intra/inter-op threads (0 = TF default)")
    parser.add_argument("--repeats", type=int, default=repeats)
    parser.add_argument("--steps", type=int, default=steps, help="steps per timed repeat")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    return args


def measure(model, x, y, batch, steps, repeats, unit):
    need = steps * batch
    reps = -(-need // len(x))
    xs = np.concatenate([x] * reps)[:need]
    ys = np.concatenate([y] * reps)[:need]

    model.fit(xs, ys, batch_size=batch, epochs=1, verbose=0)  # warm-up (graph tracing)
    fit_rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(xs, ys, batch_size=batch, epochs=1, verbose=0, shuffle=False)
        fit_rates.append(need / (time.perf_counter() - start))

    for s in range(3):  # warm-up: train_on_batch traces its own function on the first call
        s %= steps  # (fewer than 3 timed steps: repeat their batches, never an empty one)
        model.train_on_batch(xs[s * batch:(s + 1) * batch], ys[s * batch:(s + 1) * batch])
    loop_rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for s in range(steps):
            model.train_on_batch(xs[s * batch:(s + 1) * batch], ys[s * batch:(s + 1) * batch])
        loop_rates.append(need / (time.perf_counter() - start))

    return {
        "batch": batch,
        f"fit_{unit}_per_s_median": round(statistics.median(fit_rates)),
        f"train_on_batch_{unit}_per_s_median": round(statistics.median(loop_rates)),
        "fit_all": [round(r) for r in fit_rates],
        "train_on_batch_all": [round(r) for r in loop_rates],
    }
