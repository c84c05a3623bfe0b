#!/usr/bin/env bash
# Lab 8's speed beside Keras: seconds per epoch of Embedding(10,000, 128) → LSTM(64) →
# Dense(1) on the 25,000 training reviews (imdb.npz rules, padded to 200), batch 32, Adam,
# both sides on 2 threads, warm-up excluded on both sides, the sides alternated in one
# session. Keras runs its two paths (fit, and a train_on_batch loop) each round.
#
#   python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
#   bash bench/imdb_lstm.sh [rounds] [reviews] [extra flags for both, e.g. --bidirectional]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/host.sh
source bench/host.sh
rounds=${1:-3}
reviews=${2:-25000}
extra=${3:-}
python=${PYTHON:-/tmp/tfvenv/bin/python}
data=${BURN_LABS_DATA:-../shared/datasets}
cargo build -q -p lab-imdb-lstm --example imdb_lstm_bench
host_header
echo "# threads: 2 on both sides (RAYON_NUM_THREADS=2; TensorFlow intra- and inter-op 2)"
echo "# data: $data/imdb, $reviews training reviews, one timed epoch per side per round"
export RAYON_NUM_THREADS=2
for round in $(seq "$rounds"); do
  echo "# round $round: $(uptime)"
  # shellcheck disable=SC2086
  BURN_LABS_DATA="$data" target/debug/examples/imdb_lstm_bench 1 "$reviews" $extra
  # shellcheck disable=SC2086
  TF_CPP_MIN_LOG_LEVEL=3 "$python" bench/keras_imdb_lstm.py "$data/imdb/aclImdb_labeled.tar.gz" \
    --train-reviews "$reviews" --epochs 1 --path both --threads 2 --no-test $extra 2>/dev/null
done
echo "# load after: $(uptime)"
