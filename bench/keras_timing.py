"""Steady-state training speed of a compiled Keras model, measured the two ways Keras trains:
`model.fit` over `steps` batches and a `train_on_batch` loop of `steps` batches, each after a
warm-up (graph tracing), `repeats` times. Imported by bench/keras_lenet.py and
bench/keras_cifar.py; returns the JSON fields they print (`<unit>_per_s`)."""
import statistics
import time

import numpy as np


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
