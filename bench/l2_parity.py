"""Parity experiment for issue 15: the lab's L2 (and baseline) model replayed in Keras from the
same initial weights on the same batches in the same order.

`labs/imdb-regularization/examples/l2_parity.rs` writes, to the folder given here (default
/tmp/l2parity): train.txt / valid.txt (label and distinct word indices of each review, the
lab's split), order.bin (the review order of each epoch, as the lab's fit draws it),
init_<model>.bin (the lab's initial weights) and burn_<model>_step<N>.bin (burn's weights
after step N). This script trains the same network from the same weights on the same batches
and writes the same files under another tag, then compares:

    # Keras's own training step (compile + train_on_batch, the step model.fit runs)
    /tmp/tfvenv/bin/python bench/l2_parity.py train --model l2 --epochs 3 --mode keras
    # a hand-written step: tf.GradientTape, the penalty added by hand, Adam written out, with
    # Keras's epsilon (m / (sqrt(v) + eps), bias correction in lr) or burn's
    # (eps * sqrt(1 - beta2^t) in the denominator, i.e. m_hat / (sqrt(v_hat) + eps))
    /tmp/tfvenv/bin/python bench/l2_parity.py train --model l2 --epochs 3 --mode tape --eps keras
    /tmp/tfvenv/bin/python bench/l2_parity.py compare burn_l2 keras_l2

Other options: --init keras:SEED (Keras's own Glorot draw with that seed instead of the lab's
weights), --order keras:SEED (a NumPy permutation per epoch instead of the lab's order),
--order repeat (the lab's first-epoch order every epoch, as Keras's seeded fit does),
--l2 (override the factor), --tag (file names), --mode fit (Keras's model.fit with its own
shuffling; --fit-data dataset: a tf.data pipeline reshuffled each epoch). `summary` lists
every 20-epoch run in the folder.
"""

import argparse
import csv
import glob
import os
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

NUM_WORDS = 10_000
MASK = (1 << 64) - 1
MODELS = {"medium": (16, 0.0), "l2": (16, 0.001), "small": (4, 0.0)}
NAMES = ["hidden1 w", "hidden1 b", "hidden2 w", "hidden2 b", "output w", "output b"]


class Rng:
    """shared/src/rng.rs: SplitMix64 and Fisher-Yates (as bench/keras_imdb_regularization.py)."""

    def __init__(self, seed):
        self.state = (seed ^ 0x9E3779B97F4A7C15) & MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def permutation(self, n):
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = (self.next_u64() * (i + 1)) >> 64
            order[i], order[j] = order[j], order[i]
        return order


def read_reviews(path):
    words, labels = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            labels.append(float(parts[0]))
            words.append(np.array([int(w) for w in parts[1:]], dtype=np.int64))
    return words, np.array(labels, dtype=np.float32)


def multi_hot(words, indices):
    x = np.zeros((len(indices), NUM_WORDS), dtype=np.float32)
    for row, i in enumerate(indices):
        x[row, words[i]] = 1.0
    return x


def shapes(units):
    return [(NUM_WORDS, units), (units,), (units, units), (units,), (units, 1), (1,)]


def read_weights(path, units):
    flat = np.fromfile(path, dtype="<f4")
    out, at = [], 0
    for shape in shapes(units):
        size = int(np.prod(shape))
        out.append(flat[at:at + size].reshape(shape).copy())
        at += size
    assert at == flat.size, f"{path}: {flat.size} values, expected {at}"
    return out


def write_weights(path, weights):
    np.concatenate([np.asarray(w, np.float32).ravel() for w in weights]).astype("<f4").tofile(path)


def train(args):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras = tf.keras
    units, l2 = MODELS[args.model]
    if args.l2 is not None:
        l2 = args.l2
    tag = args.tag or f"{args.mode}{'_' + args.eps if args.mode == 'tape' else ''}_{args.model}"
    d = args.dir

    words, y_train = read_reviews(os.path.join(d, "train.txt"))
    vwords, y_valid = read_reviews(os.path.join(d, "valid.txt"))
    n = len(words)
    x_valid = multi_hot(vwords, range(len(vwords)))

    # The order of each epoch.
    if args.order == "repeat":
        # The lab's first-epoch order, every epoch (what Keras 3's fit does once seeded).
        orders = [np.array(Rng(args.seed + 1).permutation(n))] * args.epochs
    elif args.order.startswith("keras:"):
        rs = np.random.RandomState(int(args.order.split(":")[1]))
        orders = [rs.permutation(n) for _ in range(args.epochs)]
    else:
        orders = [np.array(Rng(args.seed + e).permutation(n)) for e in range(1, args.epochs + 1)]
        exported = os.path.join(d, "order.bin")
        if os.path.exists(exported):
            flat = np.fromfile(exported, dtype="<u4").reshape(-1, n)
            for e in range(min(len(flat), args.epochs)):
                assert (flat[e] == orders[e]).all(), f"epoch {e + 1}: order differs from order.bin"
            print(f"order: the lab's (seed {args.seed}); checked against order.bin "
                  f"({min(len(flat), args.epochs)} epochs)")

    # The network, as bench/keras_imdb_regularization.py builds it.
    keras.utils.set_random_seed(int(args.init.split(":")[1]) if args.init.startswith("keras:") else 0)
    reg = keras.regularizers.l2(l2) if l2 > 0 else None
    model = keras.Sequential([
        keras.Input((NUM_WORDS,)),
        keras.layers.Dense(units, activation="relu", kernel_regularizer=reg),
        keras.layers.Dense(units, activation="relu", kernel_regularizer=reg),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    if not args.init.startswith("keras:"):
        path = args.init if args.init != "lab" else os.path.join(d, f"init_{args.model}.bin")
        model.set_weights(read_weights(path, units))
        print(f"initial weights: {path}")
    write_weights(os.path.join(d, f"init_{tag}.bin"), model.get_weights())
    kernels = [model.layers[0].kernel, model.layers[1].kernel]

    def penalty_now():
        return float(l2 * sum(float(tf.reduce_sum(tf.square(k))) for k in kernels))

    if args.mode in ("keras", "fit"):
        model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy",
                      metrics=["accuracy", "binary_crossentropy"])

        def step(x, y):
            r = model.train_on_batch(x, y, return_dict=True)
            return r["loss"], r["binary_crossentropy"], r["accuracy"]
    else:
        variables = model.trainable_variables
        m = [tf.Variable(tf.zeros_like(v)) for v in variables]
        v2 = [tf.Variable(tf.zeros_like(v)) for v in variables]
        t = tf.Variable(0.0)
        lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7
        burn_eps = args.eps == "burn"

        @tf.function(jit_compile=False)
        def tape_step(x, y):
            with tf.GradientTape() as tape:
                # The output layer's sigmoid is left out: the loss is taken from the logit.
                h = model.layers[1](model.layers[0](x))
                z = tf.matmul(h, model.layers[2].kernel) + model.layers[2].bias
                ce = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
                pen = l2 * (tf.reduce_sum(tf.square(kernels[0])) + tf.reduce_sum(tf.square(kernels[1])))
                loss = ce + pen
            grads = tape.gradient(loss, variables)
            t.assign_add(1.0)
            c2 = tf.sqrt(1.0 - tf.pow(b2, t))
            alpha = lr * c2 / (1.0 - tf.pow(b1, t))
            for var, g, mi, vi in zip(variables, grads, m, v2):
                mi.assign_add((g - mi) * (1.0 - b1))
                vi.assign_add((tf.square(g) - vi) * (1.0 - b2))
                e = eps * c2 if burn_eps else eps
                var.assign_sub(mi * alpha / (tf.sqrt(vi) + e))
            acc = tf.reduce_mean(tf.cast(tf.equal(tf.cast(z > 0, tf.float32), y), tf.float32))
            return loss, ce, acc

        def step(x, y):
            loss, ce, acc = tape_step(tf.constant(x), tf.constant(y))
            return float(loss), float(ce), float(acc)

    def evaluate():
        p = model.predict(x_valid, batch_size=1000, verbose=0)[:, 0].astype(np.float64)
        p = np.clip(p, 1e-12, 1 - 1e-12)
        ce = -np.mean(y_valid * np.log(p) + (1 - y_valid) * np.log(1 - p))
        acc = np.mean((p > 0.5) == (y_valid > 0.5))
        return ce, acc

    dump = set(int(s) for s in args.dump.split(",") if s)
    steps = open(os.path.join(d, f"{tag}_steps.csv"), "w")
    steps.write("step,epoch,items,loss,cross_entropy,penalty,accuracy\n")
    epochs = open(os.path.join(d, f"{tag}_epochs.csv"), "w")
    epochs.write("epoch,train_loss,train_cross_entropy,train_accuracy,penalty,sumsq_hidden1,"
                 "sumsq_hidden2,sumsq_output,val_cross_entropy,val_accuracy\n")
    started = time.time()

    def end_epoch(e, s, tl, tce, tacc):
        write_weights(os.path.join(d, f"{tag}_step{s}.bin"), model.get_weights())
        w = model.get_weights()
        sq = [float(np.sum(w[i].astype(np.float64) ** 2)) for i in (0, 2, 4)]
        pen = l2 * (sq[0] + sq[1])
        vce, vacc = evaluate()
        epochs.write(f"{e},{tl:.6f},{tce:.6f},{tacc:.6f},{pen:.6f},{sq[0]:.4f},{sq[1]:.4f},"
                     f"{sq[2]:.4f},{vce:.6f},{vacc:.6f}\n")
        epochs.flush()
        print(f"epoch {e:>2} (step {s}): train ce {tce:.4f} acc {100 * tacc:.2f}%, penalty {pen:.4f} "
              f"(Σw² h1 {sq[0]:.2f}, h2 {sq[1]:.2f}), valid ce {vce:.4f} acc {100 * vacc:.2f}% "
              f"[{time.time() - started:.0f} s]", flush=True)

    if args.mode == "fit":
        # model.fit itself, with its own shuffling (shuffle=True, Keras's seeded generator):
        # what bench/keras_imdb_regularization.py runs, on the lab's encoding of the reviews.
        x_train = multi_hot(words, range(n))
        steps_per_epoch = -(-n // args.batch_size)

        class Log(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                end_epoch(epoch + 1, (epoch + 1) * steps_per_epoch, logs["loss"],
                          logs["binary_crossentropy"], logs["accuracy"])

        if args.fit_data == "arrays":
            # As the bench: NumPy arrays, shuffle=True. Once keras.utils.set_random_seed has
            # run, Keras 3.15 / TF 2.21 draw the same permutation for every epoch.
            model.fit(x_train, y_train[:, None], epochs=args.epochs, batch_size=args.batch_size,
                      verbose=0, callbacks=[Log()])
        else:
            # A tf.data pipeline that reshuffles each epoch (seeded).
            data = tf.data.Dataset.from_tensor_slices((x_train, y_train[:, None])).shuffle(
                n, seed=args.seed, reshuffle_each_iteration=True).batch(args.batch_size)
            model.fit(data, epochs=args.epochs, verbose=0, callbacks=[Log()])
        orders = []
    s = 0
    for e, order in enumerate(orders, start=1):
        sums = np.zeros(3)
        items = 0
        for lo in range(0, n, args.batch_size):
            idx = order[lo:lo + args.batch_size]
            x = multi_hot(words, idx)
            y = y_train[idx][:, None]
            pen = penalty_now()
            loss, ce, acc = step(x, y)
            s += 1
            k = len(idx)
            sums += np.array([loss, loss - pen, acc]) * k
            items += k
            steps.write(f"{s},{e},{k},{loss:.8f},{loss - pen:.8f},{pen:.8f},{acc:.6f}\n")
            if s in dump:
                write_weights(os.path.join(d, f"{tag}_step{s}.bin"), model.get_weights())
        end_epoch(e, s, *(sums / items))
    steps.close()
    epochs.close()
    if args.mode != "tape":
        print(f"Keras {keras.__version__}, jit_compile {model.jit_compile}")
    print(f"written {tag}_* to {d}")


def compare(args):
    d = args.dir
    a, b = args.a, args.b
    units = 4 if a.endswith("_small") else 16
    found = {}
    for path in glob.glob(os.path.join(d, f"{a}_step*.bin")):
        step = int(re.search(r"_step(\d+)\.bin$", path).group(1))
        other = os.path.join(d, f"{b}_step{step}.bin")
        if os.path.exists(other):
            found[step] = (path, other)
    print(f"{a} vs {b}: max |difference| per tensor (relative to the tensor's max |value|)")
    for name, path in [("init", (os.path.join(d, f"init_{a}.bin"), os.path.join(d, f"init_{b}.bin")))] + \
            [(f"step {s}", found[s]) for s in sorted(found)]:
        if not all(os.path.exists(p) for p in path):
            continue
        wa, wb = read_weights(path[0], units), read_weights(path[1], units)
        cells = []
        for label, x, y in zip(NAMES, wa, wb):
            diff = float(np.max(np.abs(x - y)))
            cells.append(f"{label} {diff:.1e} ({diff / max(float(np.max(np.abs(x))), 1e-30):.0e})")
        print(f"  {name:>9}: " + ", ".join(cells))
    for kind in ("epochs",):
        pa, pb = os.path.join(d, f"{a}_{kind}.csv"), os.path.join(d, f"{b}_{kind}.csv")
        if os.path.exists(pa) and os.path.exists(pb):
            ra, rb = list(csv.DictReader(open(pa))), list(csv.DictReader(open(pb)))
            print(f"  per epoch ({a} | {b}):")
            cols = ["train_cross_entropy", "train_accuracy", "penalty", "val_cross_entropy", "val_accuracy"]
            print("    epoch  " + "  ".join(f"{c:>27}" for c in cols))
            for x, y in zip(ra, rb):
                print(f"    {x['epoch']:>5}  " + "  ".join(
                    f"{float(x[c]):>13.4f}|{float(y[c]):<13.4f}" for c in cols))


def summary(args):
    """One line per run (its *_epochs.csv): the last epoch's accuracy gap and penalty, and how
    smooth the late epochs were."""
    print(f"{'run':<24} {'ep':>3} {'gap@last':>8} {'gap 16-20':>9} {'pen@last':>8} {'ce@last':>7} "
          f"{'max ce 11-20':>12} {'acc drops>0.5p 11-20':>20}")
    for path in sorted(glob.glob(os.path.join(args.dir, "*_epochs.csv"))):
        rows = list(csv.DictReader(open(path)))
        if len(rows) < 20:
            continue
        f = lambda r, c: float(r[c])  # noqa: E731
        gap = [100 * (f(r, "train_accuracy") - f(r, "val_accuracy")) for r in rows]
        late = rows[10:20]
        drops = sum(1 for a, b in zip(rows[9:19], late) if f(a, "train_accuracy") - f(b, "train_accuracy") > 0.005)
        print(f"{os.path.basename(path)[:-11]:<24} {len(rows):>3} {gap[19]:>8.2f} {np.mean(gap[15:20]):>9.2f} "
              f"{f(rows[19], 'penalty'):>8.4f} {f(rows[19], 'train_cross_entropy'):>7.4f} "
              f"{max(f(r, 'train_cross_entropy') for r in late):>12.4f} {drops:>20}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--dir", default="/tmp/l2parity")
    t.add_argument("--model", default="l2", choices=sorted(MODELS))
    t.add_argument("--epochs", type=int, default=3)
    t.add_argument("--batch-size", type=int, default=512)
    t.add_argument("--seed", type=int, default=42, help="the lab's seed (the order of each epoch)")
    t.add_argument("--mode", default="keras", choices=["keras", "tape", "fit"])
    t.add_argument("--fit-data", default="arrays", choices=["arrays", "dataset"],
                   help="--mode fit: NumPy arrays with shuffle=True (as the bench), or a tf.data "
                   "pipeline that reshuffles each epoch")
    t.add_argument("--eps", default="keras", choices=["keras", "burn"], help="--mode tape: Adam's epsilon")
    t.add_argument("--init", default="lab", help="lab (init_<model>.bin), a file, or keras:SEED")
    t.add_argument("--order", default="lab", help="lab, repeat (the lab's first order every epoch), "
                   "or keras:SEED (NumPy permutations)")
    t.add_argument("--l2", type=float)
    t.add_argument("--dump", default="1,2,3,10,40,100")
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--tag")
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--dir", default="/tmp/l2parity")
    u = sub.add_parser("summary")
    u.add_argument("--dir", default="/tmp/l2parity")
    args = p.parse_args()
    return {"train": train, "compare": compare, "summary": summary}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
