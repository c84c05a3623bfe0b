#!/usr/bin/env python3
"""Keras/TensorFlow-CPU reference for lab 2's training-throughput benchmark.

The same network as labs/cifar-cnn's plain variant (Keras's cifar10_cnn example with
`same` padding throughout: 32, 32, pool, dropout 0.25, 64, 64, pool, dropout 0.25,
dense 512, dropout 0.5, dense 10; 2,168,362 parameters), Adam 1e-3, batch 64, on the
bundled CIFAR-10 images normalised per channel. Prints the median images/s of
steady-state training, measured two ways: `model.fit` over the timed images and a
`train_on_batch` loop, each after a warm-up. Used only for benchmarks:

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
    /tmp/tfvenv/bin/python bench/keras_cifar.py [--threads 2] [--repeats 3] [--steps 20]
"""
import gzip
import json
import os

from keras_timing import measure, setup

args = setup(repeats=3, steps=20)
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

path = os.path.join(os.path.dirname(__file__), "..", "datasets", "cifar-10",
                    "cifar-10-batches-bin", "data_batch_1.bin.gz")
with gzip.open(path) as f:
    records = np.frombuffer(f.read(), dtype=np.uint8).reshape(-1, 1 + 3 * 32 * 32)
y = records[:, 0].astype("int64")
x = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype("float32") / 255.0
x = (x - x.mean(axis=(0, 1, 2))) / x.std(axis=(0, 1, 2))

batch = 64
conv = lambda filters: keras.layers.Conv2D(filters, 3, padding="same", activation="relu")  # noqa: E731
model = keras.Sequential([
    keras.Input((32, 32, 3)),
    conv(32), conv(32), keras.layers.MaxPooling2D(2), keras.layers.Dropout(0.25),
    conv(64), conv(64), keras.layers.MaxPooling2D(2), keras.layers.Dropout(0.25),
    keras.layers.Flatten(),
    keras.layers.Dense(512, activation="relu"), keras.layers.Dropout(0.5),
    keras.layers.Dense(10),
])
assert model.count_params() == 2168362, model.count_params()
model.compile(optimizer=keras.optimizers.Adam(1e-3),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])

timing = measure(model, x, y, batch, args.steps, args.repeats, "images")
print(json.dumps({
    "framework": f"keras {keras.__version__} / tensorflow {tf.__version__}",
    "network": "lab 2 plain",
    "threads": args.threads or "default",
    **timing,
}))
