#!/usr/bin/env bash
# Measures the README's first run from nothing: `go run ./examples/inbox`
# with an empty module cache and an empty build cache (both in a temp dir,
# removed afterwards), as a new user's machine has them. It prints the wall
# and CPU time, the bytes downloaded, the machine's load before and after
# and the CPU time other processes used meanwhile, since on a shared
# machine they move the figure.
#
#   bash scripts/coldstart.sh            # the README's figure
#   bash scripts/coldstart.sh ./examples/tour
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-./examples/inbox}
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
# busy prints the CPU time, in seconds, that every process on the machine
# has used since boot (user, nice, system, irq, softirq, steal).
busy() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.2f", ($2+$3+$4+$7+$8+$9)/hz}' /proc/stat; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)"
export GOMODCACHE="$tmp/mod" GOCACHE="$tmp/cache" GOFLAGS="${GOFLAGS:-} -modcacherw"
busy0=$(busy)
start=$(date +%s.%N)
/usr/bin/env time -o "$tmp/time" -f "%U %S %M" go run "$target" >/dev/null
end=$(date +%s.%N)
busy1=$(busy)
read -r user sys rss <"$tmp/time"
echo "wall: $(echo "$end - $start" | bc) s for go run $target from empty caches"
echo "cpu: $user s user, $sys s system; max rss $rss KB"
# What the rest of the machine used meanwhile: on a shared machine the
# figure above is only the README's when this is near zero.
echo "other processes meanwhile: $(echo "$busy1 - $busy0 - $user - $sys" | bc) s of CPU"
echo "downloaded: $(find "$GOMODCACHE/cache/download" -name '*.zip' -printf '%s\n' | awk '{s+=$1} END {printf "%.1f MB in module zips", s/1e6}'), $(du -sh "$GOMODCACHE" | cut -f1) unpacked"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
