# casebook serve: serves the site over HTTP, rebuilds after a change, shows a
# failed build's errors while the last good site stays served, refuses paths
# that lead out of the site, and stops cleanly on SIGTERM and SIGINT.
. "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is needed (scripts/install-deps installs it)"

src=$(copy_site basic)
# The private folder the site is built in goes under $TMPDIR: keep it where
# this test can look into it and check it is gone afterwards.
export TMPDIR="$TMP/tmp"
mkdir "$TMPDIR"

pid=""
trap '[ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT

# start_serve NAME ARGS...: start casebook serve in the background; sets $pid
# and $url (waits for the URL it prints).
start_serve() {
	name=$1
	shift
	"$CASEBOOK" serve "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	pid=$!
	url=""
	i=0
	while [ $i -lt 300 ]; do
		url=$(grep -o 'http://[^ ]*' "$TMP/$name.out" 2>/dev/null)
		[ -n "$url" ] && return 0
		kill -0 "$pid" 2>/dev/null || fail "serve exited early: $(cat "$TMP/$name.err")"
		sleep 0.1
		i=$((i + 1))
	done
	fail "serve printed no URL: $(cat "$TMP/$name.out" "$TMP/$name.err")"
}

# stop_serve SIGNAL NAME: send the signal; serve must exit 0, with clean
# sanitizer output, leaving nothing in $TMPDIR.
stop_serve() {
	kill -"$1" "$pid"
	wait "$pid"
	rc=$?
	pid=""
	[ "$rc" = 0 ] || fail "serve exited $rc after SIG$1: $(cat "$TMP/$2.err")"
	sanitizer_clean "$TMP/$2.err"
	[ -z "$(ls -A "$TMPDIR")" ] || fail "left behind after SIG$1: $(ls -A "$TMPDIR")"
}

# get PATH: fetch $url PATH as sent (no normalising by curl); sets $CODE,
# $TYPE, $BODY and $LOCATION.
get() {
	out=$(curl -s --path-as-is -o "$TMP/body" -w '%{http_code}|%{content_type}|%{redirect_url}' \
		"$url$1") || fail "curl failed on $1"
	CODE=${out%%|*}
	rest=${out#*|}
	TYPE=${rest%%|*}
	LOCATION=${rest#*|}
	BODY=$(cat "$TMP/body")
}

expect_get() { # PATH CODE [TYPE]
	get "$1"
	[ "$CODE" = "$2" ] || fail "GET /$1: expected $2, got $CODE"
	[ $# -lt 3 ] || [ "$TYPE" = "$3" ] || fail "GET /$1: expected type '$3', got '$TYPE'"
}

# wait_status TEXT: wait until /__casebook/status contains TEXT.
wait_status() {
	i=0
	while [ $i -lt 300 ]; do
		st=$(curl -s "$url/__casebook/status")
		case "$st" in *"$1"*) return 0 ;; esac
		sleep 0.1
		i=$((i + 1))
	done
	fail "status never showed '$1'; last: $st; stderr: $(cat "$TMP/serve.err")"
}

sanitizer_clean() {
	! grep -q -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$1" || {
		cat "$1" >&2
		fail "sanitizer report in $1"
	}
}

run_cb help serve
expect_rc 0
contains "$OUT" '--port'
contains "$OUT" '--bind'

start_serve serve -s "$src" --port 0
url=${url%/}
case "$url" in http://127.0.0.1:[0-9]*) ;; *) fail "not on loopback: $url" ;; esac

# ---- pages and assets, with their types --------------------------------
expect_get / 200 'text/html; charset=utf-8'
contains "$BODY" '<title>Basic handbook</title>'
contains "$BODY" '<script src="/__casebook/reload.js" data-casebook="'
expect_get /index.html 200 'text/html; charset=utf-8'
expect_get /cases/alpha-watch.html 200 'text/html; charset=utf-8'
contains "$BODY" 'Alpha neighbourhood watch'
expect_get /assets/style.css 200 'text/css; charset=utf-8'
cmp -s "$TMP/body" "$ROOT/themes/default/assets/style.css" || fail "style.css differs"
expect_get /cases/img/map.png 200 'image/png'
expect_get '/assets/style.css?v=2' 200 'text/css; charset=utf-8' # queries are ignored
expect_get '/cases/alpha%2Dwatch.html' 200 'text/html; charset=utf-8'
# A folder's URL serves its index.html; without the '/' it redirects there.
expect_get /cases/ 200 'text/html; charset=utf-8'
contains "$BODY" 'All cases'
expect_get /cases 302
[ "$LOCATION" = "$url/cases/" ] || fail "redirect to '$LOCATION'"
expect_get /no-such-page.html 404 'text/html; charset=utf-8'
contains "$BODY" 'Not found'
expect_get /__casebook/reload.js 200 'text/javascript; charset=utf-8'
contains "$BODY" 'casebook-overlay'
expect_get /__casebook/status 200 'application/json'
contains "$BODY" '"version":1,'
contains "$BODY" '"failed":false'
# Names other than localhost are refused on loopback (DNS rebinding).
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example:8000' "$url/")" = 403 ] ||
	fail "a foreign Host name was answered"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: localhost:8000' "$url/")" = 200 ] ||
	fail "Host localhost refused"
# HEAD works; other methods do not.
[ "$(curl -s -I -o /dev/null -w '%{http_code}' "$url/")" = 200 ] || fail "HEAD /"
[ "$(curl -s -X POST -d x -o /dev/null -w '%{http_code}' "$url/")" = 405 ] || fail "POST / not 405"

# ---- the built files never hold the script -----------------------------
served=$(ls -d "$TMPDIR"/casebook-serve-*/site 2>/dev/null)
[ -n "$served" ] && [ -f "$served/index.html" ] || fail "no private site folder in $TMPDIR"
! grep -r -q '__casebook' "$served" || fail "the reload script is in the built files"
absent "$src/site"

# ---- nothing outside the site ------------------------------------------
ln -s /etc/passwd "$served/leak.txt"
ln -s "$src" "$served/source"
for p in '/../../../../../etc/passwd' '/cases/../../casebook.yml' \
	'/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd' '/%2E%2E/casebook.yml' '/.%2e/casebook.yml' \
	'/cases/..%2f..%2fcasebook.yml' '/cases/%2e%2e%2f%2e%2e%2fetc%2fpasswd' \
	'/..%5c..%5cetc%5cpasswd' '//etc/passwd' '/%2fetc%2fpasswd' '/%2Fetc/passwd' \
	'/index.html%00.png' '/leak.txt' '/source/casebook.yml' '/source/'; do
	get "$p"
	[ "$CODE" = 404 ] || fail "GET $p: expected 404, got $CODE"
	lacks "$BODY" 'root:'
	lacks "$BODY" 'title: "Basic handbook"'
done
# Absolute URIs in the request line do not reach the file system either.
for target in 'file:///etc/passwd' 'http://127.0.0.1/../../etc/passwd'; do
	code=$(curl -s -o "$TMP/body" -w '%{http_code}' --request-target "$target" "$url/")
	[ "$code" = 404 ] || [ "$code" = 400 ] || fail "request target $target: $code"
	! grep -q 'root:' "$TMP/body" || fail "request target $target: /etc/passwd served"
done

# ---- an edit is served after the rebuild -------------------------------
sed 's/^title: "Alpha neighbourhood watch"/title: "Alpha street watch"/' \
	"$src/content/cases/alpha-watch.md" >"$TMP/a.md"
cp "$TMP/a.md" "$src/content/cases/alpha-watch.md"
wait_status '"version":2,'
expect_get /cases/alpha-watch.html 200
contains "$BODY" 'Alpha street watch'
contains "$BODY" ':2"></script>'
contains "$(cat "$TMP/serve.err")" 'content/cases/alpha-watch.md changed; rebuilding'
# New sub-folders are watched too.
mkdir "$src/content/cases/files"
wait_status '"version":3,'
printf 'notes\n' >"$src/content/cases/files/notes.txt"
wait_status '"version":4,'
expect_get /cases/files/notes.txt 200 'text/plain; charset=utf-8'
[ "$BODY" = notes ] || fail "notes.txt: $BODY"

# ---- a broken case: errors in the terminal and the overlay; the last good
# site stays served ------------------------------------------------------
sed 's/^year: 2012$/year: twenty twelve/' "$src/content/cases/alpha-watch.md" >"$TMP/a.md"
cp "$TMP/a.md" "$src/content/cases/alpha-watch.md"
wait_status '"failed":true'
expect_get /__casebook/status 200
contains "$BODY" '"version":4,'
contains "$BODY" '"summary":"1 error"'
contains "$BODY" 'content/cases/alpha-watch.md:6:7: error: year must be a whole year'
err=$(cat "$TMP/serve.err")
contains "$err" 'content/cases/alpha-watch.md:6:7: error: year must be a whole year'
contains "$err" 'build failed: 1 error'
contains "$err" 'still serving the last good site'
expect_get /cases/alpha-watch.html 200
contains "$BODY" 'Alpha street watch'
contains "$BODY" ':4"></script>'
expect_get /cases/files/notes.txt 200
# In a browser, the script shows the overlay over the last good page.
if command -v chromium >/dev/null 2>&1; then
	dom=$(timeout 60 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
		--virtual-time-budget=4000 --dump-dom "$url/cases/alpha-watch.html" 2>/dev/null)
	contains "$dom" 'Alpha street watch'
	contains "$dom" '<div id="casebook-overlay">'
fi
# Fixed: the next build is served, the overlay goes.
cp "$ROOT/tests/sites/basic/content/cases/alpha-watch.md" "$src/content/cases/alpha-watch.md"
wait_status '"version":5,'
expect_get /__casebook/status 200
contains "$BODY" '"failed":false'
expect_get /cases/alpha-watch.html 200
contains "$BODY" 'Alpha neighbourhood watch'
# casebook.yml and a theme of the source are watched too.
sed 's/^title: .*/title: "Watched handbook"/' "$src/casebook.yml" >"$TMP/casebook.yml"
cp "$TMP/casebook.yml" "$src/casebook.yml"
wait_status '"version":6,'
expect_get / 200
contains "$BODY" '<title>Watched handbook</title>'
mkdir -p "$src/themes/default/assets"
printf 'body { color: #123456; }\n' >"$src/themes/default/assets/style.css"
wait_status '"version":7,'
expect_get /assets/style.css 200 'text/css; charset=utf-8'
contains "$BODY" '#123456'

# ---- the port is taken: a clear error, exit 2 --------------------------
port=${url##*:}
run_cb serve -s "$src" --port "$port"
expect_rc 2
contains "$ERR" "port $port"
contains "$ERR" 'Address already in use'

# ---- SIGTERM: exit 0, nothing left behind ------------------------------
stop_serve TERM serve
absent "$src/site"
curl -s -o /dev/null "$url/" && fail "still answering after SIGTERM"

# ---- SIGINT (Ctrl-C) too; and a first build that fails is served as an
# error page until it is fixed --------------------------------------------
cp "$TMP/a.md" "$src/content/cases/alpha-watch.md"
start_serve serve2 -s "$src" --port 0
url=${url%/}
expect_get /cases/alpha-watch.html 503 'text/html; charset=utf-8'
contains "$BODY" '/__casebook/reload.js'
expect_get /__casebook/status 200
contains "$BODY" '"version":0,'
contains "$BODY" '"failed":true'
contains "$(cat "$TMP/serve2.err")" 'nothing to serve until they are fixed'
cp "$ROOT/tests/sites/basic/content/cases/alpha-watch.md" "$src/content/cases/alpha-watch.md"
wait_status '"version":1,'
expect_get /cases/alpha-watch.html 200
stop_serve INT serve2

# ---- SIGHUP (the terminal closed) too: nothing left behind ---------------
start_serve serve3 -s "$src" --port 0
url=${url%/}
expect_get /cases/alpha-watch.html 200
stop_serve HUP serve3
