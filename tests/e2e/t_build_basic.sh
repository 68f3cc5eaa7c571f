# A small handbook builds into a complete site that works from disk.
. "$(dirname "$0")/lib.sh"
src=$(copy_site basic)
# Markdown without front matter outside cases and pages is copied as it is.
mkdir -p "$src/content/notes" && printf '# To do\n' >"$src/content/notes/todo.md"
run_cb build -s "$src" -q
expect_rc 0
site="$src/site"
for f in index.html cases/index.html cases/alpha-watch.html cases/beta-clinic.html \
	cases/gamma-school.html method.html assets/style.css cases/img/map.png; do
	exists "$site/$f"
done
file_contains "$site/notes/todo.md" '# To do'
# content/pages/index.md is the home page's introduction, not a page of its own.
absent "$site/about.html"
file_contains "$site/index.html" 'This handbook has <a href="cases/alpha-watch.html">three cases</a>'
# Links between cases become relative links to their pages (anchors kept).
file_contains "$site/cases/alpha-watch.html" 'href="beta-clinic.html"'
file_contains "$site/cases/alpha-watch.html" 'href="beta-clinic.html#outcomes"'
# Every heading has an id; GFM tables and smart punctuation are on.
file_contains "$site/cases/alpha-watch.html" '<h2 id="what-happened">What happened</h2>'
file_contains "$site/cases/alpha-watch.html" '<table>'
file_contains "$site/cases/alpha-watch.html" '“roughly”'
file_contains "$site/cases/alpha-watch.html" '<img src="img/map.png" alt="A map of the streets"'
# The facts box: countries, years, sector labels from the vocabulary.
file_contains "$site/cases/beta-clinic.html" 'Belgium'
file_contains "$site/cases/alpha-watch.html" '2012–2015'
file_contains "$site/cases/beta-clinic.html" 'Social care'
# Safe by default: raw HTML dropped, javascript: links neutralised (with warnings).
file_lacks "$site/cases/gamma-school.html" '<script>'
file_lacks "$site/cases/gamma-school.html" 'javascript:'
run_cb check -s "$src"
contains "$ERR" 'content/cases/gamma-school.md:11:9: warning: raw HTML is dropped'
contains "$ERR" 'content/cases/gamma-school.md:13:1: warning: link to'
# No internal link is absolute or a bare folder: the site works from file://.
if grep -R -o -h -E '(href|src)="[^"]*"' "$site" | grep -v -E '="(https?:|mailto:|#)' |
	grep -E '="/|/"$|="[^"]*/"' >/dev/null; then
	fail "absolute or folder links: $(grep -R -o -h -E '(href|src)="[^"]*"' "$site" | grep -E '="/|/"' | head -3)"
fi
# Every relative link points at a file that exists.
for page in $(cd "$site" && find . -name '*.html'); do
	dir=$(dirname "$page")
	for url in $(grep -o -E '(href|src)="[^"#]+' "$site/$page" | sed 's/^[a-z]*="//' | grep -v -E '^(https?:|mailto:)'); do
		[ -e "$site/$dir/$url" ] || fail "$page links to missing $url"
	done
done
# The home page lists every case; the navigation marks the current page.
file_contains "$site/index.html" 'Gamma school'
file_contains "$site/cases/alpha-watch.html" 'aria-current="page">Cases<'
# The site's .gitignore is kept across builds.
printf '*\n' > "$site/.gitignore"
run_cb build -s "$src" -q
expect_rc 0
exists "$site/.gitignore"
