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
