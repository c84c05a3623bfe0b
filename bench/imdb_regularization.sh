#!/usr/bin/env bash
# Lab 10 on the full IMDB data: the six models in Rust (burn, flex) and in Keras, one after
# the other in one session, on the same reviews and the same validation split, 2 threads each.
# `uptime` before and after each side: a speed comparison only counts on a quiet machine.
# ROUNDS > 1 alternates the sides (burn, Keras, burn, Keras, ...), each round under `# round k`.
# SEED goes to both sides (`--seed`: the split, the initial weights, the order of each epoch).
#
#   python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
#   bash bench/imdb_regularization.sh [data-dir] [rounds] [seed]   # ../shared/datasets, 1, 42
#   ROUNDS=3 SEED=7 OUT=/tmp/imdb-bench bash bench/imdb_regularization.sh   # or by env
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/host.sh
source bench/host.sh
data=${1:-../shared/datasets}
rounds=${2:-${ROUNDS:-1}}
seed=${3:-${SEED:-42}}
python=${PYTHON:-/tmp/tfvenv/bin/python}
out=${OUT:-runs/bench-imdb-regularization}
mkdir -p "$out"
cargo build -q -p lab-imdb-regularization
host_header
echo "# seed $seed, $rounds round(s), burn then Keras in each"
for k in $(seq 1 "$rounds"); do
  # One round keeps the old file names; more rounds get a suffix each.
  tag=""
  if [ "$rounds" -gt 1 ]; then tag="-s$seed-r$k"; fi
  echo "# round $k"
  echo "# rust, before: $(uptime)"
  start=$(date +%s)
  target/debug/lab-imdb-regularization --full --data-dir "$data" --seed "$seed" --out "$out" \
    | tee "$out/rust$tag.log"
  echo "# rust: $(( $(date +%s) - start )) s wall, after: $(uptime)"
  run=$(grep '^  run folder' "$out/rust$tag.log" | tail -1 | awk '{print $3}')  # this run's
  echo "# keras, before: $(uptime)"
  start=$(date +%s)
  "$python" bench/keras_imdb_regularization.py "$data" --threads 2 --seed "$seed" \
    --check "$run/validation_reviews.txt" --out "$out/keras$tag.json" 2>&1 \
    | grep -v '^Epoch' | tee "$out/keras$tag.log"
  echo "# keras: $(( $(date +%s) - start )) s wall, after: $(uptime)"
done
