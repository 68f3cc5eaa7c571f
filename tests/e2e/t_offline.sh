# Reading offline: search index, search page and box, print edition, data
# files; feed and sitemap only with base_url, valid for a real XML parser.
. "$(dirname "$0")/lib.sh"
command -v xmllint >/dev/null || fail "xmllint is missing (scripts/install-deps installs libxml2-utils)"
src=$(copy_site basic)
run_cb build -s "$src" -q
expect_rc 0
site="$src/site"
# No base_url: no feed, no sitemap, and no link to a feed.
absent "$site/feed.xml"
absent "$site/sitemap.xml"
file_lacks "$site/index.html" 'application/atom+xml'

# Search: a box on every page; a small index inlined in one classic script.
for page in index.html cases/index.html cases/alpha-watch.html method.html print.html search.html; do
	file_contains "$site/$page" '<input type="search"'
	file_contains "$site/$page" 'assets/search.js" defer></script>'
done
file_contains "$site/cases/alpha-watch.html" '<script src="../assets/search.js" defer></script>'
file_contains "$site/cases/alpha-watch.html" 'action="../search.html"'
idx="$site/assets/search-index.js"
file_contains "$idx" 'casebookSearch.index({"version":1,"cases":3,'
file_contains "$idx" 'casebookSearch.part("t0",'
file_contains "$idx" 'casebookSearch.part("d0",[["Alpha neighbourhood watch","cases/alpha-watch.html","Netherlands · 2012–2015 · Public safety",'
absent "$site/assets/search"
# Folded words only: the city Łódź is indexed as "lodz".
file_contains "$idx" '"lodz"'
file_lacks "$idx" '"łódź"'
grep -q 'fetch(\|import(\|type="module"' "$site/assets/search.js" "$idx" && fail "search must not use fetch or modules"

# Print edition: the whole handbook on one page, links made in-page.
p="$site/print.html"
file_contains "$p" 'id="contents"'
for slug in alpha-watch beta-clinic gamma-school; do
	file_contains "$p" "<article class=\"print-case\" id=\"case-$slug\""
	file_contains "$p" "<a href=\"#case-$slug\">"
done
file_contains "$p" '<a href="#case-beta-clinic--outcomes">its outcomes</a>'
file_contains "$p" '<img src="cases/img/map.png"'
file_contains "$p" '<dt id="term-sector-health">Health</dt>'
dups=$(grep -o ' id="[^"]*"' "$p" | sort | uniq -d)
[ -z "$dups" ] || fail "duplicate ids in print.html: $dups"
for id in $(grep -o 'href="#[^"]*"' "$p" | sed 's/href="#//; s/"$//' | sort -u); do
	grep -q " id=\"$id\"" "$p" || fail "print.html links to #$id, which is not on the page"
done
# Every page links to the print edition and the data.
file_contains "$site/method.html" '<a href="print.html">Print edition</a>'
file_contains "$site/cases/gamma-school.html" '<a href="../data/cases.csv">cases.csv</a>'

# Data: one CSV row per case, CRLF line ends, RFC 4180 quoting.
csv="$site/data/cases.csv"
[ "$(grep -c '' "$csv")" = 4 ] || fail "cases.csv should have a header and 3 rows"
[ "$(grep -c "$(printf '\r')\$" "$csv")" = 4 ] || fail "cases.csv lines must end in CRLF"
head -1 "$csv" | grep -q '^slug,url,title,summary,country,city,year,end_year,sector,' || fail "cases.csv header: $(head -1 "$csv")"
file_contains "$csv" 'beta-clinic,cases/beta-clinic.html,Beta client council,,Belgium; Netherlands,,2010,'
file_contains "$csv" ',"Author, A. (2018). A chapter. In B. Editor (Ed.), A book. Publisher.",'
json="$site/data/cases.json"
file_contains "$json" '"case_count": 3,'
file_contains "$json" '{"slug":"gamma-school","url":"cases/gamma-school.html","title":"Gamma school","front_matter":{'

# With base_url: an Atom feed (newest first) and a sitemap, both valid.
printf 'base_url: "https://example.org/hb/"\n' >>"$src/casebook.yml"
run_cb build -s "$src" -q
expect_rc 0
xmllint --noout "$site/feed.xml" 2>"$TMP/x" || fail "feed.xml is not well-formed: $(cat "$TMP/x")"
xmllint --noout --relaxng "$ROOT/tests/schemas/atom.rng" "$site/feed.xml" 2>"$TMP/x" || fail "feed.xml is not valid Atom: $(cat "$TMP/x")"
xmllint --noout --schema "$ROOT/tests/schemas/sitemap.xsd" "$site/sitemap.xml" 2>"$TMP/x" || fail "sitemap.xml is not valid: $(cat "$TMP/x")"
order=$(xmllint --xpath '//*[local-name()="entry"]/*[local-name()="id"]/text()' "$site/feed.xml" | tr '\n' ' ')
[ "$order" = "https://example.org/hb/cases/alpha-watch.html https://example.org/hb/cases/beta-clinic.html https://example.org/hb/cases/gamma-school.html " ] ||
	fail "feed entries not newest first: $order"
file_contains "$site/feed.xml" '<updated>2012-01-01T00:00:00Z</updated>'
n=$(xmllint --xpath 'count(//*[local-name()="loc"])' "$site/sitemap.xml")
[ "$n" = 6 ] || fail "sitemap should list 6 pages, lists $n"
file_contains "$site/sitemap.xml" '<loc>https://example.org/hb/cases/alpha-watch.html</loc>'
file_lacks "$site/sitemap.xml" 'search.html'
file_contains "$site/cases/alpha-watch.html" '<link rel="alternate" type="application/atom+xml" title="Basic handbook: newest cases" href="../feed.xml">'

# A bigger handbook: the index is split into parts that scripts load on
# demand, and every part the manifest names exists.
big="$TMP/big"
sh "$ROOT/bench/gen-handbook" 130 "$big" "$ROOT"
run_cb build -s "$big" -o "$TMP/bigsite" -q
expect_rc 0
bidx="$TMP/bigsite/assets/search-index.js"
file_lacks "$bidx" 'casebookSearch.part('
tparts=$(grep '"terms"' "$bidx" | sed 's/.*"terms":{//; s/}.*//' | tr ',' '\n' | sed 's/.*://' | sort -un)
[ "$(echo "$tparts" | wc -l)" -gt 1 ] || fail "expected the words of 130 cases in several parts"
[ "$(echo "$tparts" | wc -l)" = "$(ls "$TMP/bigsite/assets/search" | grep -c '^t[0-9]*\.js$')" ] || fail "word parts and manifest disagree"
for t in $tparts; do
	file_contains "$TMP/bigsite/assets/search/t$t.js" "casebookSearch.part(\"t$t\","
done
nd=$(grep '"docs"' "$bidx" | sed 's/.*"docs":\[//; s/\].*//' | tr ',' '\n' | grep -c .)
[ "$nd" -gt 1 ] || fail "expected the cases in several parts"
[ "$(ls "$TMP/bigsite/assets/search" | grep -c '^d[0-9]*\.js$')" = "$nd" ] || fail "case parts and manifest disagree"
[ "$(grep -c '' "$TMP/bigsite/data/cases.csv")" = 131 ] || fail "cases.csv of the big handbook"
