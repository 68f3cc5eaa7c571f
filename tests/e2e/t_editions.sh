# Editions and history from the command line. (Builds of git repositories
# with editions are tested in tests/unit/test_edition.c, on repositories made
# with libgit2.)
. "$(dirname "$0")/lib.sh"

# A source that is no git repository (a tarball): built alone, one warning.
src=$(copy_site basic)
run_cb build -s "$src"
expect_rc 0
contains "$ERR_ALL" "casebook: warning: the source is not in a git repository: building the working tree alone, without history or editions"
[ "$(printf '%s\n' "$ERR_ALL" | grep -c 'not in a git repository')" = 1 ] || fail "expected the warning once: $ERR_ALL"
absent "$src/site/editions"
absent "$src/site/changes.html"
file_lacks "$src/site/cases/alpha-watch.html" 'id="history"'
file_lacks "$src/site/cases/alpha-watch.html" 'edition-switcher'
# check needs no history: no warning there.
run_cb check -s "$src"
expect_rc 0
lacks "$ERR_ALL" "git repository"

# Bad editions settings are errors at their line, in check as in build.
printf 'editions:\n  tags: [1]\n  latest: tip\n  list: nope\n  wat: 1\n' >>"$src/casebook.yml"
run_cb check -s "$src"
expect_rc 1
contains "$ERR" 'casebook.yml:5:9: error: editions.tags must be a glob like "edition-*" (or false)'
contains "$ERR" "casebook.yml:6:11: error: editions.latest must be worktree or HEAD"
contains "$ERR" "casebook.yml:7:9: error: editions.list must be a list of {name, ref, date, note}"
contains "$ERR" "casebook.yml:8:3: warning: unknown key 'wat' in editions (it is ignored)"
# A date in another order is no date (it used to become the year 23).
sed -i '/^editions:/,$d' "$src/casebook.yml"
printf 'editions:\n  list:\n    - { name: "2026", ref: HEAD, date: 23-11-2026 }\n    - { name: "2027", ref: HEAD, date: 2027-1-5 }\n' >>"$src/casebook.yml"
run_cb check -s "$src"
expect_rc 1
contains "$ERR" "casebook.yml:6:40: error: an edition's date must be a date like 2025-06-01"
contains "$ERR" "casebook.yml:7:40: error: an edition's date must be a date like 2025-06-01"

# The shipped handbook, in its own repository: every case has its history
# (unless this checkout has no history to give: a shallow clone, a tarball).
run_cb build -s "$ROOT" -o "$TMP/hb" -q
expect_rc 0
case "$ERR_ALL" in
*"shallow clone"* | *"not in a git repository"*) ;;
*)
	file_contains "$TMP/hb/cases/age-uk-shared-lives.html" '<section class="history" id="history"'
	file_contains "$TMP/hb/cases/age-uk-shared-lives.html" 'Last updated <time datetime="'
	;;
esac

# Editions reused from the last build: their folders moved whole into the
# new site when it is swapped in, and the site the same as a build without
# the cache, again and again; an edition folder someone touched is built
# again. The repository (two tagged editions, 10 % of the cases changed in
# each) is made by the benchmark's maker.
if [ -x "$ROOT/build/bench/editions-repo" ]; then
	ed="$TMP/ed"
	sh "$ROOT/bench/gen-handbook" 40 "$ed" "$ROOT" >/dev/null 2>&1 || fail "gen-handbook"
	"$ROOT/build/bench/editions-repo" "$ed" 2 10 2>/dev/null || fail "editions-repo"
	run_cb build -s "$ed" -o "$TMP/ed-site" -q
	expect_rc 0
	exists "$TMP/ed-site/editions/1/index.html"
	inode=$(stat -c %i "$TMP/ed-site/editions/1/index.html")
	case1=$(ls "$ed"/content/cases/*.md | head -1)
	# same_as_clean WHAT: the site is byte for byte a build without the cache.
	same_as_clean() {
		rm -rf "$TMP/ed-clean"
		run_cb build -s "$ed" -o "$TMP/ed-clean" -q --no-cache
		expect_rc 0
		[ "$(tree_hash "$TMP/ed-site")" = "$(tree_hash "$TMP/ed-clean")" ] ||
			fail "$1 differ from a clean build: $(diff -r "$TMP/ed-site" "$TMP/ed-clean" | head -5)"
	}
	for round in 1 2; do
		printf '\nEdited in the working tree, round %s.\n' "$round" >>"$case1"
		run_cb build -s "$ed" -o "$TMP/ed-site" -v
		expect_rc 0
		contains "$ERR_ALL" "2 of 2 editions unchanged since the last build: their folders are taken from it"
		contains "$ERR_ALL" "taken from the last build:"
		[ "$(stat -c %i "$TMP/ed-site/editions/1/index.html")" = "$inode" ] ||
			fail "round $round: editions/1 was written again instead of taken from the last build"
		same_as_clean "round $round: editions taken from the last build"
	done
	# A file changed in one edition's folder, one added to the other's.
	echo "changed by hand" >"$TMP/ed-site/editions/1/index.html"
	echo "stray" >"$TMP/ed-site/editions/2/stray.html"
	printf '\nEdited in the working tree, round 3.\n' >>"$case1"
	run_cb build -s "$ed" -o "$TMP/ed-site" -v
	expect_rc 0
	lacks "$ERR_ALL" "unchanged since the last build"
	absent "$TMP/ed-site/editions/2/stray.html"
	same_as_clean "touched editions built again"
else
	echo "editions reused: skipped (no build/bench/editions-repo)"
fi
