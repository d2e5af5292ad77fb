#!/usr/bin/env bash
# Compares the SQLite drivers Go users pick on what a first run costs: for
# each one, a program of a few lines that opens an in-memory database and
# prints sqlite_version() is fetched, built and run from an empty module
# cache and an empty build cache (both in a temp dir, removed afterwards),
# outside the workspace. It prints the wall and CPU time of `go get` plus
# `go run`, the module zips downloaded, the load before and after and the
# CPU time other processes used meanwhile.
#
#   bash scripts/sqlite-drivers.sh            # all three
#   bash scripts/sqlite-drivers.sh ncruces    # one: modernc, ncruces or mattn
#
# The versions are those the repository uses (modernc in recipes/,
# ncruces in store/, examples/, integration/ and bench/); mattn needs cgo
# and a C compiler.
set -euo pipefail

declare -A module=(
  [modernc]=modernc.org/sqlite@v1.62.0
  [ncruces]=github.com/ncruces/go-sqlite3@v0.37.0
  [mattn]=github.com/mattn/go-sqlite3@v1.14.53
)
declare -A import=(
  [modernc]=modernc.org/sqlite
  [ncruces]=github.com/ncruces/go-sqlite3/driver
  [mattn]=github.com/mattn/go-sqlite3
)
declare -A name=([modernc]=sqlite [ncruces]=sqlite3 [mattn]=sqlite3)

# busy prints the CPU time, in seconds, that every process on the machine
# has used since boot (user, nice, system, irq, softirq, steal).
busy() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.2f", ($2+$3+$4+$7+$8+$9)/hz}' /proc/stat; }

drivers=("$@")
[ ${#drivers[@]} -gt 0 ] || drivers=(modernc ncruces mattn)
for d in "${drivers[@]}"; do
  [ -n "${module[$d]:-}" ] || { echo "unknown driver $d: want modernc, ncruces or mattn" >&2; exit 2; }
done

for d in "${drivers[@]}"; do
  tmp=$(mktemp -d)
  (
    trap 'chmod -R u+w "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
    mkdir "$tmp/prog"
    cd "$tmp/prog"
    cat >main.go <<EOF
package main

import (
	"database/sql"
	"fmt"

	_ "${import[$d]}"
)

func main() {
	db, err := sql.Open("${name[$d]}", ":memory:")
	if err != nil {
		panic(err)
	}
	var v string
	if err := db.QueryRow("SELECT sqlite_version()").Scan(&v); err != nil {
		panic(err)
	}
	fmt.Println("SQLite", v)
}
EOF
    printf 'module prog\n\ngo 1.26.0\n' >go.mod
    export GOWORK=off GOMODCACHE="$tmp/mod" GOCACHE="$tmp/cache" GOFLAGS="-modcacherw"
    echo "=== $d (${module[$d]})"
    echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)"
    busy0=$(busy)
    start=$(date +%s.%N)
    /usr/bin/env time -o "$tmp/time" -f "%U %S" sh -c "go get ${module[$d]} && go run ." 2>&1 | grep -v '^go: '
    end=$(date +%s.%N)
    busy1=$(busy)
    read -r user sys <"$tmp/time"
    echo "wall: $(echo "$end - $start" | bc) s for go get + go run from empty caches"
    echo "cpu: $user s user, $sys s system"
    echo "other processes meanwhile: $(echo "$busy1 - $busy0 - $user - $sys" | bc) s of CPU"
    echo "downloaded: $(find "$GOMODCACHE/cache/download" -name '*.zip' -printf '%s\n' | awk '{s+=$1} END {printf "%.1f MB in module zips", s/1e6}')"
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  )
done
