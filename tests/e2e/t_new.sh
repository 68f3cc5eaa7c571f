# casebook new: a case from the archetype; check points at every placeholder
# left and passes once they are replaced; nothing is ever overwritten; the
# values given are checked; the archetype is the source's, the theme's or
# the installed one.
. "$(dirname "$0")/lib.sh"
src="$TMP/hb"
cp -R "$ROOT/tests/check/base" "$src"
slug=parents-run-school-meals-in-milan
case="$src/content/cases/$slug.md"

run_cb new -s "$src" "Parents run school meals in Milan" --country italy --sector Education --year 2014
expect_rc 0
[ "$OUT" = "$src/content/cases/$slug.md" ] || fail "new printed '$OUT'"
contains "$ERR" "casebook check -s $src content/cases/$slug.md"
exists "$case"
file_contains "$case" 'title: "Parents run school meals in Milan"'
file_contains "$case" 'country: "italy"'
contains "$ERR" "casebook: warning: 'italy' starts with a small letter; did you mean 'Italy'?"
file_contains "$case" 'sector: education'
file_contains "$case" 'year: 2014'
# Every field and section is explained in comments; the vocabulary's terms are listed.
file_contains "$case" '# title (required): the name of the initiative'
file_contains "$case" '# health, education, public-safety'
file_contains "$case" '<!-- Two to five lessons, one list item each'
file_contains "$case" "casebook check content/cases/$slug.md"

# check points at each placeholder: every line with TODO outside a comment.
run_cb check -s "$src" "content/cases/$slug.md"
expect_rc 1
want=$(grep -n 'TODO' "$case" | grep -v '^[0-9]*:#' | awk -F: '{
	line = $1; text = substr($0, length($1) + 2); print line ":" index(text, "TODO") }')
[ "$(echo "$want" | wc -l)" -ge 12 ] || fail "the archetype has too few placeholders: $want"
for pos in $want; do
	contains "$ERR" "content/cases/$slug.md:$pos: error: "
done
[ "$(printf '%s\n' "$ERR" | grep -c ': error: ')" = "$(echo "$want" | wc -l)" ] ||
	fail "expected one error per placeholder ($want), got: $ERR"
contains "$ERR" "content/cases/$slug.md:14:11: error: summary still holds a placeholder"
lacks "$ERR" "year must be"
# ... and build refuses to publish them.
run_cb build -s "$src" -o "$TMP/site"
expect_rc 1
absent "$TMP/site"

# Replace them (and delete the optional fields the source is silent on).
sed -i \
	-e 's/^summary: .*/summary: "Parents plan and check the school meals of their children."/' \
	-e 's/^phases: \[TODO\]/phases: [co-design, co-assessment]/' \
	-e '/^level: TODO/d' -e '/^initiator: TODO/d' -e '/^role: TODO/d' \
	-e 's/^tags: \[TODO\]/tags: [school meals]/' \
	-e 's/"TODO: Author.*"/"Rossi, M. (2014). School meals in Milan. Milan: Publisher."/' \
	-e 's/^TODO: .*/Parents of pupils sit on a committee that tastes the meals./' \
	-e 's/^- TODO: .*/- Let parents taste what their children eat./' \
	"$case"
run_cb check -s "$src" "content/cases/$slug.md"
expect_rc 0
lacks "$ERR" ": error:"
lacks "$ERR" ": warning:"
run_cb build -s "$src" -o "$TMP/site" -q
expect_rc 0
file_contains "$TMP/site/cases/$slug.html" 'Parents run school meals in Milan'
file_lacks "$TMP/site/cases/$slug.html" 'Two to five lessons'

# Never overwrite: the same title, the same file name.
before=$(sha256sum "$case")
run_cb new -s "$src" "Parents run school meals in Milan"
expect_rc 1
contains "$ERR" "content/cases/$slug.md already has the title"
run_cb new -s "$src" "PARENTS run school meals, in Milan!" --slug milan-meals
expect_rc 1
run_cb new -s "$src" "Another title" --slug "$slug"
expect_rc 1
contains "$ERR" "content/cases/$slug.md: error: the case already exists"
[ "$(sha256sum "$case")" = "$before" ] || fail "new changed an existing case"

# The values given are checked, all of them at once; nothing is written.
run_cb new -s "$src" "Bad values" --year 1750 --sector helth
expect_rc 2
contains "$ERR" 'casebook: error: year 1750 is out of range (1800 to 2100)'
contains "$ERR" "casebook: error: unknown sector 'helth'"
contains "$ERR" "hint: did you mean 'health'?"
absent "$src/content/cases/bad-values.md"
run_cb new -s "$src" "Bad year" --year 20x4
expect_rc 2
contains "$ERR" "--year must be a whole year, not '20x4'"
run_cb new -s "$src" "Nowhere" --sector "road-works"
expect_rc 2
contains "$ERR" 'hint: the sectors (content/taxonomies/sector.yml): health, education, public-safety'
run_cb new -s "$src" "   "
expect_rc 2
contains "$ERR" 'the title is empty'
run_cb new -s "$src" "!!!"
expect_rc 2
contains "$ERR" 'no letters a-z or digits'
# Case file names take a-z, 0-9 and '-' only: other letters are left out of
# them (a title of none but those is an error), not written as they are.
run_cb new -s "$src" "北京 社区"
expect_rc 2
contains "$ERR" 'the title has no letters a-z or digits to make a file name from'
run_cb new -s "$src" "Café in 北京 2020"
expect_rc 0
exists "$src/content/cases/cafe-in-2020.md"
file_contains "$src/content/cases/cafe-in-2020.md" 'title: "Café in 北京 2020"'
rm "$src/content/cases/cafe-in-2020.md"
run_cb new -s "$src" "Bad slug" --slug "Bad Slug"
expect_rc 2
contains "$ERR" "hint: --slug bad-slug"
run_cb new -s "$src" "Index" --slug index
expect_rc 2
run_cb new -s "$src"
expect_rc 2
contains "$ERR" "give the case's title"
run_cb new -s "$TMP/no-such-folder" "A title"
expect_rc 2
mkdir "$TMP/not-a-handbook"
run_cb new -s "$TMP/not-a-handbook" "A title"
expect_rc 2
contains "$ERR" 'casebook.yml'

# Labels and several values; the spelling of other cases; a near miss warns.
run_cb new -s "$src" "Two sectors" --sector "Public safety, health" --country "netherlands, Belgium"
expect_rc 0
file_contains "$src/content/cases/two-sectors.md" 'sector: [public-safety, health]'
file_contains "$src/content/cases/two-sectors.md" 'country: ["Netherlands", "Belgium"]'
run_cb new -s "$src" "Near miss" --country Netherland
expect_rc 0
contains "$ERR" "casebook: warning: no other case is in 'Netherland'; did you mean 'Netherlands'?"
# Long titles make slugs cut at a word.
run_cb new -s "$src" "A very long title about citizens and professionals who together run the public library of a small town"
expect_rc 0
[ "$OUT" = "$src/content/cases/a-very-long-title-about-citizens-and-professionals-who.md" ] || fail "long slug: $OUT"

# The archetype: the theme's when the source has none, the source's first.
mkdir -p "$src/themes/default/archetypes"
printf -- '---\ntitle: {{{title}}}\n# from the theme\n---\n' >"$src/themes/default/archetypes/case.md"
run_cb new -s "$src" "From the theme"
expect_rc 0
file_contains "$src/content/cases/from-the-theme.md" '# from the theme'
mkdir -p "$src/archetypes"
printf -- '---\ntitle: {{{title}}}\nslug: {{slug}}\n---\n' >"$src/archetypes/case.md"
run_cb new -s "$src" "From the source"
expect_rc 0
file_contains "$src/content/cases/from-the-source.md" 'slug: from-the-source'
printf -- '---\ntitle: {{#title}}\n---\n' >"$src/archetypes/case.md"
run_cb new -s "$src" "Broken archetype"
expect_rc 2
contains "$ERR" 'archetypes/case.md:2:8: error:'
absent "$src/content/cases/broken-archetype.md"

run_cb help new
expect_rc 0
contains "$OUT" '--country X'
contains "$OUT" 'never overwritten'

# In the shipped handbook, which runs the plugins: still exactly one error per
# placeholder (classify leaves a TODO term to the placeholder check).
if [ -f "$ROOT/plugins/classify.lua" ]; then
	hb="$TMP/shipped"
	mkdir "$hb"
	cp -R "$ROOT/casebook.yml" "$ROOT/content" "$hb/"
	run_cb new -s "$hb" "A new case of the handbook" --sector health
	expect_rc 0
	new="$hb/content/cases/a-new-case-of-the-handbook.md"
	run_cb check -s "$hb" content/cases/a-new-case-of-the-handbook.md
	expect_rc 1
	n=$(grep 'TODO' "$new" | grep -c -v '^#')
	[ "$(printf '%s\n' "$ERR" | grep -c ': error: ')" = "$n" ] || fail "expected $n errors, one per placeholder: $ERR"
	printf '%s\n' "$ERR" | grep ': error: ' | grep -v -q 'placeholder' && fail "an error that is not a placeholder: $ERR"
	file_contains "$new" '# health, social-care, education'
fi
