#!/usr/bin/env python3
"""Keras/TensorFlow-CPU reference for lab 9 (lab-mpg-earlystop): the same model on the same
split, for accuracy (test MAE with and without early stopping, per seed) and for speed (a
1,000-epoch `fit`, and the same 1,000 epochs as a `train_on_batch` loop).

The split is the lab's own: a run folder's `cars.csv` (which car is train, valid or test)
and `normalisation.json` (the training cars' means and standard deviations), so both sides
see exactly the same numbers. The model is TensorFlow's "basic regression" tutorial (2019):
Dense 64 ReLU, Dense 64 ReLU, Dense 1; RMSprop(0.001); MSE loss; MAE and MSE metrics;
batch 32; `EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)`.
The validation cars are passed as `validation_data` (the lab holds out the last 20% of the
training cars, which is what `validation_split=0.2` does). Used only for the lab's
documentation, never by the labs or tests:

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
    /tmp/tfvenv/bin/python bench/keras_mpg.py RUN_FOLDER [--seeds 1 2 3 4 5] [--threads 2]

Prints one JSON line per measurement.
"""
import argparse
import csv
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("run", help="a run folder of lab-mpg-earlystop (cars.csv, normalisation.json)")
parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
parser.add_argument("--epochs", type=int, default=1000)
parser.add_argument("--threads", type=int, default=2, help="TF intra-op threads (inter-op: 1)")
parser.add_argument("--no-accuracy", action="store_true", help="only the timings")
parser.add_argument("--no-timing", action="store_true", help="only the accuracy")
args = parser.parse_args()

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(args.threads)
tf.config.threading.set_inter_op_parallelism_threads(1)

with open(os.path.join(args.run, "normalisation.json")) as f:
    stats = json.load(f)
mean = np.array(stats["mean"], dtype="float32")
std = np.array(stats["std"], dtype="float32")

sets = {"train": ([], []), "valid": ([], []), "test": ([], [])}
with open(os.path.join(args.run, "cars.csv")) as f:
    for row in csv.DictReader(f):
        origin = int(float(row["origin"]))
        raw = [float(row[k]) for k in
               ("cylinders", "displacement", "horsepower", "weight", "acceleration", "model_year")]
        raw += [float(origin == 1), float(origin == 2), float(origin == 3)]  # USA, Europe, Japan
        x, y = sets[row["set"]]
        x.append(raw)
        y.append(float(row["mpg"]))
data = {}
for name, (x, y) in sets.items():
    x = (np.array(x, dtype="float32") - mean) / std  # the lab's z-scores, in float32 as the lab
    data[name] = (x, np.array(y, dtype="float32").reshape(-1, 1))
(x_train, y_train), (x_valid, y_valid), (x_test, y_test) = data["train"], data["valid"], data["test"]


def build():
    model = keras.Sequential([
        keras.Input((9,)),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(1),
    ])
    assert model.count_params() == 4865, model.count_params()
    return model


def compile_(model):
    model.compile(optimizer=keras.optimizers.RMSprop(0.001), loss="mse", metrics=["mae", "mse"])


def out(**fields):
    print(json.dumps(fields), flush=True)


out(kind="setup", tensorflow=tf.__version__, keras=keras.__version__, threads=args.threads,
    train=len(x_train), valid=len(x_valid), test=len(x_test), run=args.run)

if not args.no_accuracy:
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        model = build()
        initial = model.get_weights()
        results = {}
        for part, callbacks in [
            ("overfit", []),
            ("early_stopping", [keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=10, restore_best_weights=True)]),
        ]:
            model.set_weights(initial)  # both parts from the same first weights, as the lab
            compile_(model)  # a fresh optimiser
            started = time.perf_counter()
            history = model.fit(x_train, y_train, batch_size=32, epochs=args.epochs,
                                validation_data=(x_valid, y_valid), callbacks=callbacks, verbose=0)
            seconds = time.perf_counter() - started
            val_loss = history.history["val_loss"]
            _, test_mae, _ = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
            results[part] = dict(epochs=len(val_loss), best=int(np.argmin(val_loss)) + 1,
                                 test_mae=round(float(test_mae), 4), seconds=round(seconds, 2))
        out(kind="accuracy", seed=seed, **results)

if not args.no_timing:
    # Speed: a 64-64-1 network on 251 cars is all per-step overhead. `fit` includes the
    # validation pass each epoch (as the lab's epochs do); `train_on_batch` is the bare step.
    keras.utils.set_random_seed(0)
    model = build()
    compile_(model)
    model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_valid, y_valid),
              verbose=0)  # warm-up: tracing and compilation
    started = time.perf_counter()
    model.fit(x_train, y_train, batch_size=32, epochs=args.epochs,
              validation_data=(x_valid, y_valid), verbose=0)
    seconds = time.perf_counter() - started
    out(kind="time", what="fit", epochs=args.epochs, seconds=round(seconds, 2),
        ms_per_epoch=round(1000 * seconds / args.epochs, 2))

    rng = np.random.default_rng(0)
    for _ in range(2):  # warm-up
        model.train_on_batch(x_train[:32], y_train[:32])
    started = time.perf_counter()
    for _ in range(args.epochs):
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), 32):
            idx = order[start:start + 32]
            model.train_on_batch(x_train[idx], y_train[idx])
    seconds = time.perf_counter() - started
    out(kind="time", what="train_on_batch", epochs=args.epochs, seconds=round(seconds, 2),
        ms_per_epoch=round(1000 * seconds / args.epochs, 2))
