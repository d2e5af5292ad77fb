#!/usr/bin/env bash
# Measures the README's first run from nothing: `go run ./examples/inbox`
# with an empty module cache and an empty build cache (both in a temp dir,
# removed afterwards), as a new user's machine has them. It prints the wall
# and CPU time, the bytes downloaded, and the machine's load before and
# after, since on a shared machine the load moves the figure.
#
#   bash scripts/coldstart.sh            # the README's figure
#   bash scripts/coldstart.sh ./examples/tour
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-./examples/inbox}
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)"
export GOMODCACHE="$tmp/mod" GOCACHE="$tmp/cache" GOFLAGS="${GOFLAGS:-} -modcacherw"
start=$(date +%s.%N)
/usr/bin/env time -f "cpu: %U s user, %S s system; max rss %M KB" go run "$target" >/dev/null
end=$(date +%s.%N)
echo "wall: $(echo "$end - $start" | bc) s for go run $target from empty caches"
echo "downloaded: $(find "$GOMODCACHE/cache/download" -name '*.zip' -printf '%s\n' | awk '{s+=$1} END {printf "%.1f MB in module zips", s/1e6}'), $(du -sh "$GOMODCACHE" | cut -f1) unpacked"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
