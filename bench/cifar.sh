#!/usr/bin/env bash
# Lab 2's plain network, training throughput, burn (flex) vs Keras/TensorFlow-CPU, measured in
# one session on the same machine, the sides alternated, both on 2 threads, warm-up excluded
# on both sides. Steps on the bundled CIFAR-10 images, batch 64, Adam.
#
#   python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu
#   bash bench/cifar.sh [rounds]        # one JSON line per measurement on stdout
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/host.sh
source bench/host.sh
rounds=${1:-3}
python=${PYTHON:-/tmp/tfvenv/bin/python}
cargo build -q -p lab-cifar-cnn --example cifar_bench
host_header
echo "# threads: 2 on both sides (RAYON_NUM_THREADS=2; TensorFlow intra- and inter-op 2)"
for round in $(seq "$rounds"); do
  echo "# round $round"
  RAYON_NUM_THREADS=2 target/debug/examples/cifar_bench 3 20
  TF_CPP_MIN_LOG_LEVEL=3 "$python" bench/keras_cifar.py --threads 2 --repeats 3 --steps 20 2>/dev/null
done
echo "# load after: $(uptime)"
