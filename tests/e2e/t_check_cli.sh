# casebook check's command line: FILE arguments (relative to the working
# directory or to the source, absolute, folders), paths GitHub can match,
# JSON that parses, exit codes.
. "$(dirname "$0")/lib.sh"
mkdir -p "$TMP/repo"
src="$TMP/repo/handbook"
cp -R "$ROOT/tests/check/base" "$src"
cases="$src/content/cases"
printf -- '---\ntitle: "Broken"\nyear: 1700\n---\n' >"$cases/broken.md"
printf -- '---\ntitle: "Fine"\ncountry: Peru\nyear: 2010\nsector: health\nsources: [x]\n---\n\n## Context\n\n![gone](img/gone.png)\n\n## Lessons for practice\n\n- One.\n' >"$cases/fine.md"

# The whole handbook: both files' problems.
run_cb check -s "$src"
expect_rc 1
contains "$ERR" 'content/cases/broken.md:3:7: error: year 1700 is out of range'
contains "$ERR" 'content/cases/fine.md:11:1: error: image'
contains "$ERR" 'casebook: 4 cases checked, 6 errors, 0 warnings'

# One file, named every way: only its problems.
for f in "content/cases/fine.md" "$cases/fine.md" "./content/cases/fine.md"; do
	run_cb check -s "$src" "$f"
	expect_rc 1
	contains "$ERR" 'content/cases/fine.md:11:1: error: image'
	lacks "$ERR" 'broken.md'
	contains "$ERR" 'casebook: content/cases/fine.md checked (in a handbook of 4 cases), 1 error, 0 warnings'
done
(cd "$src/content" && "$CASEBOOK" check -s .. cases/fine.md) >"$TMP/.out" 2>"$TMP/.err"
[ $? = 1 ] || fail "check from a sub-folder"
grep -q 'content/cases/fine.md:11:1: error' "$TMP/.err" || fail "check from a sub-folder: $(cat "$TMP/.err")"
# A clean file passes even though another one is broken.
run_cb check -s "$src" content/cases/alpha.md
expect_rc 0
# A folder stands for the files in it.
run_cb check -s "$src" content/cases
expect_rc 1
contains "$ERR" 'broken.md'
contains "$ERR" 'fine.md'
run_cb check -s "$src" content/pages
expect_rc 0
# Problems of the handbook as a whole are shown with any file.
printf 'titel: typo\n' >>"$src/casebook.yml"
run_cb check -s "$src" content/cases/alpha.md
expect_rc 0
contains "$ERR" "casebook.yml:5:1: warning: unknown key 'titel'"
run_cb check -s "$src" --strict content/cases/alpha.md
expect_rc 1
# Files that are not there, or not in the handbook: usage errors.
run_cb check -s "$src" content/cases/nope.md
expect_rc 2
contains "$ERR" 'casebook check: no such file: content/cases/nope.md'
printf 'x\n' >"$TMP/elsewhere.md"
run_cb check -s "$src" "$TMP/elsewhere.md"
expect_rc 2
contains "$ERR" 'is not in the handbook'
run_cb check -s "$src" --format yaml
expect_rc 2
contains "$ERR" "unknown format 'yaml'"

# GitHub annotations name files from the repository's root (the working
# directory), wherever the handbook lies in it.
(cd "$TMP/repo" && "$CASEBOOK" check -s handbook --format github) >"$TMP/.out" 2>"$TMP/.err"
[ $? = 1 ] || fail "github format: wrong exit code"
grep -q -F '::error file=handbook/content/cases/broken.md,line=3,col=7,title=casebook year-range::year 1700 is out of range (1800 to 2100)' "$TMP/.out" ||
	fail "github paths: $(cat "$TMP/.out")"
grep -q -F '::warning file=handbook/casebook.yml,line=5,col=1,' "$TMP/.out" || fail "github: config warning"
(cd "$src" && "$CASEBOOK" check --format github content/cases/broken.md) >"$TMP/.out" 2>"$TMP/.err"
grep -q -F '::error file=content/cases/broken.md,line=1,col=1,title=casebook field-missing::missing required field '"'country'"'%0Ahint: country: Netherlands' "$TMP/.out" ||
	fail "github from the source: $(cat "$TMP/.out")"
# Nothing but annotations on stdout; the summary goes to stderr.
! grep -v '^::' "$TMP/.out" || fail "github output has other lines"
# An error with no file is still a well-formed workflow command.
run_cb check -s "$TMP/repo" --format github
expect_rc 2
[ "$OUT" = '::error title=casebook no-config::no casebook.yml in the source folder (run casebook in a handbook folder, or give it with -s SOURCE)' ] ||
	fail "github, no file: $OUT"

# JSON: an array of {file, line, col, severity, code, message, hint}, valid
# JSON on stdout, even with quotes, backslashes and non-ASCII in messages.
printf -- '---\ntitle: "Quote \\" and backslash \\\\ and Łódź"\ncountry: Peru\nyear: 2010\nsector: health\nsources: [x]\n---\n\n## Context\n\nTODO: "quoted" \\ text in Łódź.\n\n## Lessons for practice\n\n- One.\n' >"$cases/quotes.md"
run_cb check -s "$src" --format json content/cases/quotes.md
expect_rc 1
contains "$OUT" '{"file": "content/cases/quotes.md", "line": 11, "col": 1, "severity": "error", "code": "placeholder", "message": "placeholder text left: \"TODO: \"quoted\" \\ text in Łódź.\"", "hint": "write the case'"'"'s own text here, or delete it"}'
if command -v python3 >/dev/null 2>&1; then
	printf '%s' "$OUT" | python3 -c 'import json, sys
d = json.load(sys.stdin)
assert isinstance(d, list) and d
for x in d:
    assert set(x) == {"file", "line", "col", "severity", "code", "message", "hint"}, x
    assert x["severity"] in ("error", "warning", "note"), x
' || fail "check --format json is not the documented JSON: $OUT"
fi
run_cb check -s "$src" --format json content/pages
expect_rc 0
contains "$OUT" '['
# The summary says what was checked.
run_cb check -s "$src" content/cases/fine.md content/cases/alpha.md
contains "$ERR" 'casebook: 2 files checked (in a handbook of 5 cases), 1 error, 1 warning'
run_cb check -s "$src" content/cases
contains "$ERR" 'casebook: content/cases checked (in a handbook of 5 cases)'
# A new case that takes an existing case's title fails a check of it alone,
# whichever of the two sorts first (the copy here sorts before alpha.md).
sed 's/^country: .*/country: Peru/' "$cases/alpha.md" >"$cases/aaa-copy.md"
run_cb check -s "$src" content/cases/aaa-copy.md
expect_rc 1
contains "$ERR" 'content/cases/aaa-copy.md:2:8: error: content/cases/alpha.md has the same title'
run_cb check -s "$src" content/cases/alpha.md
expect_rc 1
contains "$ERR" 'content/cases/alpha.md:2:8: error: content/cases/aaa-copy.md has the same title'
