# Helpers for the check fixtures (tests/check/<name>/, see
# tests/check/README.md), sourced by t_check_fixtures.sh and
# t_check_plugins.sh after lib.sh.
#
# Each fixture is copied over the base handbook and checked in the three
# formats, each output compared whole with the fixture's expect.* files; then
# the handbook is built, which must report the very same problems and fail
# exactly when check finds errors.
#
#   CHECK_REGEN=1 tests/e2e/run t_check   rewrites the expect.* files
#   (review the diff before committing it).
FIX="$ROOT/tests/check"

plugins_available() {
	for p in classify crosslink lessons; do
		[ -f "$ROOT/plugins/$p.lua" ] || return 1
	done
}

# run_in DIR ARGS...: casebook in DIR; stdout, stderr, exit code in files.
run_in() {
	_in=$1
	shift
	(cd "$_in" && "$CASEBOOK" "$@") >"$TMP/.out" 2>"$TMP/.err"
	RC=$?
	if grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/.err"; then
		cat "$TMP/.err" >&2
		fail "sanitizer report from: casebook $* (in $_in)"
	fi
}

# same FILE EXPECTED WHAT: the output must be the expected one, byte for byte.
same() {
	if [ "${CHECK_REGEN:-}" = 1 ]; then
		cp "$1" "$2"
		return
	fi
	[ -f "$2" ] || fail "$name: missing $2"
	diff -u "$2" "$1" >"$TMP/.diff" || { cat "$TMP/.diff" >&2; fail "$name: $3 differs"; }
}

# grep_all FILE PATTERNS: each line of PATTERNS is a fixed string in FILE.
grep_all() {
	while IFS= read -r want; do
		[ -z "$want" ] && continue
		grep -q -F -- "$want" "$1" || { cat "$1" >&2; fail "$name: expected '$want' in its $3"; }
	done <"$2"
}

# check_fixture DIR: run one fixture; fails the test on any difference.
check_fixture() {
	dir=$1
	name=$(basename "$dir")
	src="$TMP/$name"
	cp -R "$FIX/base" "$src"
	[ -d "$dir/source" ] && cp -R "$dir/source/." "$src/"
	[ -f "$dir/setup.sh" ] && (cd "$src" && sh "$dir/setup.sh")
	args=""
	[ -f "$dir/args" ] && args=$(cat "$dir/args")

	# Text: the diagnostics on stderr, then one summary line (dropped here).
	# shellcheck disable=SC2086
	run_in "$src" check $args
	sed '$d' "$TMP/.err" >"$TMP/text"
	tail -n 1 "$TMP/.err" | grep -q '^casebook: .* checked' || fail "$name: no summary line: $(cat "$TMP/.err")"
	text_rc=$RC
	# shellcheck disable=SC2086
	run_in "$src" check --format github $args
	cp "$TMP/.out" "$TMP/github"
	[ "$RC" = "$text_rc" ] || fail "$name: exit $RC with --format github, $text_rc with text"
	# shellcheck disable=SC2086
	run_in "$src" check --format json $args
	cp "$TMP/.out" "$TMP/json"
	[ "$RC" = "$text_rc" ] || fail "$name: exit $RC with --format json, $text_rc with text"

	if [ -f "$dir/expect.grep" ]; then
		# Checks made by plugins: their exact wording is theirs; the place,
		# the severity and the suggestion are asserted.
		grep_all "$TMP/text" "$dir/expect.grep" "text output"
		grep_all "$TMP/github" "$dir/expect.github.grep" "GitHub output"
		grep_all "$TMP/json" "$dir/expect.json.grep" "JSON output"
		# ... and nothing else is reported.
		n=$(grep -c -E '^[^ ].*: (error|warning): ' "$TMP/text")
		[ "$n" = "$(cat "$dir/expect.count")" ] || { cat "$TMP/text" >&2; fail "$name: $n problems reported, expected $(cat "$dir/expect.count")"; }
	else
		same "$TMP/text" "$dir/expect.text" "the text output"
		same "$TMP/github" "$dir/expect.github" "the GitHub output"
		same "$TMP/json" "$dir/expect.json" "the JSON output"
	fi
	want_rc=0
	grep -q ': error: ' "$TMP/text" && want_rc=1
	[ -f "$dir/expect.rc" ] && want_rc=$(cat "$dir/expect.rc")
	[ "$text_rc" = "$want_rc" ] || fail "$name: check exited $text_rc, expected $want_rc"

	# A build runs the same checks: the same report (a build of the whole
	# handbook, so only for fixtures that check all of it), and it fails
	# when check finds errors, leaving no site.
	if [ -z "$args" ]; then
		run_in "$src" build -o "$TMP/$name-site"
		# Less the summary line, and the warning that a build outside git goes
		# without history (about building, not about the content checked).
		sed '$d' "$TMP/.err" | grep -v -e '^casebook: warning: the source is not in a git repository' \
			-e "^    hint: build from a clone of the handbook's repository" >"$TMP/built"
		diff -u "$TMP/text" "$TMP/built" >"$TMP/.diff" || { cat "$TMP/.diff" >&2; fail "$name: build and check report differently"; }
		if grep -q ': error: ' "$TMP/text"; then
			[ "$RC" = 1 ] || fail "$name: the build did not fail (exit $RC)"
			[ ! -e "$TMP/$name-site" ] || fail "$name: a failed build wrote a site"
		else
			[ "$RC" = 0 ] || fail "$name: the build failed (exit $RC): $(cat "$TMP/.err")"
		fi
	fi
}
