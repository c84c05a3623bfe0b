#!/usr/bin/env bash
# Lab 9 (lab-mpg-earlystop): the five seeds of docs/mpg-earlystop.md (test MAE with and
# without early stopping, time of the 1,000-epoch part), then Keras/TF-CPU on the same
# split (accuracy per seed, then a 1,000-epoch `fit` and a `train_on_batch` loop), both
# sides on 2 threads. Speed ratios only mean something on a quiet machine: the load
# (`uptime`) is printed before and after.
#
#   python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
#   bash bench/mpg.sh [out-folder]      # one JSON line per measurement on stdout
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/host.sh
source bench/host.sh
out=${1:-/tmp/mpg-bench}
python=${PYTHON:-/tmp/tfvenv/bin/python}
mkdir -p "$out"
cargo build -q -p lab-mpg-earlystop
host_header
for seed in 1 2 3 4 5; do
  start=$(date +%s.%N)
  RAYON_NUM_THREADS=2 target/debug/lab-mpg-earlystop --seed "$seed" --out "$out" > "$out/seed-$seed.log"
  end=$(date +%s.%N)
  run=$(ls -d "$out"/mpg-earlystop/*/ | tail -1)
  python3 - "$run" "$seed" "$start" "$end" <<'PY'
import json, sys
run, seed, start, end = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
r = json.load(open(run + "results.json"))
part = lambda p: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r[p].items() if k != "name"}
print(json.dumps({"kind": "lab", "seed": seed, "run": run, "wall_s": round(end - start, 2),
                  "overfit": part("overfit"), "early_stopping": part("early_stopping")}))
PY
done
run=$(ls -d "$out"/mpg-earlystop/*/ | tail -1)
TF_CPP_MIN_LOG_LEVEL=3 "$python" bench/keras_mpg.py "$run" --threads 2 2>/dev/null
echo "# load after: $(uptime)"
