#!/usr/bin/env python3
"""Keras/TensorFlow-CPU reference for the LeNet-5 training-throughput benchmark.

The same network as labs/lenet (C1 6@5x5 same, max-pool, C3 16@5x5 valid, max-pool,
120-84-10, ReLU), Adam, batch 128, on the bundled MNIST sample. Prints the median
samples/s of steady-state training, measured two ways: `model.fit` over an epoch and a
`train_on_batch` loop. Used only for benchmarks, never by the labs or tests:

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
    /tmp/tfvenv/bin/python bench/keras_lenet.py [--threads 2] [--repeats 5]
"""
import gzip
import json
import os
import struct

from keras_timing import measure, setup

args = setup(repeats=5, steps=100)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

root = os.path.join(os.path.dirname(__file__), "..", "datasets", "mnist")
with gzip.open(os.path.join(root, "train-images-idx3-ubyte.gz")) as f:
    _, n, rows, cols = struct.unpack(">IIII", f.read(16))
    x = np.frombuffer(f.read(), dtype=np.uint8).reshape(n, rows, cols, 1)
with gzip.open(os.path.join(root, "train-labels-idx1-ubyte.gz")) as f:
    f.read(8)
    y = np.frombuffer(f.read(), dtype=np.uint8).astype("int64")
x = ((x.astype("float32") / 255.0) - 0.1307) / 0.3081

batch = 128
model = keras.Sequential([
    keras.Input((28, 28, 1)),
    keras.layers.Conv2D(6, 5, padding="same", activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Conv2D(16, 5, activation="relu"),
    keras.layers.MaxPooling2D(2),
    keras.layers.Flatten(),
    keras.layers.Dense(120, activation="relu"),
    keras.layers.Dense(84, activation="relu"),
    keras.layers.Dense(10),
])
assert model.count_params() == 61706, model.count_params()
model.compile(optimizer=keras.optimizers.Adam(1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])

timing = measure(model, x, y, batch, args.steps, args.repeats, "samples")
print(json.dumps({
    "framework": f"keras {keras.__version__} / tensorflow {tf.__version__}",
    "threads": args.threads or "default",
    **timing,
}))
