-- lessons: the lessons for practice (docs/plugins.md).
--
-- Every list item under a "Lessons for practice" heading is a lesson with a
-- stable id, shown on the case page in <section id="lessons"> (the theme
-- renders case.lessons; the heading's own section is left out of the body),
-- collected on lessons.html grouped by theme, on lesson-theme/index.html (the
-- themes with their counts) and in data/lessons.json.
--
-- Themes come from content/taxonomies/lesson-theme.yml. A lesson names its
-- theme with a marker at its end, "[theme: <id>]", which is removed from the
-- text; a lesson without one is given a theme by the keyword rule below
-- (marked as derived), or listed as unthemed.
--
-- Settings (casebook.yml, optional):
--   lessons:
--     heading: "Lessons for practice"   -- the heading that holds the lessons

local themes       -- {id, label, definition, citation, keywords} in vocabulary order
local theme_by_id
local theme_ids
local all = {}     -- every lesson, in site order
local heading      -- folded heading text

-- Keywords are looked up by the first three letters of each word of a
-- lesson, so a lesson costs a few table lookups, not one search per keyword.
local by_prefix    -- first three letters -> {{stem =, theme =}}
local phrases      -- keywords of several words: {{pattern =, theme =}}

local function setup(site)
  if themes then return end
  themes, theme_by_id, theme_ids, by_prefix, phrases = {}, {}, {}, {}, {}
  local h = site.settings.heading
  if h ~= nil and type(h) ~= "string" then
    site:error("casebook.yml", site:where("heading"), "lessons.heading must be a heading's text",
               {code = "lessons-settings"})
    h = nil
  end
  heading = casebook.fold(h or "Lessons for practice")
  local tax = site:taxonomy("lesson-theme")
  for _, t in ipairs(tax and tax.terms or {}) do
    local th = {id = t.id, label = t.label or t.id, definition = t.definition,
                citation = t.citation}
    for _, k in ipairs(t.keywords or {}) do
      local kw = type(k) == "string" and casebook.fold(k) or ""
      if kw:find("^%w+$") then
        local list = by_prefix[kw:sub(1, 3)] or {}
        by_prefix[kw:sub(1, 3)] = list
        list[#list + 1] = {stem = kw, theme = th}
      elseif kw:find("%w") then
        phrases[#phrases + 1] = {pattern = "%f[%w]" .. kw:gsub("%p", "%%%0"), theme = th}
      end
    end
    themes[#themes + 1] = th
    theme_by_id[t.id] = th
    theme_ids[#theme_ids + 1] = t.id
    th.order = #themes
  end
end

-- The keyword rule: in the lesson's folded text (lower case, no accents),
-- count for each theme how many of its keywords occur at the start of a word
-- ("recruit" matches "recruiting"; "social media" matches the phrase). The
-- theme with the most wins; a tie goes to the theme listed first in
-- lesson-theme.yml; no keyword at all leaves the lesson unthemed.
local function theme_by_keywords(folded)
  local found, count = {}, {}
  for word in folded:gmatch("%w+") do
    local list = by_prefix[word:sub(1, 3)]
    if list then
      for _, k in ipairs(list) do
        if not found[k] and word:sub(1, #k.stem) == k.stem then
          found[k] = true
          count[k.theme] = (count[k.theme] or 0) + 1
        end
      end
    end
  end
  for _, p in ipairs(phrases) do
    if not found[p] and folded:find(p.pattern) then
      found[p] = true
      count[p.theme] = (count[p.theme] or 0) + 1
    end
  end
  local best, best_n = nil, 0
  for th, n in pairs(count) do
    if n > best_n or (n == best_n and th.order < best.order) then best, best_n = th, n end
  end
  return best
end

-- s with every run of spaces made one space. Most lessons have none to
-- collapse, which plain searches tell faster than a pattern would.
local function squash(s)
  for _, ws in ipairs{"  ", "\n", "\t", "\r", "\f", "\v"} do
    if s:find(ws, 1, true) then return (s:gsub("%s+", " ")) end
  end
  return s
end

-- A stable id: "lesson-" .. the first words of the lesson .. a hash of the
-- case's slug and the lesson's own text (folded, spaces collapsed). Other
-- lessons moving, being added or removed never change it; editing the
-- lesson's text does.
local function lesson_id(slug, folded)
  local words = {}
  for w in folded:gmatch("%w+") do
    words[#words + 1] = w
    if #words == 5 then break end
  end
  local stem = table.concat(words, "-")
  if #stem > 40 then stem = stem:sub(1, 40):gsub("%-[^%-]*$", "") end
  local hash = casebook.hash(slug .. "\n" .. squash(folded), 6)
  return "lesson-" .. (stem ~= "" and (stem .. "-") or "") .. hash
end

-- The theme marker ends a lesson: "... [theme: id]". A pattern starting
-- with %s* would be tried at every position of every lesson; instead each
-- "[theme:" is found by plain search and the rest matched from there.
local TEXT_MARKER = "^%[theme:%s*([^%]]-)%s*%]%s*$"      -- captures the id
local HTML_MARKER_P = "^%[theme:%s*[^%]<]-%s*%](%s*</p>%s*)$" -- keeps the </p>
local HTML_MARKER = "^%[theme:%s*[^%]<]-%s*%]()%s*$"
local SPACE = {[9] = true, [10] = true, [11] = true, [12] = true, [13] = true, [32] = true}

-- The first "[theme:" of s from which the anchored pattern pat matches: its
-- position and pat's capture, or nil.
local function marker_at(s, pat)
  local at = s:find("[theme:", 1, true)
  while at do
    local cap = s:match(pat, at)
    if cap then return at, cap end
    at = s:find("[theme:", at + 1, true)
  end
end

-- s before byte i, without the spaces that end it.
local function before(s, i)
  local e = i - 1
  while e > 0 and SPACE[s:byte(e)] do e = e - 1 end
  return s:sub(1, e)
end

-- Where the marker that ends item's text (at byte `at`) is in the source. The item's last
-- character is then the marker's "]", and the marker is written as it reads
-- when it holds nothing Markdown changes (entities, escapes, "--", quotes)
-- and its HTML is its text (no emphasis or code in it, none around it).
-- Otherwise the error goes to the item's start.
local function marker_pos(item, at)
  local marker = item.text:sub(at):gsub("%s+$", "")
  local html = item.html:gsub("%s*</p>%s*$", "")
  if item.end_line and marker:find("^%[theme:[ %w_%-]*%]$") and
     not marker:find("--", 1, true) and html:sub(-#marker) == marker then
    return {line = item.end_line, col = item.end_col - #marker + 1}
  end
  return item
end

local function find_section(sections)
  for _, s in ipairs(sections) do
    if casebook.fold(s.title):gsub("%s+", " ") == heading then return s end
    local inner = find_section(s.children)
    if inner then return inner end
  end
  return nil
end

local function case_hook(c, site)
  setup(site)
  local sec = find_section(c.sections)
  if not sec then return end
  local items = sec.items
  -- A lessons section without items (and a case without one) is an error
  -- the loader reports (cb_lint: lessons-empty, lessons-missing).
  if #items == 0 then return end
  -- Only the lists are shown (as lessons): say so if anything else is there.
  local rest = sec.html:gsub("<[uo]l.*</[uo]l>", "")
  if rest:find("%S") or #sec.children > 0 then
    site:warn(c, sec, "only the list items of '" .. sec.title .. "' are shown, as lessons; " ..
              "the rest of the section is left out", {code = "lessons-extra"})
  end
  local lessons, seen = {}, {}
  local slug, case_title, case_url = c.slug, c.title, c.url
  for _, item in ipairs(items) do
    local text, html = item.text, item.html
    local at, marked = marker_at(text, TEXT_MARKER)
    local theme, derived
    if marked then
      text = before(text, at)
      -- In a paragraph ("...[theme: id]</p>") or not (a tight list).
      local hat, tail = marker_at(html, HTML_MARKER_P)
      if hat then
        html = before(html, hat) .. tail
      else
        hat = marker_at(html, HTML_MARKER)
        if hat then html = before(html, hat) end
      end
      theme = theme_by_id[marked]
      if not theme then
        local s = casebook.suggest(marked, theme_ids)
        site:error(c, marker_pos(item, at),
                   string.format("unknown lesson theme '%s'%s", marked,
                   s and string.format("; did you mean '%s'?", s) or ""),
                   {code = "unknown-term",
                    hint = #theme_ids > 0 and ("themes: " .. table.concat(theme_ids, ", ")) or
                           "there is no content/taxonomies/lesson-theme.yml"})
      end
    elseif text:find("[theme:", 1, true) then
      site:error(c, item, "a theme marker must end the lesson: '... [theme: id]'",
                 {code = "lesson-marker"})
      marked = true -- no keyword rule for it
    end
    if not text:find("%S") then
      -- "-", "- <!-- later -->" or a marker alone: nothing to show.
      site:error(c, item, "this lesson is empty: write it, or remove the list item",
                 {code = "lesson-empty"})
      goto next
    end
    local folded = casebook.fold(text)
    if not marked and not theme then
      theme = theme_by_keywords(folded)
      derived = theme ~= nil
    end
    local id = lesson_id(slug, folded)
    if seen[id] then
      seen[id] = seen[id] + 1
      id = id .. "-" .. seen[id]
    else
      seen[id] = 1
    end
    local lesson = {id = id, text = text, html = html}
    if theme then
      -- Shared by every lesson of this theme (and way of being themed).
      local key = derived and "derived" or "marked"
      theme[key] = theme[key] or casebook.freeze{
        id = theme.id, label = theme.label, url = "lessons.html#theme-" .. theme.id,
        derived = derived or false}
      lesson.theme = theme[key]
    end
    lessons[#lessons + 1] = lesson
    -- One frozen entry, shared by lessons.html and data/lessons.json.
    all[#all + 1] = {theme = theme, value = casebook.freeze{
      id = id, text = text, theme = theme and theme.id or casebook.null,
      derived = derived or false, case = slug, case_title = case_title,
      url = case_url .. "#" .. id}}
    ::next::
  end
  c:set("lessons", {items = lessons})
  c:omit(sec.id)
end

local function site_hook(site)
  setup(site)
  local groups, by_theme, unthemed = {}, {}, {}
  for _, th in ipairs(themes) do
    local g = {id = th.id, anchor = "theme-" .. th.id, label = th.label,
               definition = th.definition, lessons = {}}
    groups[#groups + 1] = g
    by_theme[th.id] = g
  end
  local data = {}
  for i, l in ipairs(all) do
    local list = l.theme and by_theme[l.theme.id].lessons or unthemed
    list[#list + 1] = l.value
    data[i] = l.value
  end
  local terms = {}
  for _, g in ipairs(groups) do
    g.count = #g.lessons
    local th = theme_by_id[g.id]
    terms[#terms + 1] = {id = g.id, label = g.label, definition = th.definition,
                         citation = th.citation, count = g.count,
                         count_text = g.count .. (g.count == 1 and " lesson" or " lessons"),
                         url = "lessons.html#" .. g.anchor}
  end
  site:page{path = "lessons.html", template = "lessons", title = "Lessons for practice",
            nav = "Lessons", nav_order = 20,
            data = {groups = groups,
                    unthemed = #unthemed > 0 and {count = #unthemed, lessons = unthemed} or nil,
                    total = #all}}
  local tax = site:taxonomy("lesson-theme")
  if tax then
    site:page{path = "lesson-theme/index.html", template = "taxonomy",
              title = tax.title or "Lesson themes",
              data = {taxonomy = {name = tax.name, title = tax.title or "Lesson themes",
                                  description = tax.description},
                      sources = tax.citations and #tax.citations > 0 and {items = tax.citations}
                                or nil,
                      terms = terms,
                      summary = string.format("%d of %d lessons have a theme; the others are " ..
                                              "listed as unthemed on the lessons page.",
                                              #all - #unthemed, #all)}}
  end
  site:data("lessons", data)
end

return {
  name = "lessons",
  description = "Collects the lessons for practice, with stable ids and themes",
  case = case_hook,
  site = site_hook,
}
