#!/usr/bin/env bash
# LeNet-5 training throughput, burn (flex) vs Keras/TensorFlow-CPU, measured in one session
# on the same machine, alternating so that both see the same background load.
#
#   python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
#   bash bench/lenet.sh [rounds]        # writes one JSON line per measurement to stdout
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/host.sh
source bench/host.sh
rounds=${1:-3}
python=${PYTHON:-/tmp/tfvenv/bin/python}
cargo build -q -p lab-lenet --example bench
host_header
echo "# threads: 2 on both sides (RAYON_NUM_THREADS=2; TensorFlow intra- and inter-op 2)"
for round in $(seq "$rounds"); do
  echo "# round $round"
  RAYON_NUM_THREADS=2 target/debug/examples/bench 5 100
  TF_CPP_MIN_LOG_LEVEL=3 "$python" bench/keras_lenet.py --threads 2 --repeats 5 --steps 100 2>/dev/null
done
echo "# load after: $(uptime)"
