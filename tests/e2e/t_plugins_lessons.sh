# lessons: lessons on the case page with stable ids, lessons.html grouped by
# theme, the lesson-theme page, data/lessons.json; markers and keyword rules.
. "$(dirname "$0")/lib.sh"
src=$(copy_site plugins)
run_cb build -s "$src" -q
expect_rc 0
site="$src/site"
watch="$site/cases/watch.html"

# On the case page: <section id="lessons"> with an anchor per lesson; the
# marker is gone from the text; the heading's own section left the body.
file_contains "$watch" '<section class="lessons" id="lessons"'
file_lacks "$watch" '<h2 id="lessons-for-practice">'
file_lacks "$watch" '[theme:'
file_contains "$watch" '<li><a href="#lessons">Lessons for practice</a></li>'
file_lacks "$watch" 'href="#lessons-for-practice"'
rid=$(grep -o 'id="lesson-recruit-through-people-residents-already-[0-9a-f]\{6\}"' "$watch" | sed 's/id="//; s/"//')
[ -n "$rid" ] || fail "no stable id for the first lesson"
file_contains "$watch" "<li id=\"$rid\" class=\"lesson\"><div class=\"lesson-text\">Recruit through people residents already know.</div><p class=\"lesson-theme\">Theme: <a href=\"../lessons.html#theme-recruitment\">Recruitment</a></p> <a class=\"anchor\" href=\"#$rid\""
# A lesson without a marker is themed by the keyword rules ("Train" -> process), marked.
file_contains "$watch" 'Train the volunteers before they go out.</div><p class="lesson-theme">Theme: <a href="../lessons.html#theme-process">Process</a> <span class="derived"'
# No marker and no keyword: unthemed, but shown.
file_contains "$watch" 'Celebrate small wins together.</div> <a class="anchor"'

# lessons.html: grouped by theme with counts, each lesson linking to its anchor.
L="$site/lessons.html"
file_contains "$L" '7 lessons drawn from the cases'
file_contains "$L" '<li><a href="#theme-process">Process</a> <span class="count">(2)</span></li>'
file_contains "$L" '<li><a href="#unthemed">Unthemed</a> <span class="count">(1)</span></li>'
file_contains "$L" '<section class="lesson-group" id="theme-recruitment" aria-labelledby="theme-recruitment-title">'
file_contains "$L" "<p class=\"lesson-text\">Recruit through people residents already know.</p><p class=\"lesson-source\"><a href=\"cases/watch.html#$rid\">Alpha neighbourhood watch</a></p>"
file_contains "$L" 'Put the next step on the agenda of every meeting.</p><p class="lesson-source"><a href="cases/garden.html#lesson-put-the-next-step-on-'
file_contains "$L" '(theme by keywords)'
sed -n '/id="unthemed"/,/<\/section>/p' "$L" | grep -q 'Celebrate small wins together.' || fail "unthemed lesson not listed"
# The lesson-theme vocabulary page: themes, definitions, counts, links to the groups.
file_contains "$site/lesson-theme/index.html" '<a href="../lessons.html#theme-process">Process</a> <span class="count">(2 lessons)</span>'
file_contains "$site/lesson-theme/index.html" '<a href="../lessons.html#theme-trust">Trust</a> <span class="count">(3 lessons)</span>'
file_contains "$site/lesson-theme/index.html" '6 of 7 lessons have a theme'

# data/lessons.json: {id, text, theme, case, case_title, url} for every lesson.
J="$site/data/lessons.json"
file_contains "$J" "\"id\": \"$rid\","
file_contains "$J" '"text": "Recruit through people residents already know.",'
file_contains "$J" '"theme": "recruitment",'
file_contains "$J" '"theme": null,'
file_contains "$J" '"case": "watch",'
file_contains "$J" '"case_title": "Alpha neighbourhood watch",'
file_contains "$J" "\"url\": \"cases/watch.html#$rid\""
[ "$(grep -c '"id":' "$J")" = 7 ] || fail "expected 7 lessons in lessons.json"

# Ids are stable: reordering the lessons and adding one changes none of them.
ids_before=$(grep -o 'id="lesson-[a-z0-9-]*"' "$watch" | sort)
w="$src/content/cases/watch.md"
head -n 23 "$w" > "$TMP/w"
printf -- '- Celebrate small wins together.\n- Invite the neighbours to the first walk.\n- Train the volunteers before they go out.\n- Recruit through people residents already know. [theme: recruitment]\n' >> "$TMP/w"
cp "$TMP/w" "$w"
run_cb build -s "$src" -q
expect_rc 0
ids_after=$(grep -o 'id="lesson-[a-z0-9-]*"' "$watch" | sort)
for id in $ids_before; do
	printf '%s\n' "$ids_after" | grep -q -F "$id" || fail "lesson id $id changed when lessons moved"
done
[ "$(printf '%s\n' "$ids_after" | wc -l)" = 4 ] || fail "expected 4 lessons after adding one"
file_contains "$watch" 'Invite the neighbours to the first walk.</div><p class="lesson-theme">Theme: <a href="../lessons.html#theme-recruitment">'
# Editing a lesson's text gives it a new id.
sed -i 's/Celebrate small wins together./Celebrate small wins together, often./' "$w"
run_cb build -s "$src" -q
file_lacks "$watch" "$(printf '%s\n' "$ids_before" | grep celebrate)"
# A lesson wrapped over two lines, with a double space, keeps its id: in the
# text the id is made from, every run of spaces and line breaks is one space.
sed -i 's/^- Recruit through people residents already know\./- Recruit through  people\n  residents already know./' "$w"
grep -q '^  residents already know\.' "$w" || fail "the lesson was not wrapped"
run_cb build -s "$src" -q
expect_rc 0
file_contains "$watch" "<li id=\"$rid\" class=\"lesson\">"

# Loose lists (blank lines between items): the marker goes, the paragraph stays.
printf -- '- Listen to clients before deciding. [theme: trust]\n\n- Keep the agenda short.\n' > "$TMP/tail"
sed -i '/^- Listen to clients/d' "$src/content/cases/clinic.md"
cat "$TMP/tail" >> "$src/content/cases/clinic.md"
run_cb build -s "$src" -q
expect_rc 0
file_contains "$site/cases/clinic.html" '<div class="lesson-text"><p>Listen to clients before deciding.</p></div>'

# Problems: an unknown theme (with a suggestion), a marker not at the end, a
# lessons section with more than its list, an empty one.
src=$(copy_site plugins)
sed -i 's/\[theme: recruitment\]/[theme: recruitement]/' "$src/content/cases/watch.md"
sed -i 's/^- Put the next step on the agenda of every meeting./- Put [theme: process] the next step on the agenda./' "$src/content/cases/garden.md"
printf '\nA closing remark that is not a lesson.\n' >> "$src/content/cases/clinic.md"
sed -i 's/^- Walk in pairs at night. \[theme: trust\]$/None yet./' "$src/content/cases/patrol.md"
run_cb build -s "$src"
expect_rc 1
# The unknown theme at its marker's "[", the misplaced marker at the lesson.
contains "$ERR" "content/cases/watch.md:24:50: error: unknown lesson theme 'recruitement'; did you mean 'recruitment'?"
contains "$ERR" "hint: themes: recruitment, process, trust"
contains "$ERR" "content/cases/garden.md:17:3: error: a theme marker must end the lesson: '... [theme: id]'"
contains "$ERR" "content/cases/clinic.md:21:1: warning: only the list items of 'Lessons for practice' are shown, as lessons; the rest of the section is left out"
contains "$ERR" "content/cases/patrol.md:17:1: error: the 'Lessons for practice' section has no list items (each item is a lesson)"

# Where an unknown theme is reported: at its marker's "[", counted in
# characters, past markup before it, spaces after it and a wrapped lesson's
# first lines; at the lesson's start when the marker is not written as it
# reads (emphasis in it) or when markup ends the lesson after it.
src=$(copy_site plugins)
cat >> "$src/content/cases/school.md" <<'CASE'
- Let **élèves** speak   [theme: tust]   
- Start the meeting
  on time, and close it on time. [theme: timing]
-
  Ask the parents first. [theme: voice]
- Write the minutes [theme: _minutes_]
- **Keep the records [theme: records]**
CASE
run_cb check -s "$src"
expect_rc 1
contains "$ERR" "content/cases/school.md:19:26: error: unknown lesson theme 'tust'; did you mean 'trust'?"
contains "$ERR" "content/cases/school.md:21:34: error: unknown lesson theme 'timing'"
contains "$ERR" "content/cases/school.md:23:26: error: unknown lesson theme 'voice'"
contains "$ERR" "content/cases/school.md:24:3: error: unknown lesson theme 'minutes'"
contains "$ERR" "content/cases/school.md:25:3: error: unknown lesson theme 'records'"

# A heading setting that is no text, at its value in casebook.yml.
src=$(copy_site plugins)
printf 'lessons:\n  heading: [Lessons]\n' >> "$src/casebook.yml"
run_cb check -s "$src"
expect_rc 1
contains "$ERR" "casebook.yml:8:12: error: lessons.heading must be a heading's text"
