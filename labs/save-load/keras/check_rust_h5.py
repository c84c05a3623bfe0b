"""Checks, from Python, the weights a run of lab 3 saved: Keras and h5py must read them.

    /tmp/tfvenv/bin/pip install tensorflow-cpu tf_keras h5py safetensors
    cargo run --release -p lab-save-load
    /tmp/tfvenv/bin/python labs/save-load/keras/check_rust_h5.py runs/save-load/<date-time>

1. h5py reads weights.h5: `layer_names`, each layer's `weight_names`, the datasets.
2. The same arrays as model.safetensors (burn's own layout, read with the safetensors
   package), once converted to Keras's order: conv kernels (out, in, kh, kw) → (kh, kw, in,
   out), and the Dense rows after Flatten from channels-first to channels-last. Exact
   equality, no tolerance.
3. tf.keras 2 (tf_keras) and Keras 3 each build LeNet-5, `load_weights` the file, and
   classify the run's test digits: their accuracy must be the one the Rust run reported
   (summary.txt), and both Keras versions must agree with each other within 1e-5.
Only the default LeNet-5 architecture is checked.
"""

import json
import os
import re
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import h5py  # noqa: E402
import numpy as np  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, HERE)
from make_fixture import lenet5, normalise, read_idx, text  # noqa: E402


def main():
    run = sys.argv[1]
    weights = os.path.join(run, "weights.h5")

    # 1. h5py.
    with h5py.File(weights, "r") as f:
        layer_names = [text(n) for n in f.attrs["layer_names"]]
        print("layer_names:", layer_names, "keras_version:", text(f.attrs["keras_version"]))
        h5 = {}
        for name in layer_names:
            for w in f[name].attrs["weight_names"]:
                w = text(w)
                h5[w] = f[name][w][()]
                print(f"  {w}: {h5[w].shape} {h5[w].dtype}")

    # 2. The same numbers as burn's safetensors.
    tensors = load_file(os.path.join(run, "model.safetensors"))
    print("safetensors keys:", sorted(tensors))
    by_layer = {}
    for key, value in tensors.items():
        index, kind = re.match(r"layers\.(\d+)\.\w+\.(weight|bias)$", key).groups()
        by_layer.setdefault(int(index), {})[kind] = value
    checked = 0
    for index, name in enumerate(layer_names):
        if index not in by_layer:
            continue
        weight, bias = by_layer[index]["weight"], by_layer[index]["bias"]
        if weight.ndim == 4:  # conv [out, in, kh, kw] -> (kh, kw, in, out)
            expected = weight.transpose(2, 3, 1, 0)
        elif name == "dense":  # rows (c, h, w) of a 16x5x5 map -> (h, w, c)
            expected = weight.reshape(16, 5, 5, -1).transpose(1, 2, 0, 3).reshape(400, -1)
        else:
            expected = weight
        assert np.array_equal(h5[f"{name}/kernel:0"], expected), name
        assert np.array_equal(h5[f"{name}/bias:0"], bias), name
        checked += 2
    print(f"h5py arrays == safetensors arrays (converted to Keras order): {checked} of {len(h5)}, exact")

    # 3. Keras loads the file and classifies the test digits.
    # The test digits the run used: the bundled sample, its first 300 (--quick), or the
    # official 10,000 (--full, from the run's data folder).
    config = json.load(open(os.path.join(run, "config.json")))
    folder = os.path.join(REPO, "datasets", "mnist")
    if config["mode"] == "full":
        folder = os.path.join(REPO, config["data_dir"], "mnist")
    x_test = normalise(read_idx(os.path.join(folder, "t10k-images-idx3-ubyte.gz")))
    y_test = read_idx(os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))
    if config["mode"] == "quick":
        x_test, y_test = x_test[:300], y_test[:300]
    summary = open(os.path.join(run, "summary.txt")).read()
    rust_accuracy = float(re.search(r"test\s+loss [\d.]+, accuracy ([\d.]+)%", summary).group(1))

    model2 = lenet5()
    model2.load_weights(weights)
    p2 = model2.predict(x_test, verbose=0)

    import keras  # Keras 3: reads the same legacy layout with load_weights("x.h5")

    layers = keras.layers
    model3 = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(6, 5, padding="same", activation="relu", name="conv2d"),
            layers.MaxPooling2D(2, name="max_pooling2d"),
            layers.Conv2D(16, 5, activation="relu", name="conv2d_1"),
            layers.MaxPooling2D(2, name="max_pooling2d_1"),
            layers.Flatten(name="flatten"),
            layers.Dense(120, activation="relu", name="dense"),
            layers.Dense(84, activation="relu", name="dense_1"),
            layers.Dense(10, activation="softmax", name="dense_2"),
        ]
    )
    model3.load_weights(weights)
    p3 = model3.predict(x_test, verbose=0)

    a2 = 100.0 * np.mean(p2.argmax(1) == y_test)
    a3 = 100.0 * np.mean(p3.argmax(1) == y_test)
    print(
        f"test accuracy on {len(y_test)} digits: Rust {rust_accuracy:.2f}%, "
        f"tf.keras 2 {a2:.2f}%, Keras 3 {a3:.2f}%; "
        f"max |Keras 2 - Keras 3| = {np.abs(p2 - p3).max():.2e}"
    )
    # summary.txt rounds to 0.01 %.
    assert abs(a2 - rust_accuracy) < 0.006 and abs(a3 - rust_accuracy) < 0.006
    assert np.abs(p2 - p3).max() < 1e-5
    print("OK")


if __name__ == "__main__":
    main()
