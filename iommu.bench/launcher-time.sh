#!/usr/bin/env bash
# Time from launching iommu.app's runnable jar to its first command's result
# (the first line it prints) and to its exit, over repeated runs: each run's
# seconds, then the median, min and max of both. Issue 9's target: at most 1.5 s on a 2-core machine.
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
firsts=()
first_file=$(mktemp)
for ((i = 1; i <= runs; i++)); do
  start=$(date +%s%N)
  # the first line of output is the first command's result: note when it arrives, read the rest
  if ! java -jar "$jar" -c "$command" 2>/tmp/launcher-time.err \
      | { IFS= read -r _; date +%s%N >"$first_file"; cat >/dev/null; }; then
    echo "run $i: the launcher failed:" >&2
    cat /tmp/launcher-time.err >&2
    exit 1
  fi
  end=$(date +%s%N)
  t=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
  f=$(awk -v ns=$(($(cat "$first_file") - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')
  times+=("$t")
  firsts+=("$f")
  echo "run $i: first result $f s, exit $t s"
done
rm -f "$first_file"
summary() {
  sort -n | awk -v what="$1" '{ a[NR] = $1 } END {
    m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
    printf "%s: median %.3f s (min %.3f, max %.3f) over %d runs\n", what, m, a[1], a[NR], NR }'
}
printf '%s\n' "${firsts[@]}" | summary "first result"
printf '%s\n' "${times[@]}" | summary "whole process"
