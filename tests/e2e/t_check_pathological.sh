# Pathological input never hangs a check: inputs that took minutes before a
# fix (found while fuzzing, kept under tests/fuzz/) finish in seconds, with
# every problem reported. The time limits are generous (ten
# times what they take under the sanitizers); the quadratic versions took
# far longer.
. "$(dirname "$0")/lib.sh"
src="$TMP/hb"
cp -R "$ROOT/tests/check/base" "$src"
plugins=""
[ -f "$ROOT/plugins/classify.lua" ] && plugins="classify, crosslink, lessons"
printf 'title: "Pathological"\nplugins: [%s]\n' "$plugins" >"$src/casebook.yml"
cp -R "$ROOT/content/taxonomies/." "$src/content/taxonomies/"
fm='---\ntitle: "%s"\ncountry: Peru\nyear: 2010\nsector: health\nsources: [x]\n---\n\n'

# 60,000 empty headings: their ids (cb_md) and their sub-sections (the
# plugin API's section.children) used to take quadratic time.
{
	printf -- "$fm" "Headings"
	i=0
	while [ $i -lt 60000 ]; do
		echo '#'
		i=$((i + 1))
	done
	printf '\n## Lessons for practice\n\n- One.\n'
} >"$src/content/cases/headings.md"
# 10,000 placeholders on one line and 5,000 in the front matter.
{
	printf -- '---\ntitle: "Placeholders"\ncountry: Peru\nyear: 2010\nsector: health\nsources: [x]\ntags: ['
	i=0
	while [ $i -lt 5000 ]; do
		printf 'TODO, '
		i=$((i + 1))
	done
	printf 'x]\n---\n\n## Lessons for practice\n\n- '
	i=0
	while [ $i -lt 10000 ]; do
		printf 'TODO '
		i=$((i + 1))
	done
	printf '\n'
} >"$src/content/cases/placeholders.md"
start=$(date +%s)
timeout 120 "$CASEBOOK" check -s "$src" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ $rc != 124 ] || fail "check did not finish within 120 s"
[ $rc = 1 ] || fail "check exited $rc: $(tail -n 3 "$TMP/err")"
grep -q 'AddressSanitizer\|runtime error' "$TMP/err" && fail "sanitizer report: $(head -n 20 "$TMP/err")"
# (The last '#' holds the lessons section, so it is not empty.)
[ "$(grep -c "headings.md:[0-9]*:1: warning: a heading without a title, and nothing under it" "$TMP/err")" = 59999 ] ||
	fail "expected an empty-section warning per empty heading"
[ "$(grep -c 'placeholders.md:.*: error: .*placeholder' "$TMP/err")" = 15000 ] ||
	fail "expected 15,000 placeholders, got $(grep -c 'placeholders.md:.*placeholder' "$TMP/err")"
grep -q 'placeholders.md:12:49998: error: placeholder text left: "TODO"' "$TMP/err" ||
	fail "the last placeholder of the line is not at its column"
echo "check: $(($(date +%s) - start)) s"
# (A template whose sections multiply stops at its limits: tests/unit/test_template.c
# test_limits, and tests/fuzz/template/ with make fuzz-regress.)
