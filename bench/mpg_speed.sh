#!/usr/bin/env bash
# Lab 9's speed beside Keras, by the course's rules: the same 64-64-1 model on the same
# 251 training cars (the tutorial's split, read from the lab's own run folder), batch 32,
# 1,000 epochs; both sides on 2 threads; warm-up excluded on both sides (ours: epoch 1 is
# left out of the per-epoch median; Keras: a 2-epoch fit and 2 train_on_batch steps first);
# the sides alternated, 3 rounds, in one session; the load printed before and after.
#
#   python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
#   bash bench/mpg_speed.sh [rounds] > docs/mpg-speed-<date>.txt
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/host.sh
source bench/host.sh
rounds=${1:-3}
python=${PYTHON:-/tmp/tfvenv/bin/python}
out=$(mktemp -d)
cargo build -q -p lab-mpg-earlystop
host_header
for round in $(seq "$rounds"); do
  echo "# round $round"
  RAYON_NUM_THREADS=2 target/debug/lab-mpg-earlystop --seed 1 --out "$out" > "$out/lab.log"
  run=$(ls -d "$out"/mpg-earlystop/*/ | tail -1)
  python3 - "$run" <<'PY'
import json, statistics, sys
run = sys.argv[1]
epochs = json.load(open(run + "overfit/history.json"))["epochs"]
seconds = [e["seconds"] for e in epochs]
print(json.dumps({"side": "burn", "what": "fit (train + validation per epoch)",
                  "epochs": len(seconds),
                  "ms_per_epoch_median": round(1000 * statistics.median(seconds[1:]), 3),
                  "ms_per_epoch_mean": round(1000 * sum(seconds[1:]) / len(seconds[1:]), 3)}))
PY
  OMP_NUM_THREADS=2 TF_CPP_MIN_LOG_LEVEL=3 "$python" bench/keras_mpg.py "$run" --threads 2 \
    --no-accuracy 2>/dev/null | sed 's/^/{"side": "keras", /; s/^{"side": "keras", {/{"side": "keras", /'
done
echo "# load after: $(uptime)"
rm -rf "$out"
