# The build cache (SOURCE/.casebook-cache): a rebuild with nothing changed
# writes nothing and repeats what the last build reported; after any change
# (a case, a plugin, a template, the configuration, a deleted case, a file
# of the site touched) the site is byte for byte what a build without the
# cache makes; a corrupt, truncated or foreign cache is ignored; --no-cache
# neither reads nor writes it.
. "$(dirname "$0")/lib.sh"
src=$(copy_site plugins)
site="$TMP/site"
cache="$src/.casebook-cache/build.cache"

# same_as_clean WHAT: the site equals a build of the same source without the cache.
same_as_clean() {
	run_cb build -s "$src" -o "$TMP/clean" -q --no-cache
	expect_rc 0
	[ "$(tree_hash "$site")" = "$(tree_hash "$TMP/clean")" ] ||
		fail "$1: the site differs from a clean build: $(diff -r "$site" "$TMP/clean" | head -5)"
	rm -rf "$TMP/clean"
}
# build_site: build with the cache, -v (so the up-to-date note shows).
build_site() {
	run_cb build -s "$src" -o "$site" -v
	expect_rc 0
}
up_to_date() { contains "$ERR_ALL" "nothing changed since the last build"; }
rebuilt() { lacks "$ERR_ALL" "nothing changed since the last build"; }
stamp() { stat -c '%i %y' "$1"; }

build_site
rebuilt
exists "$cache"
[ "$(head -1 "$cache")" = "casebook-cache 2" ] || fail "cache format: $(head -1 "$cache")"
same_as_clean "first build"

# Nothing changed: nothing written, the same summary and warnings.
before=$(stamp "$site/index.html")
first_err=$(printf '%s\n' "$ERR_ALL" | grep -v -e 'note:' -e 'casebook: [0-9]')
build_site
up_to_date
contains "$ERR_ALL" "(up to date: nothing changed)"
[ "$(stamp "$site/index.html")" = "$before" ] || fail "an up-to-date rebuild rewrote index.html"
again_err=$(printf '%s\n' "$ERR_ALL" | grep -v -e 'note:' -e 'casebook: [0-9]')
[ "$first_err" = "$again_err" ] || fail "diagnostics differ: '$first_err' vs '$again_err'"

# A case changed.
sed -i 's/^Neighbours plan and tend a garden./& A sentence added for the cache test./' "$src/content/cases/garden.md"
build_site
rebuilt
file_contains "$site/cases/garden.html" "A sentence added for the cache test."
same_as_clean "a case changed"
build_site
up_to_date

# A plugin changed (a copy of lessons in the handbook overrides the installed one).
mkdir -p "$src/plugins"
cp "$ROOT/plugins/lessons.lua" "$src/plugins/lessons.lua"
build_site
rebuilt
same_as_clean "a plugin added"
sed -i 's/nav = "Lessons"/nav = "Lessons learnt"/' "$src/plugins/lessons.lua"
build_site
rebuilt
file_contains "$site/index.html" "Lessons learnt"
same_as_clean "a plugin changed"

# A template changed (the handbook's own copy overrides the theme's).
mkdir -p "$src/themes/default/templates"
sed 's|</article>|<p class="cache-test">cache test</p></article>|' \
	"$ROOT/themes/default/templates/case.mustache" >"$src/themes/default/templates/case.mustache"
build_site
rebuilt
file_contains "$site/cases/garden.html" "cache-test"
same_as_clean "a template changed"

# The configuration changed.
sed -i 's/^title: .*/title: "Plugin handbook, second title"/' "$src/casebook.yml"
build_site
rebuilt
file_contains "$site/index.html" "Plugin handbook, second title"
same_as_clean "the configuration changed"

# A case deleted (no other case links to it).
grep -l 'patrol.md' "$src"/content/cases/*.md "$src"/content/pages/*.md >/dev/null 2>&1 &&
	fail "a case links to patrol.md: pick another case to delete"
rm "$src/content/cases/patrol.md"
build_site
rebuilt
absent "$site/cases/patrol.html"
same_as_clean "a case deleted"

# A file of the site touched, added or removed: rebuilt.
build_site
up_to_date
echo "edited by hand" >>"$site/about.html"
build_site
rebuilt
same_as_clean "a page of the site edited"
echo "stray" >"$site/stray.txt"
build_site
rebuilt
absent "$site/stray.txt"
rm "$site/cases/garden.html"
build_site
rebuilt
same_as_clean "a page of the site removed"

# Another output folder is another build.
run_cb build -s "$src" -o "$TMP/other" -v
expect_rc 0
rebuilt
build_site
rebuilt

# A corrupt, truncated or foreign cache is ignored and replaced.
build_site
up_to_date
head -c 300 /dev/urandom >"$cache"
build_site
rebuilt
same_as_clean "after a corrupt cache"
[ "$(head -1 "$cache")" = "casebook-cache 2" ] || fail "the corrupt cache was not replaced"
build_site
up_to_date
sed -i '$d' "$cache" # no `end`: truncated
build_site
rebuilt
sed -i '1s/.*/casebook-cache 99/' "$cache"
build_site
rebuilt
same_as_clean "after a foreign cache"
build_site
up_to_date
sed -i '$d' "$cache"
printf 'bogus\trecord\nend\n' >>"$cache" # a record casebook does not know
build_site
rebuilt

# --no-cache: builds although nothing changed, and leaves the cache alone.
build_site
up_to_date
cache_before=$(stamp "$cache")
run_cb build -s "$src" -o "$site" -v --no-cache
expect_rc 0
rebuilt
[ "$(stamp "$cache")" = "$cache_before" ] || fail "--no-cache wrote the cache"
# ... and the next build with the cache sees the site it does not know.
build_site
rebuilt
same_as_clean "after --no-cache"
run_cb help build
contains "$OUT" "--no-cache"
