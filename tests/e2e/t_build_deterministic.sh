# The same source builds byte-identical output, whatever the thread count.
. "$(dirname "$0")/lib.sh"
src=$(copy_site basic)
run_cb build -s "$src" -o "$TMP/a" -q -j 1
expect_rc 0
run_cb build -s "$src" -o "$TMP/b" -q -j 4
expect_rc 0
[ "$(tree_hash "$TMP/a")" = "$(tree_hash "$TMP/b")" ] || fail "outputs differ: $(diff -r "$TMP/a" "$TMP/b" | head -5)"
