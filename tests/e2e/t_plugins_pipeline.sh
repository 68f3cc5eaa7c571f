# The plugins' case hooks run side by side (a thread per plugin, pipelined),
# yet every plugin sees what the documented order gives: on any case, what
# the plugins before it did (even to cases they reach only later), its own
# changes, and nothing of the plugins after it; site hooks see everything.
# Reports and pages from several plugins come out in plugin order, and the
# site is the same as with -j 1 (one plugin after another). A case hook may
# change only its own case; a stopped plugin does not hold up the others.
. "$(dirname "$0")/lib.sh"
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

for jobs in 0 1; do
	run_cb build -s "$src" -o "$TMP/site-j$jobs" -j $jobs -v
	expect_rc 0
	contains "$ERR" "second checked $cases cases"
	# Three warnings at the same place: in plugin order.
	order=$(printf '%s\n' "$ERR" | grep -o 'warning: from [a-z]*' | tr '\n' ' ')
	[ "$order" = "warning: from first warning: from second warning: from third " ] ||
		fail "warnings out of plugin order (-j $jobs): $order"
	# Pages asked for by case hooks: in the navigation in plugin order (the
	# first navigation of the page).
	nav=$(grep -o 'href="[a-z]*\.html">\(First\|Third\)' "$TMP/site-j$jobs/index.html" | head -2 | tr '\n' ' ')
	[ "$nav" = 'href="first.html">First href="third.html">Third ' ] || fail "navigation order: $nav"
	file_lacks "$TMP/site-j$jobs/cases/c40.html" '<h2 id="context">'
	file_contains "$TMP/site-j$jobs/cases/c39.html" '<h2 id="context">'
done
diff -r "$TMP/site-j0" "$TMP/site-j1" >/dev/null || fail "the pipelined site differs from the one-after-another one"
# Both facets, each once, in the order they were recorded.
file_contains "$TMP/site-j0/data/cases.json" '"co-design"'
file_contains "$TMP/site-j0/data/cases.json" '"co-delivery"'

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
