#!/bin/sh
# Benchmark: editions. A synthetic handbook of BENCH_CASES cases (default
# 10,000) in a git repository with BENCH_EDITIONS editions (default 5), and
# BENCH_CHANGED % of the cases (default 2) changed from one edition to the
# next. It is built as one site (editions off, history on: what a handbook
# without editions costs) and with every edition (site/ plus
# site/editions/<name>/ for each), BENCH_RUNS times each (default 3; the
# median counts), into a site folder that already holds the previous build,
# as a rebuild does. Target: every edition in under EDITIONS_TARGET (default
# 1.6) times one. Run by bench/run; alone: sh bench/b_editions.sh
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_CASES:-10000}
editions=${BENCH_EDITIONS:-5}
changed=${BENCH_CHANGED:-2}
runs=${BENCH_RUNS:-3}
target=${EDITIONS_TARGET:-1.6}
casebook=${CASEBOOK:-$root/casebook}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/casebook-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

make -s -C "$root" build/bench/editions-repo || exit 1
sh "$root/bench/gen-handbook" "$n" "$tmp/src" "$root"
"$root/build/bench/editions-repo" "$tmp/src" "$editions" "$changed" 2>"$tmp/repo.log" || {
	cat "$tmp/repo.log" >&2
	exit 1
}
cp "$tmp/src/casebook.yml" "$tmp/casebook.yml.orig"

# median FILE: the middle line of a file of numbers.
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# measure LABEL: build RUNS times; leaves the median wall-clock seconds in
# $secs, the median processor seconds (user + system, both cores) in $cpu
# and the largest peak memory (MB) in $mb.
measure() {
	: >"$tmp/$1.secs"
	: >"$tmp/$1.cpu"
	mb=0
	i=0
	while [ $i -lt "$runs" ]; do
		/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$casebook" build -s "$tmp/src" -o "$tmp/site-$1" -v \
			>/dev/null 2>"$tmp/$1.err" || { cat "$tmp/$1.err" >&2; exit 1; }
		read -r s u sy kb <"$tmp/time"
		echo "$s" >>"$tmp/$1.secs"
		awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f\n", u + s }' >>"$tmp/$1.cpu"
		[ $((kb / 1024)) -gt "$mb" ] && mb=$((kb / 1024))
		i=$((i + 1))
	done
	secs=$(median "$tmp/$1.secs")
	cpu=$(median "$tmp/$1.cpu")
}

printf 'editions:\n  tags: false\n' >>"$tmp/src/casebook.yml"
measure one
one=$secs
one_cpu=$cpu
one_mb=$mb
one_files=$(find "$tmp/site-one" -type f | wc -l)
cp "$tmp/casebook.yml.orig" "$tmp/src/casebook.yml"
measure all
all=$secs
all_cpu=$cpu
all_files=$(find "$tmp/site-all" -type f | wc -l)
note=$(grep -o '[0-9]* editions: .*' "$tmp/all.err" | head -1)

ratio=$(awk -v a="$all" -v o="$one" 'BEGIN { printf "%.2f", a / o }')
cpu_ratio=$(awk -v a="$all_cpu" -v o="$one_cpu" 'BEGIN { printf "%.2f", a / o }')
echo "editions: $n cases, $editions editions, $changed % changed between editions ($runs runs each, median)"
echo "editions: one site:         $one s ($one_cpu s of processor time), peak memory $one_mb MB, $one_files files, $(du -sm "$tmp/site-one" | cut -f1) MB"
echo "editions: every edition:    $all s ($all_cpu s of processor time), peak memory $mb MB, $all_files files, $(du -sm "$tmp/site-all" | cut -f1) MB"
echo "editions: $note"
echo "editions: ratio $ratio, of processor time $cpu_ratio (target: under $target)"
awk -v r="$ratio" -v t="$target" 'BEGIN { exit !(r < t) }' || {
	echo "editions: MISSED the target"
	exit 1
}
