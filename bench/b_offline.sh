#!/bin/sh
# Benchmark: a synthetic handbook of BENCH_CASES cases (default 10,000):
# build time and peak memory, the size of the print edition and of the
# search index, and the time a search query takes in headless Chromium
# (target: under 100 ms, even the first query, which loads parts of the
# index). Run by bench/run; alone: sh bench/b_offline.sh
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_CASES:-10000}
target=${SEARCH_TARGET_MS:-100}
casebook=${CASEBOOK:-$root/casebook}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/casebook-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
rc=0

sh "$root/bench/gen-handbook" "$n" "$tmp/src" "$root"
/usr/bin/time -f '%e %M' -o "$tmp/time" "$casebook" build -s "$tmp/src" -o "$tmp/site" -q || exit 1
read -r secs kb <"$tmp/time"
echo "offline: $n cases built in $secs s, peak memory $((kb / 1024)) MB"
echo "offline: print.html $(($(stat -c %s "$tmp/site/print.html") / 1048576)) MB"
echo "offline: search index $(du -sm "$tmp/site/assets/search" 2>/dev/null | cut -f1) MB in $(ls "$tmp/site/assets/search" 2>/dev/null | wc -l) parts; manifest $(stat -c %s "$tmp/site/assets/search-index.js") bytes; largest part $(ls -S "$tmp/site/assets/search" 2>/dev/null | head -1 | xargs -I{} stat -c %s "$tmp/site/assets/search/{}") bytes"

if command -v node >/dev/null && [ -x /usr/bin/chromium ] && [ -d "$root/tests/browser/node_modules/playwright-core" ]; then
	node "$root/tests/browser/measure.js" "$tmp/site" "$target" | sed 's/^/offline: /' || rc=1
else
	echo "offline: search timing skipped: needs node, chromium and tests/browser/node_modules (scripts/install-deps --browser; cd tests/browser && npm ci)"
fi
exit $rc
