# The shipped handbook builds without errors or warnings.
. "$(dirname "$0")/lib.sh"
run_cb build -s "$ROOT" -o "$TMP/site" -q
expect_rc 0
# A shallow clone (as CI checkouts often are) warns that history is cut off:
# that is the checkout's doing, not the handbook's.
ERR=$(printf '%s\n' "$ERR" | grep -v -e 'shallow clone' -e 'git fetch --unshallow' || true)
[ -z "$ERR" ] || fail "warnings building the handbook: $ERR"
n=$(ls "$ROOT/content/cases" | grep -c '\.md$')
[ "$(ls "$TMP/site/cases" | grep -c '\.html$')" = $((n + 1)) ] || fail "expected $n case pages and an index"
