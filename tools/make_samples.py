#!/usr/bin/env python3
"""Cut the small bundled samples in datasets/ from the full datasets.

Run from the repository root with the course material beside the checkout:

    python3 tools/make_samples.py ../shared/datasets

Only the Python standard library is used. The outputs are deterministic (fixed gzip
timestamps), so running it again gives byte-identical files. datasets/README.md records
what was cut and the SHA-256 of every file.
"""
import gzip
import json
import os
import shutil
import struct
import sys
import tarfile

SRC = sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets"
DST = "datasets"


def write_gz(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as raw:
        # mtime=0 and no file name: reproducible bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(data)


def mnist(train_count=5000, test_count=1000):
    """The first N images and labels of each official MNIST file, as IDX files."""
    for prefix, count in (("train", train_count), ("t10k", test_count)):
        with gzip.open(f"{SRC}/mnist/{prefix}-images-idx3-ubyte.gz", "rb") as f:
            magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
            assert magic == 0x803 and n >= count
            pixels = f.read(count * rows * cols)
        with gzip.open(f"{SRC}/mnist/{prefix}-labels-idx1-ubyte.gz", "rb") as f:
            magic, n = struct.unpack(">II", f.read(8))
            assert magic == 0x801 and n >= count
            labels = f.read(count)
        write_gz(f"{DST}/mnist/{prefix}-images-idx3-ubyte.gz",
                 struct.pack(">IIII", 0x803, count, rows, cols) + pixels)
        write_gz(f"{DST}/mnist/{prefix}-labels-idx1-ubyte.gz",
                 struct.pack(">II", 0x801, count) + labels)


def cifar10(train_count=500, test_count=200):
    """The first records of data_batch_1 and of the test batch, in the binary format."""
    src = f"{SRC}/cifar-10/cifar-10-batches-bin"
    record = 3073
    with gzip.open(f"{src}/data_batch_1.bin.gz", "rb") as f:
        train = f.read(train_count * record)
    with gzip.open(f"{src}/test_batch_first1000.bin.gz", "rb") as f:
        test = f.read(test_count * record)
    dst = f"{DST}/cifar-10/cifar-10-batches-bin"
    write_gz(f"{dst}/data_batch_1.bin.gz", train)
    write_gz(f"{dst}/test_batch.bin.gz", test)
    shutil.copy(f"{src}/batches.meta.txt", f"{dst}/batches.meta.txt")


def tokenize(text):
    """Keras's text_to_word_sequence (the same rule as shared/src/imdb.rs)."""
    filters = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
    text = text.lower().translate(str.maketrans({c: " " for c in filters}))
    return [w for w in text.split(" ") if w]


def tokenize_ascii_lowercase(text):
    """The same with only A-Z lower-cased, as Keras's imdb.npz was made."""
    filters = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
    lower = str.maketrans({chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)})
    text = text.translate(lower).translate(str.maketrans({c: " " for c in filters}))
    return [w for w in text.split(" ") if w]


def imdb(per_class=150):
    """The reviews with the lowest ids of each split and class, and the part of Keras's word
    index they use."""
    words = set()
    with tarfile.open(f"{SRC}/imdb/aclImdb_labeled.tar.gz") as tar:
        members = {m.name: m for m in tar.getmembers() if m.isfile()}
        for split in ("train", "test"):
            for label in ("pos", "neg"):
                prefix = f"aclImdb/{split}/{label}/"
                chosen = sorted((int(n[len(prefix):].split("_")[0]), n) for n in members
                                if n.startswith(prefix) and n.endswith(".txt"))[:per_class]
                for _, name in chosen:
                    data = tar.extractfile(members[name]).read()
                    out = f"{DST}/imdb/{name}"
                    os.makedirs(os.path.dirname(out), exist_ok=True)
                    with open(out, "wb") as f:
                        f.write(data)
                    text = data.decode("utf-8")
                    words.update(tokenize(text))
                    words.update(tokenize_ascii_lowercase(text))
    with open(f"{SRC}/imdb/imdb_word_index.json") as f:
        index = json.load(f)
    # The reviews' words (lower-cased both ways: Keras's text_to_word_sequence and imdb.npz's
    # ASCII-only rule), and every word of rank < 10,000, so that a vocabulary of
    # num_words=10000 (labs 8 and 10) is complete on the sample too.
    subset = {w: r for w, r in index.items() if w in words or r < 10000}
    with open(f"{DST}/imdb/imdb_word_index.json", "w") as f:
        json.dump(subset, f, sort_keys=True, separators=(",", ":"))


def imagenet():
    os.makedirs(f"{DST}/imagenet/photos", exist_ok=True)
    shutil.copy(f"{SRC}/imagenet/imagenet_class_index.json", f"{DST}/imagenet/")
    for photo in ("chelsea.jpg", "coffee.jpg", "rocket.jpg"):
        shutil.copy(f"{SRC}/imagenet/photos/{photo}", f"{DST}/imagenet/photos/")


def whole_files():
    """Auto MPG and Alice are small enough to bundle whole."""
    os.makedirs(f"{DST}/auto-mpg", exist_ok=True)
    os.makedirs(f"{DST}/alice", exist_ok=True)
    for name in ("auto-mpg.data", "auto-mpg.names"):
        shutil.copy(f"{SRC}/auto-mpg/{name}", f"{DST}/auto-mpg/")
    shutil.copy(f"{SRC}/alice/11-0.txt", f"{DST}/alice/")


if __name__ == "__main__":
    mnist()
    cifar10()
    imdb()
    imagenet()
    whole_files()
