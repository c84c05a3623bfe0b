#!/usr/bin/env bash
# Lab 7 beside gensim 4 on the full IMDB corpus (50,000 reviews, ~11.5 million words):
# skip-gram, negative sampling, the lab's defaults on both sides, 2 threads each; the sides
# alternated in `rounds` rounds (the lab, gensim LineSentence, gensim corpus_file); the
# quality of both vector sets and of a count-based baseline (PPMI + SVD) in round 1.
#
#   python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install gensim scipy
#   bash bench/word2vec.sh [data-dir] [rounds]       # ../shared/datasets, 3
#   MODE=cbow bash bench/word2vec.sh                 # CBOW on both sides instead
#   BASELINE=0 ...                                   # skip the PPMI + SVD baseline
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/host.sh
source bench/host.sh
data=${1:-../shared/datasets}
rounds=${2:-3}
python=${PYTHON:-/tmp/tfvenv/bin/python}
out=${OUT:-runs/bench-word2vec}
mode=${MODE:-skipgram}
baseline=${BASELINE:-1}
# GNU time reports the lab's peak memory; without it the lab runs untimed.
timed=(); if /usr/bin/time -f "" true 2>/dev/null; then timed=(/usr/bin/time -f "  peak RSS %M kB, wall %e s"); fi
corpus="$out/imdb-tokens.txt"
mkdir -p "$out"
cargo build -q -p lab-word2vec
host_header
echo "# threads: 2 on both sides (--threads 2; gensim workers=2); mode: $mode"
for k in $(seq 1 "$rounds"); do
  echo "# round $k: $(uptime)"
  dump=(); if [ "$k" = 1 ]; then dump=(--dump-corpus "$corpus"); fi
  "${timed[@]}" \
    target/debug/lab-word2vec --corpus imdb --full --data-dir "$data" --threads 2 --mode "$mode" \
    "${dump[@]}" --out "$out" 2>&1 | grep -E '^  (speed|corpus|vocabulary|loss|run folder|peak RSS)'
  run=$(ls -d "$out"/word2vec/* | tail -1)
  if [ "$k" = 1 ]; then
    "$python" bench/gensim_word2vec.py "$corpus" --mode "$mode" --workers 2 --lab-vectors "$run/vectors.vec"
  else
    "$python" bench/gensim_word2vec.py "$corpus" --mode "$mode" --workers 2 --no-eval
  fi
  "$python" bench/gensim_word2vec.py "$corpus" --mode "$mode" --workers 2 --corpus-file --no-eval
done
echo "# load after: $(uptime)"
if [ "$baseline" = 1 ]; then
  echo "# count-based baseline"
  "$python" bench/ppmi_svd.py "$corpus"
fi
echo "# end $(date -u +%FT%TZ)"
