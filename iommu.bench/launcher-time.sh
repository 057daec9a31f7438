#!/usr/bin/env bash
# Whole-process time from launching iommu.app's runnable jar to its first
# command's result and exit, over repeated runs: each run's seconds, then the
# median, min and max. Issue 9's target: at most 1.5 s on a 2-core machine.
#
# usage: bash iommu.bench/launcher-time.sh [RUNS] [COMMAND]
#        (defaults: 10 runs of "iommu:units"; the first run also counts)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
command=${2:-iommu:units}
jar=iommu.app/target/iommu.jar
if [[ ! -f $jar ]]; then
  echo "no $jar: build it first (mvn -B -q install -DskipTests)" >&2
  exit 2
fi
times=()
for ((i = 1; i <= runs; i++)); do
  start=$(date +%s%N)
  if ! java -jar "$jar" -c "$command" >/dev/null 2>/tmp/launcher-time.err; then
    echo "run $i: the launcher failed:" >&2
    cat /tmp/launcher-time.err >&2
    exit 1
  fi
  end=$(date +%s%N)
  t=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
  times+=("$t")
  echo "run $i: $t s"
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END {
  m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
  printf "median %.3f s (min %.3f, max %.3f) over %d runs\n", m, a[1], a[NR], NR }'
