# The command line: help, version, exit codes for usage and environment errors.
. "$(dirname "$0")/lib.sh"
run_cb --version
expect_rc 0
contains "$OUT" 'casebook '
run_cb --help
expect_rc 0
contains "$OUT" 'casebook build'
run_cb help build
expect_rc 0
contains "$OUT" '--output'
run_cb frobnicate
expect_rc 2
contains "$ERR" "unknown command 'frobnicate'"
run_cb build --no-such-option
expect_rc 2
# -j takes a number of threads; anything else is a usage error, not "one per core".
for cmd in build check serve; do
	for bad in abc -1 3x 5000 ' 4' ''; do
		run_cb $cmd -j "$bad"
		expect_rc 2
		contains "$ERR" "casebook $cmd: -j wants a number of threads from 0 (one per core) to 1024, not '$bad'"
	done
done
mkdir "$TMP/empty"
run_cb build -s "$TMP/empty"
expect_rc 2
contains "$ERR" 'no casebook.yml'
run_cb build -s "$TMP/does-not-exist"
expect_rc 2
# Refuse to replace a folder that is not a casebook site, or the source itself.
src=$(copy_site basic)
mkdir "$TMP/precious" && echo keep > "$TMP/precious/notes.txt"
run_cb build -s "$src" -o "$TMP/precious"
expect_rc 2
contains "$ERR" 'does not look like a site'
exists "$TMP/precious/notes.txt"
run_cb build -s "$src" -o "$src"
expect_rc 2
contains "$ERR" 'would replace the source'
exists "$src/casebook.yml"
# A file is not replaced by a folder (it used to be deleted, exit 0).
echo keep > "$TMP/notes.txt"
run_cb build -s "$src" -o "$TMP/notes.txt"
expect_rc 2
contains "$ERR" "refusing to replace $TMP/notes.txt: it is a file, not a folder"
[ "$(cat "$TMP/notes.txt")" = keep ] || fail "the file was replaced"
# A site inside content/ would be published by the next build.
run_cb build -s "$src" -o "$src/content/pages/out"
expect_rc 2
contains "$ERR" "it is inside the source's content/ folder"
absent "$src/content/pages/out"
# An empty folder name is a usage error, for every command that takes one.
for args in "build -o" "build -s" "check -s" "serve -s" "new -s"; do
	set -- $args
	run_cb "$1" "$2" ''
	expect_rc 2
	contains "$ERR" "casebook $1: $2 wants a folder, not an empty name"
done
# Unknown configuration keys are warnings at their line.
printf 'titel: "Typo"\n' >> "$src/casebook.yml"
run_cb build -s "$src"
expect_rc 0
contains "$ERR" "casebook.yml:4:1: warning: unknown key 'titel' (it is ignored)"
contains "$ERR" "did you mean 'title'?"
