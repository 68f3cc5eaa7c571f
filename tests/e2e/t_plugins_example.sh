# The example plugin of docs/plugins.md: the documented code is the tested
# code, and it does what the documentation says.
. "$(dirname "$0")/lib.sh"
src=$(copy_site plugin-example)
doc="$ROOT/docs/plugins.md"

# The code blocks in the documentation are the files of the example site.
awk '/<!-- example: tests\/sites\/plugin-example\/plugins\/reading.lua -->/ { want = 1; next }
     want && /^```lua$/ { on = 1; next }
     on && /^```$/ { exit }
     on { print }' "$doc" > "$TMP/doc.lua"
cmp "$TMP/doc.lua" "$SITES/plugin-example/plugins/reading.lua" >/dev/null ||
	fail "docs/plugins.md's example differs from tests/sites/plugin-example/plugins/reading.lua"
awk '/^```mustache$/ { on = 1; next } on && /^```$/ { exit } on { print }' "$doc" > "$TMP/doc.mustache"
cmp "$TMP/doc.mustache" "$SITES/plugin-example/themes/example/templates/reading.mustache" >/dev/null ||
	fail "docs/plugins.md's template differs from the example site's"

run_cb build -s "$src"
expect_rc 0
site="$src/site"
# The page, in reading order, in the navigation.
file_contains "$site/reading.html" '<li><a href="cases/short-note.html">A short note</a>: 1 min (10 words)</li>
<li><a href="cases/long-read.html">A long read</a>: 2 min (80 words)</li>'
file_contains "$site/index.html" '<a href="reading.html">Reading time</a>'
# The data file.
file_contains "$site/data/reading.json" '"title": "A short note",'
file_contains "$site/data/reading.json" '"minutes": 2,'
# The warning, at the first section's heading, with its hint.
contains "$ERR" 'content/cases/short-note.md:9:1: warning: only 10 words'
contains "$ERR" 'hint: is the case finished?'
# c:set values reach the case's template context: a theme can show them.
mkdir -p "$src/themes/example/templates"
sed 's|<h1 id="case-title">{{case.title}}</h1>|<h1 id="case-title">{{case.title}}</h1><p class="reading-time">{{case.reading.minutes}} min</p>|' \
	"$ROOT/themes/default/templates/case.mustache" > "$src/themes/example/templates/case.mustache"
run_cb build -s "$src" -q
file_contains "$site/cases/long-read.html" '<p class="reading-time">2 min</p>'
