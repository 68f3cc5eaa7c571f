# `make install PREFIX=...` installs a binary that builds a handbook with the
# installed default theme, and the man page.
. "$(dirname "$0")/lib.sh"
prefix="$TMP/prefix"
make -s -C "$ROOT" install PREFIX="$prefix" >/dev/null || fail "make install failed"
exists "$prefix/bin/casebook"
exists "$prefix/share/casebook/themes/default/templates/case.mustache"
exists "$prefix/share/man/man1/casebook.1"
# A handbook with only casebook.yml and content/cases/ builds with the installed theme.
mkdir -p "$TMP/hb/content/cases"
printf 'title: "Tiny"\n' > "$TMP/hb/casebook.yml"
printf -- '---\ntitle: "One"\ncountry: Chile\nyear: 2020\nsector: water\nsources: ["S. (2020)."]\n---\n\n## Context\n\nText.\n\n## Lessons for practice\n\n- A lesson.\n' > "$TMP/hb/content/cases/one.md"
cd "$TMP/hb" && "$prefix/bin/casebook" build -q >"$TMP/out" 2>&1 || fail "installed casebook failed: $(cat "$TMP/out")"
file_contains "$TMP/hb/site/cases/one.html" '<h1 id="case-title">One</h1>'
exists "$TMP/hb/site/assets/style.css"
# casebook new finds the installed archetype.
exists "$prefix/share/casebook/archetypes/case.md"
cd "$TMP/hb" && "$prefix/bin/casebook" new "Two" >"$TMP/out" 2>&1 || fail "installed casebook new failed: $(cat "$TMP/out")"
file_contains "$TMP/hb/content/cases/two.md" '# title (required): the name of the initiative'
