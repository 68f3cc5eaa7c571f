# classify: vocabulary pages, term pages, the matrix, charts, derived types,
# and unknown terms reported at the value with a suggestion.
. "$(dirname "$0")/lib.sh"
src=$(copy_site plugins)
run_cb build -s "$src" -q
expect_rc 0
[ -z "$ERR" ] || fail "warnings: $ERR"
site="$src/site"

# A page per vocabulary with its terms, definitions, citations and counts.
file_contains "$site/phase/index.html" '<h1 id="page-title">Phase</h1>'
file_contains "$site/phase/index.html" '<a href="../phase/co-delivery.html">Co-delivery</a> <span class="count">(3 cases)</span>'
file_contains "$site/phase/index.html" '<a href="../phase/co-commissioning.html">Co-commissioning</a> <span class="count">(1 case)</span>'
file_contains "$site/phase/index.html" '<p>Producing the service.</p><p class="citation">Source: Author (2012)</p>'
file_contains "$site/phase/index.html" '<li>Author, A. (2012). Phases. Journal.</li>'
file_contains "$site/phase/index.html" '5 of 5 cases have a term of this vocabulary'
# A page per term, listing its cases (by title), even when none has it.
file_contains "$site/phase/co-delivery.html" '<h1 id="page-title">Co-delivery</h1>'
file_contains "$site/phase/co-delivery.html" 'Cases <span class="count">(3 cases)</span>'
grep -o 'href="../cases/[a-z]*.html"' "$site/phase/co-delivery.html" | grep -v index | tr '\n' ' ' > "$TMP/order"
[ "$(cat "$TMP/order")" = 'href="../cases/watch.html" href="../cases/patrol.html" href="../cases/garden.html" ' ] ||
	fail "term page order: $(cat "$TMP/order")"
file_contains "$site/phase/co-delivery.html" '<span>Netherlands, Belgium</span> <span>2013–2016</span> <span>Public safety</span>'
file_contains "$site/level/individual.html" 'No case has this term yet.'
# The facts box links its terms to their pages now that they exist.
file_contains "$site/cases/watch.html" '<a href="../sector/public-safety.html">Public safety</a>'

# type is derived from task and phases (and marked), or left unknown.
file_contains "$site/cases/garden.html" '<a href="../type/core-design-implementation.html">Core design and implementation</a> <span class="derived"'
file_contains "$site/cases/school.html" '<a href="../type/cocreation-core.html">Co-creation, core</a> <span class="derived"'
file_lacks "$site/cases/clinic.html" '../type/'   # co-design and co-assessment only: no rule applies
file_lacks "$site/cases/watch.html" '../type/'    # no task
file_contains "$site/type/core-design-implementation.html" 'Gamma community garden</a> <span class="derived"'

# The matrix: every count links to a page of its cases; totals per row and column.
file_contains "$site/matrix.html" '<h2 id="phase-level-title">Phase × Level</h2>'
file_contains "$site/matrix.html" '<a href="matrix/phase-co-delivery--level-group.html" title="Co-delivery × Group">2</a>'
file_contains "$site/matrix.html" '<span class="zero">0</span>'
file_contains "$site/matrix.html" '<a href="sector/public-safety.html">Public safety</a></th><td><span class="zero">0</span></td><td><span class="zero">0</span></td><td><a href="matrix/sector-public-safety--phase-co-delivery.html" title="Public safety × Co-delivery">2</a></td><td><span class="zero">0</span></td><td class="total">2</td>'
file_contains "$site/matrix/phase-co-delivery--level-group.html" 'Alpha neighbourhood watch'
file_contains "$site/matrix/phase-co-delivery--level-group.html" 'Delta street patrol'
file_lacks "$site/matrix/phase-co-delivery--level-group.html" 'Gamma community garden'
absent "$site/matrix/phase-co-assessment--level-collective.html"

# Charts: on the home page (sector, phase, level, country), the matrix and
# every vocabulary page; accessible SVG with title, desc and visible values.
[ "$(grep -c '<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img"' "$site/index.html")" = 4 ] ||
	fail "expected 4 charts on the home page"
file_contains "$site/index.html" '<title id="chart-home-phase-title">Cases per phase</title>'
file_contains "$site/index.html" 'aria-labelledby="chart-home-phase-title chart-home-phase-desc"'
file_contains "$site/index.html" '<desc id="chart-home-phase-desc">Co-commissioning: 1 case; Co-design: 2 cases; Co-delivery: 3 cases; Co-assessment: 1 case.</desc>'
file_contains "$site/index.html" '<desc id="chart-country-desc">Netherlands: 3 cases; Belgium: 2 cases; United Kingdom: 1 case.</desc>'
file_contains "$site/index.html" 'fill="#1d2327">Co-delivery</text>'
file_contains "$site/matrix.html" 'role="img"'
file_contains "$site/sector/index.html" '<title id="chart-sector-title">Cases per sector</title>'
# Every chart is well-formed XML.
n=0
for page in index.html matrix.html sector/index.html; do
	perl -0ne 'my $i = 0; while (/(<svg.*?<\/svg>)/sg) { open(my $f, ">", "$ARGV.chart" . $i++) or die; print $f $1; }' "$site/$page"
done
for f in "$site"/*.chart* "$site"/*/*.chart*; do
	xmllint --noout "$f" || fail "not well-formed: $f"
	n=$((n + 1))
	rm "$f"
done
[ $n = 8 ] || fail "expected 8 charts (home 4, matrix 3, sector 1), found $n"

# Navigation: Lessons, Matrix, Vocabularies; the vocabularies page lists all.
file_contains "$site/index.html" '<li><a href="lessons.html">Lessons</a></li><li><a href="matrix.html">Matrix</a></li><li><a href="vocabularies.html">Vocabularies</a></li>'
file_contains "$site/vocabularies.html" '<a href="phase/index.html">Phase</a>'
file_contains "$site/vocabularies.html" '<a href="lesson-theme/index.html">Lesson themes</a>'

# The same source gives the same site, whatever the number of threads.
run_cb build -s "$src" -o "$TMP/one" -q -j 1
run_cb build -s "$src" -o "$TMP/four" -q -j 4
[ "$(tree_hash "$TMP/one")" = "$(tree_hash "$TMP/four")" ] || fail "the site depends on the number of threads"
[ "$(tree_hash "$TMP/one")" = "$(tree_hash "$site")" ] || fail "two builds of the same source differ"

# Unknown terms: an error at the value (list item or scalar), with a suggestion.
sed -i 's/phases: \[co-delivery\]/phases: [co-deliverry]/' "$src/content/cases/patrol.md"
sed -i 's/^level: collective/level: colective/' "$src/content/cases/school.md"
sed -i 's/^sector: health/sector: helth/' "$src/content/cases/clinic.md"
sed -i 's/^task: core/task: center/' "$src/content/cases/garden.md"
run_cb build -s "$src"
expect_rc 1
contains "$ERR" "content/cases/patrol.md:7:10: error: unknown phase 'co-deliverry'; did you mean 'co-delivery'?"
contains "$ERR" "hint: phases takes terms of content/taxonomies/phase.yml: co-commissioning, co-design, co-delivery, co-assessment"
contains "$ERR" "content/cases/school.md:7:8: error: unknown level 'colective'; did you mean 'collective'?"
contains "$ERR" "content/cases/clinic.md:5:9: error: unknown sector 'helth'; did you mean 'health'?"
contains "$ERR" "content/cases/garden.md:7:7: error: unknown task 'center'"
lacks "$ERR" "unknown task 'center'; did you mean"
# check reports the same without writing anything.
run_cb check -s "$src"
expect_rc 1
contains "$ERR" "content/cases/patrol.md:7:10: error: unknown phase 'co-deliverry'"

# Settings that cannot be used, each at the value in casebook.yml.
src=$(copy_site plugins)
printf 'title: "Plugin handbook"\nplugins: [classify, crosslink, lessons]\nclassify:\n  matrix: [[phase, level], [phase, levl]]\n  charts:\n    - sector\n    - nope\n' > "$src/casebook.yml"
run_cb check -s "$src"
expect_rc 1
contains "$ERR" "casebook.yml:4:28: error: classify.matrix: phase × levl: both must be vocabularies that classify a field"
contains "$ERR" "casebook.yml:7:7: error: classify.charts: no vocabulary 'nope'"
