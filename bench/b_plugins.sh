#!/bin/sh
# Benchmark of the plugin stage on a synthetic handbook of N cases (default
# 10,000; bench/gen-plugin-cases):
#   - each default plugin's wall and CPU time and its peak Lua memory, and the
#     whole build's time (and peak RSS when /usr/bin/time is there);
#   - crosslink's ranking on its own: indexing every case and ranking the
#     related cases of each (target: under 1 s);
#   - lazy case objects: the Lua memory of a plugin that reads meta, sections
#     and links of every case (target: under 32 MB: caches die with each call).
# Exits 1 when a target is missed. Uses $CASEBOOK (default ./casebook).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
CASEBOOK=${CASEBOOK:-$root/casebook}
N=${N:-10000}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/casebook-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail=0

"$root/bench/gen-plugin-cases" "$N" "$TMP/hb" || exit 2
note() { grep -o "plugin '$1': .*" "$TMP/err" | sed "s/^/  /"; }

# 1. The default plugins, as the handbook configures them.
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f '%e s, %M KB peak RSS' -o "$TMP/time" "$CASEBOOK" build -s "$TMP/hb" -o "$TMP/site" -v 2>"$TMP/err"
else
	"$CASEBOOK" build -s "$TMP/hb" -o "$TMP/site" -v 2>"$TMP/err"
fi
rc=$?
[ $rc = 0 ] || { grep -v 'note:' "$TMP/err" | head; echo "build failed"; exit 1; }
echo "plugin stage, $N cases:"
for p in classify crosslink lessons; do note $p; done
echo "whole build: $(grep -o '[0-9.]* s$' "$TMP/err" | tail -1)$( [ -f "$TMP/time" ] && echo " ($(cat "$TMP/time"))")"

# 2. Ranking alone: what crosslink does with casebook.index.
mkdir -p "$TMP/hb/plugins"
cat >"$TMP/hb/plugins/rank.lua" <<'EOF'
local ix, t_add = casebook.index(), 0
return {
  case = function(c)
    local t0 = os.clock()
    local f = {}
    for tax, terms in pairs(c.facets) do
      for _, t in ipairs(terms) do f[tax .. ":" .. t.term] = 2 end
    end
    for _, tag in ipairs(c.meta.tags or {}) do f["tag:" .. tag] = 2 end
    local t1 = os.clock()
    ix:add(c.slug, c.title, f)
    t_add = t_add + os.clock() - t1
  end,
  site = function(site)
    local t0, n = os.clock(), 0
    for _, c in ipairs(site.cases) do n = n + #ix:related(c.slug, 5) end
    local docs, feats = ix:size()
    print(string.format("rank: %d cases, %d features: indexing %.3f s, ranking %.3f s (%d related)",
                        docs, feats, t_add, os.clock() - t0, n))
  end,
}
EOF
# 3. Laziness: read everything of every case, one call at a time.
cat >"$TMP/hb/plugins/touch.lua" <<'EOF'
local n = 0
return {
  case = function(c)
    local m, s, l = c.meta, c.sections, c.links
    for _, sec in ipairs(s) do n = n + #sec.text + #sec.items + #sec.children end
    n = n + #l + (m.year or 0)
  end,
}
EOF
printf 'title: "bench"\nplugins: [classify, rank, touch]\n' >"$TMP/hb/casebook.yml"
"$CASEBOOK" build -s "$TMP/hb" -o "$TMP/site2" -v 2>"$TMP/err" || { echo "rank build failed"; exit 1; }
line=$(grep -o 'rank: .*' "$TMP/err")
echo "crosslink's ranking alone: ${line#rank: }"
ranking=$(printf '%s\n' "$line" | sed 's/.*ranking \([0-9.]*\) s.*/\1/')
if awk -v t="$ranking" 'BEGIN { exit !(t < 1.0) }'; then
	echo "  ok: ranking $N cases takes under 1 s"
else
	echo "  MISSED: ranking $N cases takes $ranking s (target: under 1 s)"
	fail=1
fi
echo "lazy case objects (meta, sections, links of every case read):"
note touch
mem=$(grep -o "plugin 'touch': .*" "$TMP/err" | sed 's/.*at most \([0-9.]*\) MB.*/\1/')
if awk -v m="$mem" 'BEGIN { exit !(m < 32) }'; then
	echo "  ok: $mem MB of Lua memory for $N cases"
else
	echo "  MISSED: $mem MB of Lua memory (target: under 32 MB)"
	fail=1
fi
exit $fail
