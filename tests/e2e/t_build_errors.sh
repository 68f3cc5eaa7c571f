# Bad input: every problem reported at file:line:col in one run; the
# previous site is left byte for byte; no temporary folder is left behind.
. "$(dirname "$0")/lib.sh"
src=$(copy_site basic)
run_cb build -s "$src" -q
expect_rc 0
before=$(tree_hash "$src/site")
cases="$src/content/cases"
printf -- '---\ntitle: [a, b]\ncountry: Peru\nyear: 2010\nsector: health\nsources: [x]\n---\n\nBody\n' > "$cases/wrong-type.md"
printf -- '---\ntitle: "No country"\nyear: 2010\nsector: health\nsources: [x]\n---\n' > "$cases/missing-field.md"
printf -- '---\ntitle: "Open"\nyear: 2010\n\nBody without a closing fence\n' > "$cases/unterminated.md"
printf -- '---\n- a\n- b\n---\n' > "$cases/not-a-map.md"
printf -- '---\ntitle: "Bad \377 byte"\n---\n' > "$cases/bad-utf8.md"
printf -- '---\ntitle: "Nul"\n---\nA\0B\n' > "$cases/nul-byte.md"
printf -- '---\ntitle: "Yaml"\ncountry: [unclosed\n---\n' > "$cases/yaml-error.md"
printf -- '---\ntitle: "Years"\ncountry: Peru\nyear: 2010\nend_year: 2001\nsector: health\nsources: [x]\n---\n' > "$cases/years.md"
printf -- '---\ntitle: "x"\n---\n' > "$cases/Bad_Name.md"
ln -s ../../../basic/content/cases/beta-clinic.md "$cases/linked.md"
run_cb build -s "$src"
expect_rc 1
contains "$ERR" 'content/cases/wrong-type.md:2:8: error: title must be a string, not a list'
contains "$ERR" "content/cases/missing-field.md:1:1: error: missing required field 'country'"
contains "$ERR" 'content/cases/unterminated.md:1:1: error: the front matter is not closed'
contains "$ERR" 'content/cases/not-a-map.md:2:1: error: the front matter must be a mapping of fields, not a list'
contains "$ERR" 'content/cases/bad-utf8.md:2:13: error: the file is not valid UTF-8'
contains "$ERR" 'content/cases/nul-byte.md:4:2: error: the file contains a NUL byte'
contains "$ERR" "content/cases/yaml-error.md:3:10: error: this list opened with '[' is not closed"
lacks "$ERR" "yaml-error.md:1:1: error: missing required field"
contains "$ERR" 'content/cases/years.md:5:11: error: end_year 2001 is before year 2010'
contains "$ERR" 'content/cases/Bad_Name.md: error: case file names may only use a-z, 0-9'
contains "$ERR" 'hint: rename it to bad-name.md'
contains "$ERR" 'content/cases/linked.md: error: case files must be regular files, not symbolic links'
contains "$ERR" 'the previous site is unchanged'
[ "$(tree_hash "$src/site")" = "$before" ] || fail "the previous site changed"
[ -z "$(ls -A "$src" | grep '\.tmp-')" ] || fail "temporary folder left: $(ls -A "$src")"
# A template error fails the build the same way.
rm -f "$cases"/wrong-type.md "$cases"/missing-field.md "$cases"/unterminated.md "$cases"/not-a-map.md \
	"$cases"/bad-utf8.md "$cases"/nul-byte.md "$cases"/yaml-error.md "$cases"/years.md "$cases"/Bad_Name.md "$cases"/linked.md
mkdir -p "$src/themes/broken/templates"
printf '{{#case}}unclosed\n' > "$src/themes/broken/templates/case.mustache"
printf 'theme: broken\n' >> "$src/casebook.yml"
run_cb build -s "$src"
expect_rc 1
contains "$ERR" 'themes/broken/templates/case.mustache:1:'
[ "$(tree_hash "$src/site")" = "$before" ] || fail "the previous site changed after a template error"
# A broken template is reported once, not once per page that uses it.
[ "$(printf '%s\n' "$ERR" | grep -c 'case.mustache:1:')" = 1 ] ||
	fail "the template error is repeated: $(printf '%s\n' "$ERR" | grep 'case.mustache:1:')"
# A theme that does not exist is named at its line of casebook.yml.
sed -i 's/^theme: broken$/theme: nosuch/' "$src/casebook.yml"
run_cb build -s "$src"
expect_rc 1
line=$(grep -n '^theme: nosuch$' "$src/casebook.yml" | cut -d: -f1)
contains "$ERR" "casebook.yml:$line:8: error: theme 'nosuch' not found"
