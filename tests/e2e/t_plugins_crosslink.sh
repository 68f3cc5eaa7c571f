# crosslink: related cases (weighted, deterministic), backlinks, and links to
# missing cases, pages or headings reported at file:line:col.
. "$(dirname "$0")/lib.sh"
src=$(copy_site plugins)
run_cb build -s "$src" -q
expect_rc 0
site="$src/site"

# Related: weights from casebook.yml (sector 3, phase 2, tags 2, level 1),
# at most `max: 3`, never the case itself, best first.
related() { sed -n '/id="related"/,/<\/section>/p' "$site/cases/$1.html" | grep -o 'href="[^"]*"' | tr '\n' ' '; }
[ "$(related watch)" = 'href="../cases/patrol.html" href="../cases/garden.html" href="../cases/clinic.html" ' ] ||
	fail "related of watch: $(related watch)"
file_contains "$site/cases/watch.html" '<a href="../cases/patrol.html">Delta street patrol</a> <span class="reason">shares Public safety, Co-delivery, police, Group</span>'
# Ties (Alpha and Delta both share only Group with Beta) are broken by title.
[ "$(related clinic)" = 'href="../cases/garden.html" href="../cases/watch.html" href="../cases/patrol.html" ' ] ||
	fail "related of clinic: $(related clinic)"
file_lacks "$site/cases/school.html" 'id="related"'   # shares nothing weighted
# Backlinks: cases that link here, by title.
file_contains "$site/cases/watch.html" '<h2 id="backlinks-title">Cases that link here</h2>
<ul class="link-list"><li><a href="../cases/clinic.html">Beta client council</a></li></ul>'
file_contains "$site/cases/clinic.html" '<li><a href="../cases/watch.html">Alpha neighbourhood watch</a></li>'
file_lacks "$site/cases/garden.html" 'id="backlinks"'

# The same source gives the same related lists whatever the weights' order.
printf 'title: "Plugin handbook"\nplugins: [classify, crosslink, lessons]\ncrosslink:\n  max: 3\n  weights: {type: 0, level: 1, tags: 2, phase: 2, sector: 3}\n' > "$src/casebook.yml"
run_cb build -s "$src" -o "$TMP/again" -q
expect_rc 0
cmp "$site/cases/clinic.html" "$TMP/again/cases/clinic.html" >/dev/null || fail "related lists depend on the order of the weights"

# Broken links from cases and free pages: errors at the link, with suggestions.
cat >> "$src/content/cases/garden.md" <<'MD'

## See also

See [the watch](wach.md), its [lessons](watch.md#lesson), [its context](watch.md#contxt),
[this](#nowhere) and [about](../pages/abuot.md).
MD
cat >> "$src/content/pages/about.md" <<'MD'

And the [patrol](../cases/patroll.md#context).
MD
run_cb build -s "$src"
expect_rc 1
contains "$ERR" "content/cases/garden.md:21:5: error: link to a missing case 'wach.md' (content/cases/wach.md); did you mean 'watch.md'?"
contains "$ERR" "content/cases/garden.md:21:31: error: no heading '#lesson' in content/cases/watch.md; did you mean '#lessons'?"
contains "$ERR" "content/cases/garden.md:21:59: error: no heading '#contxt' in content/cases/watch.md; did you mean '#context'?"
contains "$ERR" "content/cases/garden.md:22:1: error: no heading '#nowhere' in content/cases/garden.md"
contains "$ERR" "content/cases/garden.md:22:22: error: link to a missing page '../pages/abuot.md' (content/pages/abuot.md)"
contains "$ERR" "content/pages/about.md:8:9: error: link to a missing case '../cases/patroll.md#context' (content/cases/patroll.md); did you mean 'patrol.md'?"
lacks "$ERR" ": warning:"
# A link to the lessons heading: the lessons plugin moves that section into
# <section id="lessons">, so its old id is gone from the page and the link is
# reported; #lessons and a lesson's id are fine.
id=$(grep -o 'lesson-recruit-through-[a-z0-9-]*' "$site/cases/watch.html" | head -1)
[ -n "$id" ] || fail "no lesson id on the watch page"
src=$(copy_site plugins)
printf '\n## See also\n\n[a](watch.md#lessons) [b](watch.md#%s) [c](watch.md#lessons-for-practice)\n' "$id" >> "$src/content/cases/garden.md"
run_cb build -s "$src"
expect_rc 1
contains "$ERR" "content/cases/garden.md:21:92: error: no heading '#lessons-for-practice' in content/cases/watch.md; did you mean '#lessons'?"
[ "$(printf '%s\n' "$ERR" | grep -c 'error:')" = 1 ] || fail "expected one error: $ERR"

# Settings that cannot be used, each at the value in casebook.yml (a misspelt name at the name).
src=$(copy_site plugins)
printf 'title: "Plugin handbook"\nplugins: [classify, crosslink, lessons]\ncrosslink:\n  weights: {sector: 3, sectr: 2,\n            phase: -1}\n' > "$src/casebook.yml"
run_cb check -s "$src"
expect_rc 1
contains "$ERR" "casebook.yml:4:24: error: crosslink.weights: 'sectr' is neither a vocabulary nor 'tags'; did you mean 'sector'?"
contains "$ERR" "casebook.yml:5:20: error: crosslink.weights.phase must be a number of at least 0"
printf 'title: "Plugin handbook"\nplugins: [classify, crosslink, lessons]\ncrosslink:\n  weights: [sector]\n' > "$src/casebook.yml"
run_cb check -s "$src"
expect_rc 1
contains "$ERR" "casebook.yml:4:12: error: crosslink.weights must be a map (name: weight)"
printf 'title: "Plugin handbook"\nplugins: [classify, crosslink, lessons]\ncrosslink:\n  max: 5000\n  min_score: lots\n  maxx: 3\n' > "$src/casebook.yml"
run_cb check -s "$src"
expect_rc 1
contains "$ERR" "casebook.yml:4:8: error: crosslink.max must be a whole number from 1 to 1000 (related cases per case)"
contains "$ERR" "casebook.yml:5:14: error: crosslink.min_score must be a number of at least 0"
contains "$ERR" "casebook.yml:6:3: warning: unknown crosslink setting 'maxx' (it is ignored); did you mean 'max'?"
lacks "$ERR" "rank_all"
for bad in 0 2.5 '"5"'; do
	printf 'title: "Plugin handbook"\nplugins: [classify, crosslink, lessons]\ncrosslink:\n  max: %s\n' "$bad" > "$src/casebook.yml"
	run_cb check -s "$src"
	expect_rc 1
	contains "$ERR" "casebook.yml:4:8: error: crosslink.max must be a whole number from 1 to 1000"
done
