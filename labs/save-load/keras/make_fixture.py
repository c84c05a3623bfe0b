"""Makes lab 3's Keras fixture: LeNet-5 trained briefly by Keras, its weights saved by Keras.

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf_keras h5py
    /tmp/tfvenv/bin/python labs/save-load/keras/make_fixture.py ../shared/datasets/mnist

Writes, next to this script:
  lenet5_keras.h5          model.save_weights(...) of tf.keras 2 (the package tf_keras): the
                           HDF5 layout with `layer_names`, `weight_names`, `conv2d/kernel:0`
  lenet5_keras3.weights.h5 the same weights saved by Keras 3's model.save_weights(...): its
                           newer layout, `layers/conv2d/vars/0` (kernel), `vars/1` (bias)
  lenet5_keras_check.h5    16 test digits as Keras saw them (N, 28, 28, 1), Keras's predicted
                           probabilities for them (N, 10), their labels, and Keras's accuracy
                           on the bundled test sample

The network is lab 3's default architecture (SequentialConfig::lenet5), with the same layer
names; the inputs are normalised as in the labs: (x / 255 - 0.1307) / 0.3081. Training uses
one epoch of the full 60,000 MNIST training digits (the folder given on the command line),
so the weights are real, not random. The Rust tests load lenet5_keras.h5 and must reproduce
the probabilities within 1e-5.
"""

import gzip
import os
import struct
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
MEAN, STD = 0.1307, 0.3081
CHECK_IMAGES = 16


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def normalise(images):
    return ((images.astype(np.float32) / 255.0 - MEAN) / STD)[..., np.newaxis]


def lenet5():
    layers = keras.layers
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(6, 5, padding="same", activation="relu", name="conv2d"),
            layers.MaxPooling2D(2, name="max_pooling2d"),
            layers.Conv2D(16, 5, padding="valid", activation="relu", name="conv2d_1"),
            layers.MaxPooling2D(2, name="max_pooling2d_1"),
            layers.Flatten(name="flatten"),
            layers.Dense(120, activation="relu", name="dense"),
            layers.Dense(84, activation="relu", name="dense_1"),
            layers.Dense(10, activation="softmax", name="dense_2"),
        ],
        name="lenet5",
    )


def main():
    full = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "datasets", "mnist")
    x_train = normalise(read_idx(os.path.join(full, "train-images-idx3-ubyte.gz")))
    y_train = read_idx(os.path.join(full, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    sample = os.path.join(REPO, "datasets", "mnist")
    x_test = normalise(read_idx(os.path.join(sample, "t10k-images-idx3-ubyte.gz")))
    y_test = read_idx(os.path.join(sample, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)

    keras.utils.set_random_seed(42)
    model = lenet5()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, batch_size=64, epochs=1, verbose=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Keras test accuracy on the bundled sample ({len(x_test)} digits): {accuracy:.4f}")

    weights = os.path.join(HERE, "lenet5_keras.h5")
    model.save_weights(weights)
    # Keras 3 (the `keras` package) reads the Keras 2 file and writes its own layout.
    import keras as keras3

    model3 = keras3.Sequential(
        [keras3.Input(shape=(28, 28, 1))]
        + [keras3.layers.deserialize(keras.layers.serialize(layer)) for layer in model.layers],
        name="lenet5",
    )
    model3.load_weights(weights)
    model3.save_weights(os.path.join(HERE, "lenet5_keras3.weights.h5"))

    inputs = x_test[:CHECK_IMAGES]
    probabilities = model.predict(inputs, verbose=0)
    with h5py.File(os.path.join(HERE, "lenet5_keras_check.h5"), "w") as f:
        f["inputs"] = inputs
        f["probabilities"] = probabilities.astype(np.float32)
        f["labels"] = y_test[:CHECK_IMAGES]
        f.attrs["test_accuracy"] = accuracy
        f.attrs["test_images"] = len(x_test)
        f.attrs["made_by"] = f"tf_keras {keras.__version__}, tensorflow {tf.__version__}"
    with h5py.File(weights, "r") as f:
        print("layer_names:", [text(n) for n in f.attrs["layer_names"]])
        print("keras_version:", text(f.attrs["keras_version"]), "backend:", text(f.attrs["backend"]))
        for name in f.attrs["layer_names"]:
            g = f[text(name)]
            for w in g.attrs["weight_names"]:
                print(f"  {text(w)}: {g[text(w)].shape} {g[text(w)].dtype}")


def text(value):
    """h5py gives variable-length strings as str and fixed-length ones as bytes."""
    return value.decode() if isinstance(value, bytes) else str(value)


if __name__ == "__main__":
    main()
