#!/usr/bin/env python3
"""Writes `tutorial_split.txt`: the train/test split of TensorFlow's "basic regression"
tutorial, as positions among the 392 cars left after dropping the 6 with `?` horsepower
(0-based, in file order). The lab's `--split tutorial` must reproduce it car for car; the
test `the_tutorial_split_matches_pandas` checks that, position by position.

The tutorial does

    dataset = raw_dataset.copy().dropna()                    # 392 rows, original index kept
    train_dataset = dataset.sample(frac=0.8, random_state=0)
    test_dataset = dataset.drop(train_dataset.index)

With no weights, pandas' `sample` is `RandomState(0).choice(392, size=round(0.8 * 392),
replace=False)`, and numpy's legacy `choice` without `p` is `permutation(392)[:314]`. This
script computes the split both ways (pandas on the UCI file, and numpy's RandomState alone)
and refuses to write anything unless they agree. Only used to make the fixture:

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install pandas
    /tmp/venv/bin/python labs/mpg-earlystop/keras/make_split_fixture.py   # from the repo root

The first 5 outputs of MT19937 for seed 0 and seed 5489 are printed too (the Rust unit
check compares against them).
"""
import os
import sys

import numpy as np
import pandas as pd

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", "..", ".."))
data_file = os.path.join(root, "datasets", "auto-mpg", "auto-mpg.data")
out_file = os.path.join(here, "tutorial_split.txt")

# The tutorial's reading of the file, word for word.
column_names = ["MPG", "Cylinders", "Displacement", "Horsepower", "Weight",
                "Acceleration", "Model Year", "Origin"]
raw_dataset = pd.read_csv(data_file, names=column_names, na_values="?", comment="\t",
                          sep=" ", skipinitialspace=True)
assert len(raw_dataset) == 398, len(raw_dataset)
dataset = raw_dataset.copy().dropna()
assert len(dataset) == 392, len(dataset)
dataset["Origin"] = dataset["Origin"].map({1: "USA", 2: "Europe", 3: "Japan"})
dataset = pd.get_dummies(dataset, columns=["Origin"], prefix="", prefix_sep="")
train_dataset = dataset.sample(frac=0.8, random_state=0)
test_dataset = dataset.drop(train_dataset.index)

# Original row labels → positions among the 392 cars.
position = {label: i for i, label in enumerate(dataset.index)}
train = [position[label] for label in train_dataset.index]
test = [position[label] for label in test_dataset.index]

# The same with numpy alone.
direct = np.random.RandomState(0).choice(392, size=314, replace=False).tolist()
permutation = np.random.RandomState(0).permutation(392)[:314].tolist()
if not (train == direct == permutation):
    sys.exit("pandas' sample and numpy's RandomState(0) disagree: fixture not written")
assert sorted(train + test) == list(range(392)) and test == sorted(test)

# Keras's validation_split=0.2 takes the last 20 % of the training rows in this order.
split_at = int(len(train) * (1 - 0.2))
print(f"pandas {pd.__version__}, numpy {np.__version__}: {len(train)} train "
      f"({split_at} fit, {len(train) - split_at} valid), {len(test)} test")
print("first train positions:", train[:10])
print("first test positions:", test[:10])
for seed in (0, 5489):
    state = np.random.RandomState(seed)
    print(f"MT19937 seed {seed}, first 5 outputs:",
          [int(x) for x in state.randint(0, 2**32, size=5, dtype=np.uint64)])

with open(out_file, "w") as f:
    f.write("# The tutorial's 314 training cars, in the order pandas'\n"
            "# sample(frac=0.8, random_state=0) returns them: positions (0-based) among\n"
            "# the 392 cars with a known horsepower, in file order. The other 78 are the\n"
            f"# test cars. make_split_fixture.py, pandas {pd.__version__}, numpy {np.__version__}.\n")
    for start in range(0, len(train), 16):
        f.write(" ".join(str(i) for i in train[start:start + 16]) + "\n")
print("wrote", os.path.relpath(out_file, root))
