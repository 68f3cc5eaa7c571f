# The plugins' case hooks run side by side (a thread per plugin, pipelined),
# yet every plugin sees what the documented order gives: on any case, what
# the plugins before it did (even to cases they reach only later), its own
# changes, and nothing of the plugins after it; site hooks see everything.
# The site hooks run side by side too, and each sees what the site hooks
# before it did (to any case, free page or the site) and nothing of those
# after it. Reports and pages from several plugins come out in plugin order,
# and the site is the same as with -j 1 (one plugin after another). A case
# hook may change only its own case; a stopped plugin does not hold up the
# others.
. "$(dirname "$0")/lib.sh"
# order_is WHAT EXPECTED LINES: LINES, each followed by a space, are EXPECTED.
order_is() { [ "$(printf '%s\n' "$3" | tr '\n' ' ')" = "$2" ] || fail "$1 out of plugin order: $3"; }
# both_ways NAME CHECK: build $src side by side (-j 0) and one plugin after
# another (-j 1) into $TMP/NAME-j0 and -j1, run `CHECK SITE JOBS` after each
# build ($ERR holds its report), and require the two sites to be the same.
both_ways() {
	for jobs in 0 1; do
		run_cb build -s "$src" -o "$TMP/$1-j$jobs" -j $jobs -v
		expect_rc 0
		"$2" "$TMP/$1-j$jobs" "$jobs"
	done
	diff -r "$TMP/$1-j0" "$TMP/$1-j1" >/dev/null ||
		fail "$1: the site made side by side differs from the one made one plugin after another"
}
src=$(copy_site plugin-runtime)
i=1
while [ $i -le 40 ]; do
	n=$(printf 'c%02d' $i)
	sed "s/^title: \"Beta\"/title: \"Case $n\"/" "$src/content/cases/b.md" >"$src/content/cases/$n.md"
	i=$((i + 1))
done
cases=42

cat >"$src/plugins/first.lua" <<'EOF'
return {case = function(c, site)
  c:set("mark", "first:" .. c.slug)
  c:facet("phase", "co-design")
  if c.slug == "c40" then c:omit("context") end
  if c.slug == "a" then
    site:warn(c, 1, "from first")
    site:page{path = "first.html", template = "probe", title = "First", nav = true}
  end
end}
EOF
cat >"$src/plugins/second.lua" <<'EOF'
local checked = 0
return {case = function(c, site)
  -- every case, those the first plugin has not reached yet included
  for _, d in ipairs(site.cases) do
    assert(d:get("mark") == "first:" .. d.slug,
           "first's value of " .. d.slug .. " is " .. tostring(d:get("mark")))
    assert(d.facets.phase and d.facets.phase[1].term == "co-design" and #d.facets.phase == 1,
           "first's facet of " .. d.slug)
    assert(d:get("late") == nil, "third's value of " .. d.slug .. " is visible to second")
  end
  assert(site:case("c40"):section("context").omitted, "first's c:omit of c40 is not visible")
  assert(not site:case("c39"):section("context").omitted, "c39's section is omitted")
  if c.slug == "a" then site:warn(c, 1, "from second") end
  checked = checked + 1
  c:set("second", checked)
end,
site = function(site)
  for _, d in ipairs(site.cases) do
    assert(d:get("late") == true and d:get("mark") == "third", "site hook sees " .. d.slug)
    assert(d:get("second") == d.index, "second's value of " .. d.slug)
  end
  site:note(nil, nil, "second checked " .. checked .. " cases")
end}
EOF
cat >"$src/plugins/third.lua" <<'EOF'
return {case = function(c, site)
  assert(c:get("mark") == "first:" .. c.slug, "third sees first's value")
  assert(c:get("second") == c.index, "third sees second's value")
  c:set("mark", "third")
  assert(c:get("mark") == "third", "third sees its own value")
  c:set("late", true)
  c:facet("phase", "co-design") -- already there: kept once
  c:facet("phase", "co-delivery")
  if c.slug == "a" then
    site:warn(c, 1, "from third")
    site:page{path = "third.html", template = "probe", title = "Third", nav = true}
  end
end}
EOF
printf 'title: "Pipeline"\ntheme: probe\nplugins: [first, second, third]\n' >"$src/casebook.yml"

check_case_hooks() {
	contains "$ERR" "second checked $cases cases"
	# Three warnings at the same place: in plugin order.
	order_is "warnings (-j $2)" "warning: from first warning: from second warning: from third " \
		"$(printf '%s\n' "$ERR" | grep -o 'warning: from [a-z]*')"
	# Pages asked for by case hooks: in the navigation in plugin order (the
	# first navigation of the page).
	order_is "navigation (-j $2)" 'href="first.html">First href="third.html">Third ' \
		"$(grep -o 'href="[a-z]*\.html">\(First\|Third\)' "$1/index.html" | head -2)"
	file_lacks "$1/cases/c40.html" '<h2 id="context">'
	file_contains "$1/cases/c39.html" '<h2 id="context">'
}
both_ways site check_case_hooks
# Both facets, each once, in the order they were recorded.
file_contains "$TMP/site-j0/data/cases.json" '"co-design"'
file_contains "$TMP/site-j0/data/cases.json" '"co-delivery"'

# Site hooks side by side. s1 is slow and changes cases, a free page and
# the site; s2 and s3 work before reading anything s1 may change, then must
# see all of it; s1 must never see what s2 and s3 set meanwhile, and s2 not
# what s3 set. The last value set wins, as one after another.
printf '\n## Extra\n\nMore notes.\n' >>"$src/content/pages/notes.md"
cat >"$src/plugins/s1.lua" <<'EOF'
return {site = function(site)
  local spin = 0
  for round = 1, 30 do
    for _, d in ipairs(site.cases) do
      spin = spin + #d.slug
      assert(d:get("by") == nil and d:get("s3") == nil, "s1 sees a later site hook's value")
    end
  end
  for _, d in ipairs(site.cases) do d:set("by", "s1") end
  site:case("a"):facet("phase", "co-delivery")
  site:case("c07"):omit("context")
  site:doc("content/pages/notes.md"):omit("extra")
  site:warn(site:case("a"), 1, "site hook s1")
  site:page{path = "s1.html", template = "probe", title = "S1", nav = true}
  for _, d in ipairs(site.cases) do
    assert(d:get("s2") == nil, "s1 sees s2's value of " .. d.slug)
  end
end}
EOF
cat >"$src/plugins/s2.lua" <<'EOF'
return {site = function(site)
  for _, d in ipairs(site.cases) do d:set("s2", d.slug) end -- before s1 is done
  for _, d in ipairs(site.cases) do
    assert(d:get("by") == "s1", "s2 does not see s1's value of " .. d.slug)
    assert(d:get("s3") == nil, "s2 sees s3's value of " .. d.slug)
    d:set("by", "s2")
  end
  local phase = site:case("a").facets.phase
  assert(phase and phase[1].term == "co-delivery", "s2 does not see s1's facet")
  assert(site:case("c07"):section("context").omitted, "s2 does not see s1's c:omit")
  assert(not site:case("c08"):section("context").omitted, "c08's section is omitted")
  assert(site:doc("content/pages/notes.md"):section("extra").omitted,
         "s2 does not see s1's c:omit of a free page")
  site:warn(site:case("a"), 1, "site hook s2")
end}
EOF
cat >"$src/plugins/s3.lua" <<'EOF'
return {site = function(site)
  for _, d in ipairs(site.cases) do d:set("s3", true) end
  local seen = {}
  for _, d in ipairs(site.cases) do
    assert(d:get("by") == "s2" and d:get("s2") == d.slug, "s3 does not see s2's values")
    seen[#seen + 1] = d.slug .. "=" .. d:get("by")
  end
  site:warn(site:case("a"), 1, "site hook s3")
  site:page{path = "s3.html", template = "probe", title = "S3", nav = true}
  site:data("seen", seen)
end}
EOF
printf 'title: "Pipeline"\ntheme: probe\nplugins: [s1, s2, s3]\n' >"$src/casebook.yml"
check_site_hooks() {
	order_is "site hooks' warnings (-j $2)" \
		"warning: site hook s1 warning: site hook s2 warning: site hook s3 " \
		"$(printf '%s\n' "$ERR" | grep -o 'warning: site hook s[0-9]')"
	order_is "site hooks' navigation (-j $2)" 'href="s1.html">S1 href="s3.html">S3 ' \
		"$(grep -o 'href="s[13]\.html">S[13]' "$1/index.html" | head -2)"
	file_contains "$1/data/seen.json" '"c07=s2"'
	file_lacks "$1/cases/c07.html" '<h2 id="context">'
	file_contains "$1/cases/c08.html" '<h2 id="context">'
	file_lacks "$1/notes.html" 'id="extra"'
	file_contains "$1/data/cases.json" '"co-delivery"'
}
both_ways sites check_site_hooks
contains "$ERR" "(one plugin after another)"

# A site hook starts as soon as its own plugin's case hooks are done, while
# the case hooks of the plugins after it still run: early's site hook first
# sets values (kept apart: slow's case hooks never see them), then reads
# what slow's case hooks did to every case and the free page, and adds a
# page, which comes after the one slow asked for from a case hook (same
# title, so the navigation keeps the order they were added in).
cat >"$src/plugins/early.lua" <<'EOS'
return {case = function(c) c:set("early", c.slug) end,
site = function(site)
  for _, d in ipairs(site.cases) do d:set("early_site", true) end
  for _, d in ipairs(site.cases) do
    assert(d:get("late") == "late:" .. d.slug, "early's site hook does not see slow's value of " .. d.slug)
    local phase = d.facets.phase
    assert(phase and phase[#phase].term == "co-delivery", "early's site hook misses slow's facet of " .. d.slug)
  end
  assert(site:case("c40"):section("context").omitted, "early's site hook misses slow's c:omit")
  assert(not site:case("c39"):section("context").omitted, "c39's section is omitted")
  site:page{path = "early.html", template = "probe", title = "Added", nav = true}
  site:note(nil, nil, "early saw every case")
end}
EOS
cat >"$src/plugins/slow.lua" <<'EOS'
return {case = function(c, site)
  local spin = 0
  for round = 1, 2000 do spin = spin + round % 7 end
  for _, d in ipairs(site.cases) do
    assert(d:get("early_site") == nil, "slow's case hook sees early's site hook's value of " .. d.slug)
  end
  assert(c:get("early") == c.slug, "slow does not see early's value")
  c:set("late", "late:" .. c.slug)
  c:facet("phase", "co-delivery")
  if c.slug == "c40" then c:omit("context") end
  if c.slug == "a" then site:page{path = "slow.html", template = "probe", title = "Added", nav = true} end
end}
EOS
printf 'title: "Pipeline"\ntheme: probe\nplugins: [early, slow]\n' >"$src/casebook.yml"
check_early_site_hook() {
	contains "$ERR" "early saw every case"
	order_is "pages of case and site hooks (-j $2)" 'href="slow.html">Added href="early.html">Added ' \
		"$(grep -o 'href="[a-z]*\.html">Added' "$1/index.html" | head -2)"
	file_lacks "$1/cases/c40.html" '<h2 id="context">'
}
both_ways early check_early_site_hook

# A case hook changes only its own case.
printf '%s\n' 'return {case = function(c, site)
  if c.slug == "a" then site:case("b"):set("x", 1) end
end}' >"$src/plugins/other.lua"
printf 'title: "Pipeline"\ntheme: probe\nplugins: [other]\n' >"$src/casebook.yml"
run_cb build -s "$src" -o "$TMP/other"
expect_rc 1
contains "$ERR" 'plugins/other.lua:2: error: c:set: a case hook may change only the case it was given, not content/cases/b.md (change other cases and pages from the site hook) (while processing content/cases/a.md)'
printf '%s\n' 'return {case = function(c, site)
  if c.slug == "a" then site:doc("content/pages/notes.md"):omit("x") end
end}' >"$src/plugins/other.lua"
run_cb build -s "$src" -o "$TMP/other"
expect_rc 1
contains "$ERR" 'c:omit: a case hook may change only the case it was given, not content/pages/notes.md'
# ... and the site hook may change any.
printf '%s\n' 'return {site = function(site)
  site:case("b"):set("x", 1)
  site:case("b"):facet("phase", "co-design")
end}' >"$src/plugins/other.lua"
run_cb build -s "$src" -o "$TMP/other"
expect_rc 0

# A plugin stopped by its budget on the first case does not hold up the
# plugins after it, which wait for it.
printf '%s\n' 'return {case = function(c) while true do end end}' >"$src/plugins/loop.lua"
printf '%s\n' 'return {case = function(c, site)
  for _, d in ipairs(site.cases) do
    assert(d:get("mark") == (d.index < c.index and "after" or nil), "own values of after")
  end
  c:set("mark", "after")
end, site = function(site) site:note(nil, nil, "after ran") end}' >"$src/plugins/after.lua"
printf 'title: "Pipeline"\ntheme: probe\nplugins: [loop, after]\nplugin_limits: {instructions: 100000}\n' >"$src/casebook.yml"
run_cb build -s "$src" -o "$TMP/loop" -v
expect_rc 1
contains "$ERR" "plugin 'loop' ran out of its instruction budget"
contains "$ERR" "after ran"
