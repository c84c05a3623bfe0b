#!/usr/bin/env python3
"""Make the lab-4 test fixtures (run once; the outputs are committed beside this script).

Made with: Python 3.11.7, torch 2.15.0 (PyPI wheel 2.15.0+cu132, run on CPU only),
numpy 2.4.6, pillow 13.0.0 in one venv; tensorflow-cpu 2.21.0, tf_keras 2.21.0,
h5py 3.14.0, numpy 2.4.6 in another (the Keras subcommand imports no torch).

Subcommands (run from this folder):
    TORCH_PY make_fixtures.py photos       -> efficientnet_lite0_photos.json   (needs the real .pth)
    TORCH_PY make_fixtures.py tiny-effnet  -> tiny_efficientnet.pth/.json
    TORCH_PY make_fixtures.py tiny-vgg     -> tiny_vgg.pth/.json
    TF_PY    make_fixtures.py tiny-vgg-keras -> tiny_vgg_keras.h5/.json (tf_keras 2.x)

Every random number comes from numpy.random.default_rng(seed) (PCG64, stable across numpy
versions), so the weights do not depend on torch's or TF's RNG. The tiny VGG weights are drawn
once in torch layout and shared by the PyTorch and Keras fixtures (Keras gets them transposed),
so both give the same logits for the same image.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("LAB4_SHARED", os.path.join(HERE, "..", "..", "..", "..", "..", "shared"))
if not os.path.isdir(SHARED):
    SHARED = "/work/shared"
WEIGHTS = os.path.join(SHARED, "models", "efficientnet-lite0-57934424.pth")
PHOTOS = os.path.join(SHARED, "datasets", "imagenet", "photos")
CLASS_INDEX = os.path.join(SHARED, "datasets", "imagenet", "imagenet_class_index.json")
PHOTO_NAMES = ["chelsea", "coffee", "rocket", "grace_hopper", "china", "flower"]

SIN_FORMULA = ("x[n][c][h][w] = (float32) sin(0.37*n + 0.11*c + 0.013*h + 0.029*w), "
               "computed in float64 (IEEE double sin) then rounded to float32; "
               "n, c, h, w are 0-based indices in NCHW order")


def sin_input(n: int, c: int, h: int, w: int) -> np.ndarray:
    """The shared test input, float32, NCHW."""
    ni, ci, hi, wi = np.meshgrid(np.arange(n, dtype=np.float64), np.arange(c, dtype=np.float64),
                                 np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                                 indexing="ij")
    return np.sin(0.37 * ni + 0.11 * ci + 0.013 * hi + 0.029 * wi).astype(np.float32)


def floats(a) -> list:
    """float32 array -> nested list of Python floats (exact float32 values)."""
    return np.asarray(a, dtype=np.float32).astype(np.float64).tolist()


def write_json(name: str, obj) -> None:
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    print("wrote", path, os.path.getsize(path), "bytes")


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def versions() -> dict:
    import platform
    v = {"python": platform.python_version(), "numpy": np.__version__}
    for mod in ("torch", "PIL", "tensorflow", "tf_keras", "h5py"):
        if mod in sys.modules:
            v[mod if mod != "PIL" else "pillow"] = sys.modules[mod].__version__
    return v


# -------------------------------------------------------------------------------------------
# 1. Real EfficientNet-Lite0 on the six photos
# -------------------------------------------------------------------------------------------
def cmd_photos(_args):
    import torch
    from PIL import Image
    import efficientnet_lite0 as E

    torch.set_num_threads(1)
    model = E.load_lite0(WEIGHTS)
    classes = E.load_class_index(CLASS_INDEX)
    out = {
        "model": "EfficientNet-Lite0, weights efficientnet-lite0-57934424.pth "
                 "(sha256 " + sha256(WEIGHTS) + ")",
        "reference": "efficientnet_lite0.py (EfficientNetLite, eval mode, float32, CPU)",
        "preprocessing": {
            "decode": "PIL Image.open(path).convert('RGB') (libjpeg-turbo in pillow)",
            "crop": "centred square: side = floor(224 / (224 + 32) * min(H, W)) = floor(0.875 * min(H, W)) "
                    "(exact in floating point), top = (H - side + 1) // 2, left = (W - side + 1) // 2",
            "resize": "crop resized to 224x224 with PIL Image.BICUBIC (Keys cubic a = -0.5, "
                      "antialiased: kernel support scaled by the downscale factor)",
            "normalize": "x = (pixel - 127.0) / 128.0 for each of R, G, B (pixel in 0..255)",
            "layout": "NCHW float32, channel order R, G, B",
        },
        "versions": versions(),
        "photos": [],
    }
    for name in PHOTO_NAMES:
        path = os.path.join(PHOTOS, name + ".jpg")
        w, h = Image.open(path).size
        left, top, side = E.center_crop_box(w, h)
        x = E.preprocess(path)
        with torch.no_grad():
            logits = model(torch.from_numpy(x)[None])[0]
        probs = torch.softmax(logits, 0)
        top5 = torch.topk(probs, 5)
        out["photos"].append({
            "file": name + ".jpg",
            "sha256": sha256(path),
            "width": w, "height": h,
            "crop_left_top_side": [left, top, side],
            "input_channel_means": floats(x.mean(axis=(1, 2))),
            "top5": [{"index": int(i), "wnid": classes[i][0], "name": classes[i][1],
                      "probability": float(p), "logit": float(logits[i])}
                     for p, i in zip(top5.values.tolist(), top5.indices.tolist())],
        })
        t = out["photos"][-1]["top5"][0]
        print(f"{name:13s} top1 {t['index']} {t['name']} {t['probability']:.4f}")
    write_json("efficientnet_lite0_photos.json", out)


# -------------------------------------------------------------------------------------------
# 2. Tiny EfficientNet-Lite (same 16-block structure, tiny widths, random weights)
# -------------------------------------------------------------------------------------------
TINY_STEM = 8
TINY_HEAD = 24
TINY_CLASSES = 10
# stage out-channels chosen so that in != out exactly where Lite0 has in != out
# (blocks 0, 1, 3, 5, 8, 11, 15), i.e. the residual adds sit on the same blocks as in Lite0.
TINY_STAGE_OUT = [4, 6, 8, 10, 12, 14, 16]
TINY_SEED = 20240401


def tiny_effnet_blocks():
    import efficientnet_lite0 as E
    lite0_stage_of_out = {16: 0, 24: 1, 40: 2, 80: 3, 112: 4, 192: 5, 320: 6}
    blocks = []
    prev = TINY_STEM
    for k, s, e, _cin, cout in E.LITE0_BLOCKS:
        out = TINY_STAGE_OUT[lite0_stage_of_out[cout]]
        blocks.append((k, s, e, prev, out))
        prev = out
    return blocks


def randomize_bn_and_convs(model, rng):
    """Conv/Linear weights ~ N(0, 2/fan_in), biases ~ N(0, 0.1^2); BN gamma ~ U(0.5, 1.5),
    beta ~ N(0, 0.2^2), running_mean ~ N(0, 0.2^2), running_var ~ U(0.5, 2.0), except in the
    BNs followed by ReLU6 (_bn0, _bn1) where each channel has probability 0.2 of getting
    running_var ~ U(1e-4, 4e-3) instead.
    Filled in state_dict() order."""
    import torch
    sd = model.state_dict()
    new = {}
    for key, t in sd.items():
        shape = tuple(t.shape)
        if key.endswith("num_batches_tracked"):
            new[key] = t.clone()
            continue
        if key.endswith("running_var"):
            a = rng.uniform(0.5, 2.0, shape)
            if "._bn0." in "." + key or "._bn1." in "." + key:
                # like the real checkpoint (which has running_var == 0 in some channels of the
                # BNs followed by ReLU6): ~20% tiny variances, so that eps = 1e-3 matters
                small = rng.uniform(0.0, 1.0, shape) < 0.2
                a = np.where(small, rng.uniform(1e-4, 4e-3, shape), a)
        elif key.endswith("running_mean"):
            a = rng.normal(0.0, 0.2, shape)
        elif key.endswith("bias"):
            a = rng.normal(0.0, 0.1 if len(shape) == 1 and "_bn" not in key else 0.2, shape)
        elif key.endswith("weight") and len(shape) == 1:  # BN gamma
            a = rng.uniform(0.5, 1.5, shape)
        else:  # conv (O, I/groups, kh, kw) or linear (O, I)
            fan_in = int(np.prod(shape[1:]))
            a = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
        new[key] = torch.from_numpy(a.astype(np.float32))
    model.load_state_dict(new, strict=True)


def cmd_tiny_effnet(_args):
    import torch
    from torch.nn import functional as F
    import efficientnet_lite0 as E

    torch.set_num_threads(1)
    blocks = tiny_effnet_blocks()
    model = E.EfficientNetLite(blocks, stem=TINY_STEM, head=TINY_HEAD, num_classes=TINY_CLASSES).eval()
    randomize_bn_and_convs(model, np.random.default_rng(TINY_SEED))
    torch.save(model.state_dict(), os.path.join(HERE, "tiny_efficientnet.pth"))

    # reload from disk (what the Rust side reads) and run
    model2 = E.EfficientNetLite(blocks, stem=TINY_STEM, head=TINY_HEAD, num_classes=TINY_CLASSES).eval()
    model2.load_state_dict(torch.load(os.path.join(HERE, "tiny_efficientnet.pth"), weights_only=True),
                           strict=True)
    x = torch.from_numpy(sin_input(2, 3, 64, 64))

    trace = []
    sat = {"relu6_inputs_above_6": 0, "relu6_inputs_total": 0}
    real_relu6 = F.relu6

    def counting_relu6(t, *a, **k):
        sat["relu6_inputs_above_6"] += int((t > 6).sum())
        sat["relu6_inputs_total"] += t.numel()
        return real_relu6(t, *a, **k)

    def stat(name, t):
        t0 = t[0]
        trace.append({"after": name, "shape_nchw": list(t.shape), "image0_mean": float(t0.mean()),
                      "image0_sum_abs": float(t0.abs().sum()),
                      "image0_first4_nchw_flat": floats(t0.reshape(-1)[:4])})

    with torch.no_grad():
        F.relu6 = counting_relu6
        E.F.relu6 = counting_relu6
        try:
            h = F.relu6(model2._bn0(model2._conv_stem(x)))
            stat("stem (conv+bn+relu6)", h)
            for i, b in enumerate(model2._blocks):
                h = b(h)
                stat(f"block {i}", h)
            h = F.relu6(model2._bn1(model2._conv_head(h)))
            stat("head conv+bn+relu6", h)
            pooled = h.mean(dim=(2, 3))
            logits = model2._fc(pooled)
        finally:
            F.relu6 = real_relu6
            E.F.relu6 = real_relu6
        logits_direct = model2(x)
    assert torch.equal(logits, logits_direct)

    # sensitivity: how far the logits move under the common porting mistakes
    def variant_logits(patch):
        m = E.EfficientNetLite(blocks, stem=TINY_STEM, head=TINY_HEAD, num_classes=TINY_CLASSES).eval()
        m.load_state_dict(model2.state_dict())
        undo = patch(m)
        with torch.no_grad():
            y = m(x)
        if undo:
            undo()
        return float((y - logits).abs().max())

    def sym_pad(m):
        orig = E.SameConv2d.forward
        E.SameConv2d.forward = lambda self, t: F.conv2d(t, self.weight, self.bias, self.stride,
                                                        self.kernel_size[0] // 2, 1, self.groups)
        return lambda: setattr(E.SameConv2d, "forward", orig)

    def eps5(m):
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.eps = 1e-5

    def plain_relu(m):
        E.F.relu6 = F.relu
        return lambda: setattr(E.F, "relu6", real_relu6)

    def no_skip(m):
        for b in m._blocks:
            b.use_skip = False

    sensitivity = {
        "symmetric_padding_k_div_2": variant_logits(sym_pad),
        "batchnorm_eps_1e-5": variant_logits(eps5),
        "relu_instead_of_relu6": variant_logits(plain_relu),
        "no_residual_adds": variant_logits(no_skip),
    }

    cfg_blocks = []
    size = 32  # after the stem, for a 64x64 input
    for i, (k, s, e, cin, cout) in enumerate(blocks):
        pads = E.tf_same_pads(size, k, s)
        cfg_blocks.append({"index": i, "kernel": k, "stride": s, "expand_ratio": e,
                           "in_channels": cin, "out_channels": cout, "hidden_channels": cin * e,
                           "has_expand_conv": e != 1, "residual": s == 1 and cin == cout,
                           "input_hw": size, "depthwise_pad_before_after": list(pads)})
        size = -(-size // s)

    obj = {
        "description": "Tiny EfficientNet-Lite: the 16-block Lite0 structure (same kernels, strides, "
                       "expand ratios, residual positions, key names, TF-SAME padding, ReLU6, BN eps 1e-3, "
                       "no squeeze-excite) with tiny widths and random weights, random BN running stats; "
                       "eval mode (BN uses running stats, dropout off).",
        "weights_file": "tiny_efficientnet.pth",
        "weights_format": "torch.save(model.state_dict()) (zip format); float32 tensors plus int64 "
                          "'*.num_batches_tracked' scalars (value 0) that a loader should ignore",
        "config": {"stem_channels": TINY_STEM, "head_channels": TINY_HEAD, "num_classes": TINY_CLASSES,
                   "batch_norm_eps": E.BN_EPS, "activation": "relu6", "dropout_rate_train_only": 0.2,
                   "stem": {"kernel": 3, "stride": 2, "in_channels": 3, "out_channels": TINY_STEM,
                            "pad_before_after_at_64": list(E.tf_same_pads(64, 3, 2))},
                   "blocks": cfg_blocks},
        "random_init": {"rng": "numpy.random.default_rng(%d), filled in state_dict() key order" % TINY_SEED,
                        "conv_and_linear_weight": "N(0, 2/fan_in)", "linear_bias": "N(0, 0.1^2)",
                        "bn_weight": "U(0.5, 1.5)", "bn_bias": "N(0, 0.2^2)",
                        "bn_running_mean": "N(0, 0.2^2)",
                        "bn_running_var": "U(0.5, 2.0); in *_bn0/*_bn1 (BNs followed by ReLU6) each channel "
                                          "independently gets U(1e-4, 4e-3) with probability 0.2 (always > 0)"},
        "input": {"shape_nchw": [2, 3, 64, 64], "formula": SIN_FORMULA,
                  "x_0_0_0_0_to_3": floats(x[0, 0, 0, :4])},
        "logits": floats(logits),
        "relu6_saturation": sat,
        "trace_image0": trace,
        "sensitivity_max_abs_logit_change": sensitivity,
        "versions": versions(),
    }
    write_json("tiny_efficientnet.json", obj)
    print("logits", logits)
    print("relu6 saturation", sat, "sensitivity", sensitivity)


# -------------------------------------------------------------------------------------------
# 3. Tiny VGG-16 (torchvision layout) — weights drawn in numpy, torch layout
# -------------------------------------------------------------------------------------------
VGG_CFG = [4, 4, "M", 8, 8, "M", 8, 8, 8, "M", 8, 8, 8, "M", 8, 8, 8, "M"]
VGG_HIDDEN = 16
VGG_CLASSES = 10
VGG_SEED = 20240402
KERAS_CONV_NAMES = ["block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2",
                    "block3_conv1", "block3_conv2", "block3_conv3", "block4_conv1", "block4_conv2",
                    "block4_conv3", "block5_conv1", "block5_conv2", "block5_conv3"]


def tiny_vgg_numpy_weights():
    """OrderedDict-like list of (torchvision key, float32 array in torch layout)."""
    rng = np.random.default_rng(VGG_SEED)
    out = []
    idx, cin = 0, 3
    for v in VGG_CFG:
        if v == "M":
            idx += 1
            continue
        w = rng.normal(0.0, np.sqrt(2.0 / (cin * 9)), (v, cin, 3, 3))
        b = rng.normal(0.0, 0.1, (v,))
        out += [(f"features.{idx}.weight", w), (f"features.{idx}.bias", b)]
        idx += 2  # conv, relu
        cin = v
    dims = [(cin * 7 * 7, VGG_HIDDEN), (VGG_HIDDEN, VGG_HIDDEN), (VGG_HIDDEN, VGG_CLASSES)]
    for (fi, fo), ci in zip(dims, (0, 3, 6)):
        w = rng.normal(0.0, np.sqrt((2.0 if ci < 6 else 1.0) / fi), (fo, fi))
        b = rng.normal(0.0, 0.1, (fo,))
        out += [(f"classifier.{ci}.weight", w), (f"classifier.{ci}.bias", b)]
    return [(k, a.astype(np.float32)) for k, a in out]


def build_tiny_vgg_torch():
    import torch
    from torch import nn

    class VGG(nn.Module):  # same module tree as torchvision.models.vgg16
        def __init__(self):
            super().__init__()
            layers, cin = [], 3
            for v in VGG_CFG:
                if v == "M":
                    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                else:
                    layers += [nn.Conv2d(cin, v, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                    cin = v
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(cin * 7 * 7, VGG_HIDDEN), nn.ReLU(True), nn.Dropout(0.5),
                nn.Linear(VGG_HIDDEN, VGG_HIDDEN), nn.ReLU(True), nn.Dropout(0.5),
                nn.Linear(VGG_HIDDEN, VGG_CLASSES))

        def forward(self, x):
            x = self.features(x)
            x = self.avgpool(x)
            x = torch.flatten(x, 1)
            return self.classifier(x)

    return VGG()


def cmd_tiny_vgg(_args):
    import torch

    torch.set_num_threads(1)
    model = build_tiny_vgg_torch().eval()
    model.load_state_dict({k: torch.from_numpy(a) for k, a in tiny_vgg_numpy_weights()}, strict=True)
    torch.save(model.state_dict(), os.path.join(HERE, "tiny_vgg.pth"))
    model = build_tiny_vgg_torch().eval()
    model.load_state_dict(torch.load(os.path.join(HERE, "tiny_vgg.pth"), weights_only=True), strict=True)

    x224 = torch.from_numpy(sin_input(2, 3, 224, 224))
    x32 = torch.from_numpy(sin_input(1, 3, 32, 32))
    with torch.no_grad():
        f224 = model.features(x224)
        y224 = model(x224)
        f32 = model.features(x32)
        p32 = model.avgpool(f32)
        y32 = model(x32)
    assert torch.equal(p32, f32.expand(-1, -1, 7, 7))
    obj = {
        "description": "Tiny VGG-16 in torchvision's vgg16 layout (features / avgpool / classifier "
                       "indices identical), tiny widths, random weights; eval mode (dropout off).",
        "weights_file": "tiny_vgg.pth",
        "weights_format": "torch.save(model.state_dict()) (zip format), float32",
        "config": {
            "features_cfg": VGG_CFG,
            "conv": "3x3, stride 1, padding 1 (symmetric), bias, each followed by ReLU",
            "pool": "MaxPool2d(kernel 2, stride 2) at features.4, 9, 16, 23, 30",
            "conv_keys": [f"features.{i}" for i in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)],
            "avgpool": "AdaptiveAvgPool2d((7, 7))",
            "flatten": "torch.flatten(x, 1) over (C, H, W): index = c*49 + h*7 + w; 8*7*7 = 392",
            "classifier": ["0: Linear(392, 16)", "1: ReLU", "2: Dropout(0.5)", "3: Linear(16, 16)",
                           "4: ReLU", "5: Dropout(0.5)", "6: Linear(16, 10)"],
        },
        "random_init": {"rng": "numpy.random.default_rng(%d), drawn in key order" % VGG_SEED,
                        "conv_weight": "N(0, 2/(cin*9))", "conv_bias": "N(0, 0.1^2)",
                        "linear_weight": "N(0, 2/fan_in) for classifier.0/3, N(0, 1/fan_in) for classifier.6",
                        "linear_bias": "N(0, 0.1^2)"},
        "input": {"formula": SIN_FORMULA},
        "cases": [
            {"name": "224", "input_shape_nchw": [2, 3, 224, 224],
             "features_shape": list(f224.shape), "features_image0_sum": float(f224[0].sum()),
             "logits": floats(y224)},
            {"name": "32_adaptive_pool", "input_shape_nchw": [1, 3, 32, 32],
             "features_shape": list(f32.shape),
             "note": "features are 8x1x1; AdaptiveAvgPool2d((7,7)) replicates each value over 7x7",
             "features": floats(f32.reshape(-1)),
             "logits": floats(y32)},
        ],
        "versions": versions(),
    }
    write_json("tiny_vgg.json", obj)
    print("logits224", y224, "\nlogits32", y32)


# -------------------------------------------------------------------------------------------
# 4. Tiny VGG-16 in tf_keras 2.x (keras.applications.vgg16 names), same weights
# -------------------------------------------------------------------------------------------
def cmd_tiny_vgg_keras(_args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf
    import tf_keras as keras
    import h5py

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    L = keras.layers
    inp = keras.Input(shape=(224, 224, 3), name="input_1")
    x = inp
    names = iter(KERAS_CONV_NAMES)
    block = 1
    for v in VGG_CFG:
        if v == "M":
            x = L.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
            block += 1
        else:
            x = L.Conv2D(v, (3, 3), activation="relu", padding="same", name=next(names))(x)
    x = L.Flatten(name="flatten")(x)
    x = L.Dense(VGG_HIDDEN, activation="relu", name="fc1")(x)
    x = L.Dense(VGG_HIDDEN, activation="relu", name="fc2")(x)
    x = L.Dense(VGG_CLASSES, activation=None, name="predictions")(x)  # linear: logits
    model = keras.Model(inp, x, name="vgg16")

    w = dict(tiny_vgg_numpy_weights())
    conv_keys = [f"features.{i}" for i in (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28)]
    for kname, tkey in zip(KERAS_CONV_NAMES, conv_keys):
        model.get_layer(kname).set_weights([w[tkey + ".weight"].transpose(2, 3, 1, 0), w[tkey + ".bias"]])
    c = VGG_CFG[-2]
    fc1 = w["classifier.0.weight"].reshape(VGG_HIDDEN, c, 7, 7).transpose(2, 3, 1, 0).reshape(7 * 7 * c, VGG_HIDDEN)
    model.get_layer("fc1").set_weights([fc1, w["classifier.0.bias"]])
    model.get_layer("fc2").set_weights([w["classifier.3.weight"].T, w["classifier.3.bias"]])
    model.get_layer("predictions").set_weights([w["classifier.6.weight"].T, w["classifier.6.bias"]])

    path = os.path.join(HERE, "tiny_vgg_keras.h5")
    if os.path.exists(path):
        os.remove(path)
    model.save_weights(path)

    x_nchw = sin_input(2, 3, 224, 224)
    x_nhwc = np.ascontiguousarray(x_nchw.transpose(0, 2, 3, 1))
    logits = model(x_nhwc, training=False).numpy()

    with h5py.File(path, "r") as f:
        root_attrs = {k: (v.decode() if isinstance(v, bytes) else
                          [s.decode() if isinstance(s, bytes) else s for s in v.tolist()]
                          if hasattr(v, "tolist") else v) for k, v in f.attrs.items()}
        datasets = {}
        f.visititems(lambda n, o: datasets.__setitem__(n, list(o.shape)) if isinstance(o, h5py.Dataset) else None)

    cross = None
    tj = os.path.join(HERE, "tiny_vgg.json")
    if os.path.exists(tj):
        with open(tj) as fh:
            ref = np.array(json.load(fh)["cases"][0]["logits"], dtype=np.float32)
        cross = float(np.abs(ref - logits).max())

    obj = {
        "description": "Tiny VGG-16 built in tf_keras 2.x with keras.applications.vgg16 layer names "
                       "(no include_top softmax: 'predictions' is linear so its outputs are logits). "
                       "Same weights as tiny_vgg.pth, converted to Keras layout.",
        "weights_file": "tiny_vgg_keras.h5",
        "weights_format": "tf_keras Model.save_weights('tiny_vgg_keras.h5'): classic Keras 2 HDF5 weights "
                          "file; root attribute 'layer_names' lists every layer; group <layer>/<layer>/"
                          "{kernel:0, bias:0} per layer with weights, group attribute 'weight_names'",
        "h5_root_attributes": root_attrs,
        "h5_datasets": datasets,
        "layout": {
            "input": "NHWC (channels_last), 224x224x3",
            "conv_kernel": "(kh, kw, in, out) = torch weight (out, in, kh, kw).transpose(2, 3, 1, 0)",
            "dense_kernel": "(in, out) = torch weight (out, in).T",
            "flatten": "Keras flattens the 7x7x8 block5_pool output in (h, w, c) order: index = h*56 + w*8 + c "
                       "(torch flattens (c, h, w): c*49 + h*7 + w). fc1 kernel = torch classifier.0.weight"
                       ".reshape(16, 8, 7, 7).transpose(2, 3, 1, 0).reshape(392, 16). To load fc1 into an NCHW "
                       "model, invert that permutation.",
            "conv_padding": "'same' with 3x3 stride 1 = symmetric 1 pixel, identical to torch padding=1",
            "no_dropout": "keras.applications.vgg16 has no dropout layers (torchvision's do nothing in eval)",
        },
        "input": {"formula": SIN_FORMULA,
                  "keras_input": "x_nhwc = x_nchw.transpose(0, 2, 3, 1) of the 2x3x224x224 NCHW images"},
        "logits": floats(logits),
        "max_abs_diff_vs_tiny_vgg_json_224_logits": cross,
        "versions": versions(),
    }
    write_json("tiny_vgg_keras.json", obj)
    print("keras logits", logits, "\nmax diff vs torch", cross)


def main():
    sys.path.insert(0, HERE)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["photos", "tiny-effnet", "tiny-vgg", "tiny-vgg-keras"])
    args = ap.parse_args()
    {"photos": cmd_photos, "tiny-effnet": cmd_tiny_effnet, "tiny-vgg": cmd_tiny_vgg,
     "tiny-vgg-keras": cmd_tiny_vgg_keras}[args.what](args)


if __name__ == "__main__":
    main()
