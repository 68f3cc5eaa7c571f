# The plugin runtime: the API (asserted from Lua by plugins/probe.lua), values
# from YAML through Lua to templates and JSON, and plugin failures: errors of
# every kind reported as plugins/x.lua:LINE with what was being processed,
# sandbox escapes refused, runaway plugins stopped; the previous site intact.
. "$(dirname "$0")/lib.sh"
src=$(copy_site plugin-runtime)
run_cb build -s "$src"
expect_rc 0
site="$src/site"
contains "$ERR" 'content/cases/a.md:4:7: warning: a warning at the year'
contains "$ERR" 'hint: just testing'
# Values: a YAML date, integers, floats, booleans, nested maps, through Lua
# (c:set, site:set) into a template and into JSON.
file_contains "$site/probe/values.html" '<p id="values">2016-05-01|42|1.5|true|off|deep|[x][y]|2016-05-01|0.25|3|site value</p>'
file_contains "$site/data/probe.json" '"date": "2016-05-01",'
file_contains "$site/data/probe.json" '"empty": {},'
file_contains "$site/data/probe.json" '"none": null'
file_contains "$site/index.html" '<a href="probe/values.html">Probe</a>'
# c:omit left the section out of the body (and the facts box shows the facet).
file_lacks "$site/cases/a.html" 'Deep text.'
file_contains "$site/cases/a.html" 'Co-design'
# print() is a note, shown with -v.
before=$(tree_hash "$site")

# use NAME CODE [YAML]: make plugins/NAME.lua the only plugin.
use() {
	printf '%s\n' "$2" > "$src/plugins/$1.lua"
	printf 'title: "Runtime handbook"\ntheme: probe\nplugins: [%s]\n%s\n' "$1" "${3:-}" > "$src/casebook.yml"
}

# An error in a case hook: file:line, the case, a short traceback; the build
# fails and the previous site stays as it was.
use boom 'local function inner(c)
  error("boom in " .. c.slug)
end
return {case = function(c, site) if c.slug == "b" then inner(c) end end}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" 'plugins/boom.lua:2: error: boom in b (while processing content/cases/b.md)'
contains "$ERR" "hint: traceback: plugins/boom.lua:2 (upvalue 'inner'), plugins/boom.lua:4 (function at line 4)"
contains "$ERR" 'the previous site is unchanged'
[ "$(tree_hash "$site")" = "$before" ] || fail "the previous site changed"

# Errors raised with a table, in a coroutine, from a metamethod, by the API.
use tbl 'return {site = function(site)
  error({code = 7})
end}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" 'plugins/tbl.lua:2: error: error object is a table: {code = 7} (in the site hook)'
use co 'return {case = function(c)
  local co = coroutine.wrap(function()
    error("inside the coroutine")
  end)
  co()
end}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" 'plugins/co.lua:3: error: inside the coroutine (while processing content/cases/a.md)'
contains "$ERR" 'plugins/co.lua:3: error: inside the coroutine (while processing content/cases/b.md)'
use meta 'local t = setmetatable({}, {__index = function(_, k)
  error("no field " .. k)
end})
return {case = function(c) return t.colour end}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" 'plugins/meta.lua:2: error: no field colour (while processing content/cases/a.md)'
use api 'return {case = function(c)
  c:set("title", "mine")
end}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" "plugins/api.lua:2: error: c:set: 'title' is filled by casebook itself and cannot be set by a plugin (choose another key) (while processing content/cases/a.md)"
use gc 'return {site = function()
  setmetatable({}, {__gc = function() error("in a finaliser") end})
end}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" 'plugins/gc.lua:2: error: error in __gc: in a finaliser'

# Each plugin has its own environment: globals and library changes of one
# are invisible to the next.
printf '%s\n' 'leaked = 1
string.upper = function() return "patched" end
return {}' > "$src/plugins/one.lua"
printf '%s\n' 'return {site = function()
  assert(rawget(_G, "leaked") == nil, "a global leaked between plugins")
  assert(("x"):upper() == "X", "a library change leaked between plugins")
  error("isolated")
end}' > "$src/plugins/two.lua"
printf 'title: "Runtime handbook"\ntheme: probe\nplugins: [one, two]\n' > "$src/casebook.yml"
run_cb build -s "$src"
expect_rc 1
contains "$ERR" 'plugins/two.lua:4: error: isolated (in the site hook)'

# Loading: syntax errors, a plugin that returns no table, unknown fields.
use syntax 'return {
  case = function(c) local x = = 1 end
}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" "plugins/syntax.lua:2: error: unexpected symbol near '=' (while loading the plugin)"
use notable 'return 42'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" 'plugins/notable.lua: error: a plugin must return a table'
use typo 'return {cases = function(c) end}'
run_cb build -s "$src" -o "$TMP/typo"
expect_rc 0
contains "$ERR" "plugins/typo.lua:1: warning: the plugin's table has an unknown field 'cases' (did you mean 'case'?) (it is ignored)"
printf 'title: "x"\ntheme: probe\nplugins:\n  - nothere\n' > "$src/casebook.yml"
run_cb build -s "$src"
expect_rc 1
contains "$ERR" "casebook.yml:4:5: error: plugin 'nothere' not found (looked for plugins/nothere.lua in the source and in the installed plugins)"

# The sandbox: every escape is an error naming the plugin's line.
for code in 'io.open("/etc/passwd")' 'os.execute("touch /tmp/casebook-escaped")' \
	'require("os")' 'dofile("/etc/passwd")' 'loadfile("/etc/passwd")' 'debug.getinfo(1)' \
	'package.loadlib("x", "y")' 'string.dump(print)' 'load("x", "x", "b")'; do
	use escape "return {site = function()
  $code
end}"
	run_cb build -s "$src"
	expect_rc 1
	contains "$ERR" 'plugins/escape.lua:2: error: '
	contains "$ERR" '(in the site hook)'
done
absent /tmp/casebook-escaped
use binary 'return {site = function()
  local f, err = load("\27Lua\84\0\25\147\r\n\26\n")
  assert(f == nil, "a binary chunk was loaded")
  error(err)
end}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" 'plugins/binary.lua:4: error: attempt to load a binary chunk'

# Limits: a runaway loop (even one that pcall tries to catch) and a memory
# bomb stop the plugin with an error that names it; one report, not one per case.
use loop 'return {case = function(c)
  while true do pcall(function() while true do end end) end
end}' 'plugin_limits: {instructions: 100000}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" "error: plugin 'loop' ran out of its instruction budget (100000 instructions per call; plugin_limits.instructions in casebook.yml) (while processing content/cases/a.md)"
[ "$(printf '%s\n' "$ERR" | grep -c 'instruction budget')" = 1 ] || fail "the plugin was not stopped: $ERR"
use bomb 'return {site = function()
  local s = string.rep("x", 1 << 30)
end}' 'plugin_limits: {memory_mb: 8}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" "plugins/bomb.lua:2: error: plugin 'bomb' exceeded its memory limit (8 MB; plugin_limits.memory_mb in casebook.yml) (in the site hook)"
use grow 'return {site = function()
  local t = {}
  for i = 1, 1e9 do t[i] = ("x"):rep(100) .. i end
end}' 'plugin_limits: {memory_mb: 8}'
run_cb build -s "$src"
expect_rc 1
contains "$ERR" "plugin 'grow' exceeded its memory limit (8 MB"
# After all these failures, the site is still the one the first build made.
[ "$(tree_hash "$site")" = "$before" ] || fail "a failed build changed the site"
