# The same source builds byte-identical output, whatever the thread count,
# and whatever the build of casebook: the release build (optimised, with
# jemalloc) writes the same bytes as the sanitizer build.
. "$(dirname "$0")/lib.sh"
src=$(copy_site basic)
run_cb build -s "$src" -o "$TMP/a" -q -j 1
expect_rc 0
run_cb build -s "$src" -o "$TMP/b" -q -j 4
expect_rc 0
[ "$(tree_hash "$TMP/a")" = "$(tree_hash "$TMP/b")" ] || fail "outputs differ: $(diff -r "$TMP/a" "$TMP/b" | head -5)"
if [ -n "${CASEBOOK_RELEASE:-}" ]; then
	CASEBOOK=$CASEBOOK_RELEASE run_cb build -s "$src" -o "$TMP/c" -q
	expect_rc 0
	[ "$(tree_hash "$TMP/a")" = "$(tree_hash "$TMP/c")" ] ||
		fail "the release build's output differs: $(diff -r "$TMP/a" "$TMP/c" | head -5)"
else
	echo "t_build_deterministic: no release build (make casebook): its comparison skipped"
fi
