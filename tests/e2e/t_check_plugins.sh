# The checks the plugins make (vocabulary terms, links between cases,
# lessons): fixtures marked needs-plugins under tests/check/. They run once
# plugins/classify.lua, crosslink.lua and lessons.lua exist.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/check_fixtures.sh"
if ! plugins_available; then
	echo "skipped: needs the plugins"
	exit 77
fi
n=0
for dir in "$FIX"/*/; do
	dir=${dir%/}
	[ -f "$dir/needs-plugins" ] || continue
	check_fixture "$dir"
	n=$((n + 1))
done
[ $n -ge 3 ] || fail "only $n plugin fixtures ran"
