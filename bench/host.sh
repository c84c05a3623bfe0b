# Sourced by the bench scripts: the lines every benchmark log starts with, so that a figure
# names its machine (CPU model, SIMD level: hosts of one machine kind differ), its date and
# the load before it started (above ~0.3 on this idle machine, someone else is running).
host_header() {
  echo "# $(date -u +%FT%TZ) $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "# simd: $(grep -m1 -o -w -E 'avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "# load before: $(uptime)"
}
