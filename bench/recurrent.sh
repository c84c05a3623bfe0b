#!/usr/bin/env bash
# Recurrent-layer training throughput on an IMDB-sized problem (batch 64, 200 steps,
# embedding 128, 64 units): the labs' LSTM and SimpleRNN (recurrence with hand-written
# BPTT), the same cells one autodiff step at a time, burn's own Lstm/Rnn, and Keras/TF-CPU,
# measured in one session, alternating so that all see the same background load.
#
#   python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
#   bash bench/recurrent.sh [rounds]    # one JSON line per measurement on stdout
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/host.sh
source bench/host.sh
rounds=${1:-3}
python=${PYTHON:-/tmp/tfvenv/bin/python}
cargo build -q -p lab-alice-lstm --example recurrent_bench
host_header
echo "# threads: 2 on both sides (RAYON_NUM_THREADS=2; TensorFlow intra- and inter-op 2)"
export RAYON_NUM_THREADS=2 TF_THREADS=2
# The slow variants once (they take about a second per batch).
target/debug/examples/recurrent_bench 3 3 lstm-steps lstm-burn rnn-steps rnn-burn
for round in $(seq "$rounds"); do
  echo "# round $round"
  target/debug/examples/recurrent_bench 3 10 lstm-lab rnn-lab
  TF_CPP_MIN_LOG_LEVEL=3 "$python" bench/keras_rnn.py 3 10 lstm rnn 2>/dev/null
done
echo "# load after: $(uptime)"
