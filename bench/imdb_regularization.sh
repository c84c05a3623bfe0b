#!/usr/bin/env bash
# Lab 10 on the full IMDB data: the six models in Rust (burn, flex) and in Keras, one after
# the other in one session, on the same reviews and the same validation split, 2 threads each.
# `uptime` before and after each side: a speed comparison only counts on a quiet machine.
#
#   python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
#   bash bench/imdb_regularization.sh [data-dir]     # default ../shared/datasets
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-../shared/datasets}
python=${PYTHON:-/tmp/tfvenv/bin/python}
out=${OUT:-runs/bench-imdb-regularization}
mkdir -p "$out"
cargo build --release -q -p lab-imdb-regularization
echo "# $(date -u +%FT%TZ) $(nproc) cores:$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
echo "# simd: $(grep -m1 -o -w -E 'avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
echo "# rust, before: $(uptime)"
start=$(date +%s)
target/release/lab-imdb-regularization --full --data-dir "$data" --out "$out" | tee "$out/rust.log"
echo "# rust: $(( $(date +%s) - start )) s wall, after: $(uptime)"
run=$(ls -d "$out"/imdb-regularization/* | tail -1)
echo "# keras, before: $(uptime)"
start=$(date +%s)
"$python" bench/keras_imdb_regularization.py "$data" --threads 2 \
  --check "$run/validation_reviews.txt" --out "$out/keras.json" 2>&1 | grep -v '^Epoch' | tee "$out/keras.log"
echo "# keras: $(( $(date +%s) - start )) s wall, after: $(uptime)"
