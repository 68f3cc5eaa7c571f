# Helpers for end-to-end tests (sourced by tests/e2e/t_*.sh).
set -u
: "${CASEBOOK:?run through tests/e2e/run}"
: "${ROOT:?run through tests/e2e/run}"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/casebook-e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
SITES="$ROOT/tests/sites"

fail() { echo "FAIL: $*" >&2; exit 1; }

# copy_site NAME: a fresh copy of tests/sites/NAME in $TMP; prints its path.
copy_site() {
	rm -rf "$TMP/$1"
	cp -R "$SITES/$1" "$TMP/$1"
	echo "$TMP/$1"
}

# run_cb ARGS...: run casebook, keeping stdout/stderr/exit code in $OUT $ERR $RC.
# Sites copied into $TMP are in no git repository, so a build warns once that
# it goes without history (docs/editions.md): $ERR leaves that warning and its
# hint out, so that tests can ask for no warnings about their content;
# $ERR_ALL has everything.
run_cb() {
	"$CASEBOOK" "$@" >"$TMP/.out" 2>"$TMP/.err"
	RC=$?
	OUT=$(cat "$TMP/.out")
	ERR_ALL=$(cat "$TMP/.err")
	ERR=$(grep -v -e '^casebook: warning: the source is not in a git repository' \
		-e "^    hint: build from a clone of the handbook's repository" "$TMP/.err")
	if grep -q -E 'AddressSanitizer|LeakSanitizer|ThreadSanitizer|runtime error:' "$TMP/.err"; then
		cat "$TMP/.err" >&2
		fail "sanitizer report from: casebook $*"
	fi
}

expect_rc() { [ "$RC" = "$1" ] || fail "expected exit $1, got $RC; stderr: $ERR"; }
contains() { printf '%s' "$1" | grep -q -F -- "$2" || fail "expected to find '$2' in: $1"; }
lacks() { ! printf '%s' "$1" | grep -q -F -- "$2" || fail "did not expect '$2' in: $1"; }
file_contains() { [ -f "$1" ] || fail "missing file $1"; grep -q -F -- "$2" "$1" || fail "expected '$2' in $1"; }
file_lacks() { [ -f "$1" ] || fail "missing file $1"; ! grep -q -F -- "$2" "$1" || fail "did not expect '$2' in $1"; }
exists() { [ -e "$1" ] || fail "missing $1"; }
absent() { [ ! -e "$1" ] || fail "should not exist: $1"; }
# tree_hash DIR: one hash for every file's path and bytes under DIR.
tree_hash() { (cd "$1" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum); }
