-- Exercises the plugin API; every assert is a test (a failure fails the build).
local seen = {}

local function fails(f, pattern, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern), tostring(err))
end

return {
  name = "probe",
  case = function(c, site)
    seen[#seen + 1] = c
    assert(c.kind == "case" and c.index == #seen)
    assert(site.cases[c.index] == c, "site.cases holds the same objects")
    assert(site:case(c.slug) == c and site:doc(c.path) == c)
    assert(c.url == "cases/" .. c.slug .. ".html" and c.path == "content/cases/" .. c.slug .. ".md")
    if c.slug ~= "a" then return end
    local m = c.meta
    assert(math.type(m.year) == "integer" and m.year == 2016)
    assert(tostring(m.published) == "2016-05-01" and m.published.month == 5)
    assert(m.open == true and m.closed == false and m.ratio == 0.25)
    assert(m.extra.nested.list[2] == "two" and m.extra.nested.count == 3)
    assert(m.missing == nil)
    -- the sections tree
    local secs = c.sections
    assert(#secs == 2, #secs)
    assert(secs[1].title == "Context" and secs[1].level == 2 and secs[1].line == 16)
    assert(#secs[1].children == 1 and secs[1].children[1].id == "detail")
    assert(secs[1].children[1].parent == secs[1], "section objects keep their identity")
    assert(secs[1].html:find('<h3 id="detail">Detail</h3>', 1, true))
    assert(c:section("detail").text == "Deep text.")
    assert(c:section("nope") == nil)
    local items = secs[2].items
    assert(#items == 2 and items[1].text == "First lesson." and items[1].line == 26)
    assert(items[2].html == "Second lesson.")
    assert(c.text:find("Deep text.", 1, true))
    -- links
    local l = c.links[1]
    assert(l.kind == "case" and l.target == "b" and l.anchor == "context", l.kind)
    assert(l.path == "content/cases/b.md" and l.line == 18 and l.col == 14, l.line .. ":" .. l.col)
    assert(l.url == "b.md#context" and l.text == "link" and l.image == false)
    -- where a front-matter value was written
    local w = c:where("tags", 2)
    assert(w.line == 10 and w.col == 13, w.line .. ":" .. w.col)
    assert(w.key_line == 10 and w.key_col == 1, "the field's name: " .. tostring(w.key_col))
    assert(c:where("nothing") == nil)
    -- what a plugin adds
    c:set("probe", {date = m.published, n = 42, f = 1.5, flag = true, off = false,
                    nested = {a = {b = "deep"}}, list = {"x", "y"}})
    c:facet("phase", "co-design")
    c:omit("detail")
    assert(c:section("detail").omitted and not secs[1].omitted)
    -- misuse is a Lua error, with a clear message
    fails(c.set, "'title' is filled by casebook itself", c, "title", "x")
    fails(c.set, "key 'a.b' may only use", c, "a.b", 1)
    fails(c.set, "c:set%('fn'%): f: cannot use a function", c, "fn", {f = print})
    fails(c.facet, "did you mean 'co%-design'", c, "phase", "co-designing")
    fails(c.facet, "no vocabulary 'phases'", c, "phases", "co-design")
    fails(c.omit, "no section with id 'nope'", c, "nope")
    fails(function() return c.titel end, "did you mean 'title'")
    fails(function() c.title = "x" end, "read%-only")
    fails(function() return secs[1].colour end, "a section has no field 'colour'")
  end,
  site = function(site)
    assert(#site.cases == 2 and #site.pages == 1 and site.pages[1].kind == "page")
    assert(site.pages[1].links[1].kind == "case" and site.pages[1].links[1].target == "a")
    fails(site.pages[1].set, "works on cases, not on free pages", site.pages[1], "x", 1)
    assert(site.name == "probe" and site.config.title == "Runtime handbook")
    assert(site.settings.answer == 42)
    -- where a setting was written in casebook.yml (an empty value: after its key)
    local w = site:where("answer")
    assert(w.line == 5 and w.col == 11, w.line .. ":" .. w.col)
    assert(w.key_line == 5 and w.key_col == 3, "the setting's name: " .. tostring(w.key_col))
    w = site:where("list", 2, "deep", 2)
    assert(w.line == 6 and w.col == 28, w.line .. ":" .. w.col)
    assert(w.key_line == nil, "an item has no name")
    w = site:where("list", 2, "deep")
    assert(w.key_line == 6 and w.key_col == 18, "a name in a list: " .. tostring(w.key_col))
    w = site:where("empty")
    assert(w.line == 7 and w.col == 9, w.line .. ":" .. w.col)
    assert(site:where("nothing") == nil and site:where("list", 3) == nil and
           site:where("answer", "x") == nil and site:where("list", "first") == nil and
           site:where() == nil)
    assert(site:taxonomy("phase").terms[2].id == "co-design" and site:taxonomy("nope") == nil)
    assert(site:taxonomy("phase").path == "content/taxonomies/phase.yml")
    assert(site.taxonomies[1].name == "phase")
    local a = site:case("a")
    assert(site:case("zz") == nil and site:doc("content/pages/notes.md") == site.pages[1])
    assert(a.facets.phase[1].term == "co-design" and a.facets.phase[1].derived == false)
    assert(a:get("probe").n == 42 and a:get("none") == nil)
    fails(site.page, "the theme 'probe' has no template 'nope'.- %(looked for " ..
          "themes/probe/templates/nope.mustache and in the default theme%)",
          site, {path = "nope.html", template = "nope", title = "Nope"})
    site:set("probe_flag", "site value")
    site:page{path = "probe/values.html", template = "probe", title = "Values", nav = "Probe",
              nav_order = 5, data = {values = a:get("probe"), meta = a.meta}}
    site:data("probe", {date = a.meta.published, list = {1, 2}, empty = casebook.map{},
                        none = casebook.null})
    site:warn(a, a:where("year"), "a warning at the year", {hint = "just testing", code = "probe"})
    site:note(nil, nil, "a note from the site hook")
    fails(site.page, "casebook makes itself", site, {path = "index.html", template = "probe", title = "x"})
    fails(site.page, "already has the path", site, {path = "probe/values.html", template = "probe", title = "x"})
    fails(site.page, "not a relative path", site, {path = "../x.html", template = "probe", title = "x"})
    fails(site.page, "give the page a title", site, {path = "y.html", template = "probe"})
    fails(site.set, "'site.title' is filled by casebook", site, "title", "x")
    fails(site.set, "'site.search' is filled by casebook", site, "search", "x")
    fails(site.page, "casebook makes itself", site, {path = "print.html", template = "probe", title = "x"})
    fails(site.page, "casebook makes itself", site, {path = "cases/x.html", template = "probe", title = "x"})
    fails(site.data, "may only use a%-z", site, "Bad Name", {})
    fails(site.data, "already written", site, "probe", {})
  end,
}
