-- crosslink: links between cases (docs/plugins.md).
--
--  * Checks every link of every case and free page to a case, a page or a
--    heading: a missing target is an error at the link's file:line:col.
--  * Backlinks: a case linked from other cases lists them (case.backlinks).
--  * Related cases: up to `max` other cases ranked by the weighted facets and
--    tags they share with the case (case.related), ties broken by title.
--    Scores come from an inverted index (casebook.index), so the cost grows
--    with the cases that share something, never with all pairs.
--
-- Runs after classify (it uses the facets classify records). Settings
-- (casebook.yml, all optional):
--   crosslink:
--     weights: {sector: 3, phase: 2, type: 2, risk: 2, tags: 2, ...}  -- replace the defaults
--     max: 5          -- related cases per case
--     min_score: 1    -- a related case must share at least this much

local DEFAULT_WEIGHTS = {
  sector = 3, phase = 2, type = 2, level = 1, role = 1, initiator = 1, task = 1,
  ["coproducer-role"] = 1, motivation = 1, risk = 2, tags = 2,
}

local index
local weights, max_related, min_score
local backlinks = {}   -- slug -> {slug -> true}
local tag_text = {}    -- "tag:<folded>" -> the tag as first written
local info = {}        -- slug -> {title =, url =}
local to_check = {}    -- {doc, link} for every link that points inside the site

local function setup(site)
  if index then return end
  index = casebook.index()
  local s = site.settings
  -- Weights given in casebook.yml replace the defaults: what they leave out
  -- counts for nothing.
  weights = {}
  if s.weights == nil then
    for k, v in pairs(DEFAULT_WEIGHTS) do weights[k] = v end
  else
    if type(s.weights) ~= "table" or #s.weights > 0 then -- a list is no map
      site:error("casebook.yml", site:where("weights"),
                 "crosslink.weights must be a map (name: weight)", {code = "crosslink-settings"})
    else
      for k, v in pairs(s.weights) do
        if type(v) ~= "number" or v < 0 then
          site:error("casebook.yml", site:where("weights", k), string.format(
            "crosslink.weights.%s must be a number of at least 0", tostring(k)),
            {code = "crosslink-settings"})
        elseif k ~= "tags" and not site:taxonomy(k) then
          local names = {"tags"}
          for _, t in ipairs(site.taxonomies) do names[#names + 1] = t.name end
          local sugg = casebook.suggest(k, names)
          local w = site:where("weights", k) -- at the name, not its weight
          site:error("casebook.yml", {line = w.key_line or w.line, col = w.key_col or w.col},
                     string.format(
            "crosslink.weights: '%s' is neither a vocabulary nor 'tags'%s", k,
            sugg and ("; did you mean '" .. sugg .. "'?") or ""), {code = "crosslink-settings"})
        else
          weights[k] = v
        end
      end
    end
  end
  max_related, min_score = 5, 1
  if s.max ~= nil then
    if math.type(s.max) ~= "integer" or s.max < 1 or s.max > 1000 then
      site:error("casebook.yml", site:where("max"),
                 "crosslink.max must be a whole number from 1 to 1000 (related cases per case)",
                 {code = "crosslink-settings"})
    else
      max_related = s.max
    end
  end
  if s.min_score ~= nil then
    if type(s.min_score) ~= "number" or s.min_score < 0 then
      site:error("casebook.yml", site:where("min_score"),
                 "crosslink.min_score must be a number of at least 0", {code = "crosslink-settings"})
    else
      min_score = s.min_score
    end
  end
  -- A misspelt setting would be ignored: name the one meant.
  for k in pairs(s) do
    if k ~= "weights" and k ~= "max" and k ~= "min_score" then
      local sugg = type(k) == "string" and casebook.suggest(k, {"weights", "max", "min_score"})
      if sugg then
        -- At the misspelt name, not its value.
        local w = site:where(k)
        site:warn("casebook.yml", {line = w.key_line or w.line, col = w.key_col or w.col},
                  string.format("unknown crosslink setting '%s' (it is ignored); did you mean '%s'?",
                                k, sugg), {code = "crosslink-settings"})
      end
    end
  end
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

local function case_hook(c, site)
  setup(site)
  local features = {}
  local facets = c.facets
  for _, tax in ipairs(sorted_keys(facets)) do
    local w = weights[tax]
    if w and w > 0 then
      for _, f in ipairs(facets[tax]) do features[tax .. ":" .. f.term] = w end
    end
  end
  local tags = c.meta.tags
  if type(tags) == "string" then tags = {tags} end
  if weights.tags and weights.tags > 0 and type(tags) == "table" then
    for _, tag in ipairs(tags) do
      if type(tag) == "string" then
        local key = "tag:" .. casebook.fold(tag)
        features[key] = weights.tags
        tag_text[key] = tag_text[key] or tag
      end
    end
  end
  local slug, title = c.slug, c.title
  index:add(slug, title, features)
  -- Frozen: every related list and backlink list shares one copy.
  info[slug] = {title = casebook.freeze(title), url = casebook.freeze(c.url),
                link = casebook.freeze{title = title, url = c.url}}
  for _, l in ipairs(c.links) do
    local kind = l.kind
    if kind == "case" or kind == "page" or kind == "anchor" or kind == "file" then
      -- checked in the site hook, once every plugin has set its ids (lessons)
      to_check[#to_check + 1] = c
      to_check[#to_check + 1] = {kind = kind, target = l.target, path = l.path,
                                 anchor = l.anchor, url = l.url, line = l.line, col = l.col,
                                 image = l.image}
    end
    if kind == "case" and l.target ~= slug and site:case(l.target) then
      local set = backlinks[l.target] or {}
      backlinks[l.target] = set
      set[slug] = true
    end
  end
end

-- {=== link checks ===}

local anchors_of = setmetatable({}, {__mode = "k"})
local item_ids_of = setmetatable({}, {__mode = "k"})

-- The ids of the headings on the page of doc d (except those of sections
-- plugins left out of the body) and of the theme's own sections
-- (casebook.reserved_ids).
local function anchors(d)
  local a = anchors_of[d]
  if a then return a end
  a = {}
  local function walk(sections)
    for _, s in ipairs(sections) do
      if not s.omitted then -- a section a plugin left out is not on the page
        a[s.id] = true
        walk(s.children)
      end
    end
  end
  walk(d.sections)
  for _, id in ipairs(casebook.reserved_ids) do a[id] = true end
  anchors_of[d] = a
  return a
end

-- The ids of the items plugins set on a case page (lessons, ...).
local function item_ids(d)
  local a = item_ids_of[d]
  if a then return a end
  a = {}
  if d.kind == "case" then
    for _, key in ipairs{"lessons", "related", "backlinks"} do
      local v = d:get(key)
      if type(v) == "table" and type(v.items) == "table" then
        for _, item in ipairs(v.items) do
          if type(item) == "table" and type(item.id) == "string" then a[item.id] = true end
        end
      end
    end
  end
  item_ids_of[d] = a
  return a
end

local function anchor_list(d)
  local list = {}
  for id in pairs(anchors(d)) do list[#list + 1] = id end
  for id in pairs(item_ids(d)) do list[#list + 1] = id end
  table.sort(list)
  return list
end

local function check_anchor(site, d, l, target)
  if l.anchor and not anchors(target)[l.anchor] and not item_ids(target)[l.anchor] then
    local s = casebook.suggest(l.anchor, anchor_list(target))
    site:error(d, l, string.format("no heading '#%s' in %s%s", l.anchor, target.path,
                                   s and string.format("; did you mean '#%s'?", s) or ""),
               {code = "broken-link"})
  end
end

local slugs

local function check_link(site, d, l)
  if l.kind == "case" then
    local target = site:case(l.target)
    if not target then
      if not slugs then
        slugs = {}
        for i, c in ipairs(site.cases) do slugs[i] = c.slug end
      end
      local s = casebook.suggest(l.target, slugs)
      site:error(d, l, string.format("link to a missing case '%s' (%s)%s", l.url, l.path,
                                     s and string.format("; did you mean '%s.md'?", s) or ""),
                 {code = "broken-link"})
    else
      check_anchor(site, d, l, target)
    end
  elseif l.kind == "page" then
    local target = site:doc(l.path)
    if not target then
      site:error(d, l, string.format("link to a missing page '%s' (%s)", l.url, l.path),
                 {code = "broken-link"})
    else
      check_anchor(site, d, l, target)
    end
  elseif l.kind == "anchor" and l.anchor then
    check_anchor(site, d, l, d)
  elseif l.kind == "file" and l.path and l.path:match("%.md$") and not l.image then
    site:error(d, l, string.format("link to '%s', which is neither a case " ..
                                   "(content/cases/) nor a free page (content/pages/)", l.url),
               {code = "broken-link"})
  end
end

-- {=== related cases ===}

local labels -- "tax:term" -> label

local function feature_label(site, f)
  if not labels then
    labels = {}
    for _, t in ipairs(site.taxonomies) do
      for _, term in ipairs(t.terms or {}) do
        labels[t.name .. ":" .. term.id] = term.label or term.id
      end
    end
  end
  return labels[f] or tag_text[f] or f
end

local function reason(site, shared)
  local parts = {}
  for i, f in ipairs(shared) do
    if i > 4 then
      parts[#parts] = parts[#parts] .. string.format(" and %d more", #shared - 4)
      break
    end
    parts[#parts + 1] = feature_label(site, f)
  end
  return "shares " .. table.concat(parts, ", ")
end

-- Related cases and backlinks come first: they read nothing another plugin's
-- site hook may change, so they are worked out while the site hooks before
-- this one still run (docs/plugins.md); the link checks read the ids and
-- sections those may change, and wait for them.
local function site_hook(site)
  setup(site)
  index:rank_all(max_related, min_score) -- every case's, at once, on all cores
  for _, c in ipairs(site.cases) do
    local slug = c.slug
    local items = {}
    for _, hit in ipairs(index:related(slug, max_related, min_score)) do
      local other = info[hit.key]
      items[#items + 1] = {title = other.title, url = other.url, reason = reason(site, hit.shared),
                           score = hit.score}
    end
    if #items > 0 then c:set("related", {items = items}) end
    local from = backlinks[slug]
    if from then
      local slugs = {}
      for from_slug in pairs(from) do slugs[#slugs + 1] = from_slug end
      table.sort(slugs, function(a, b)
        local x, y = site:case(a).title, site:case(b).title
        if x ~= y then return x < y end
        return a < b
      end)
      local list = {}
      for i, s in ipairs(slugs) do list[i] = info[s].link end
      c:set("backlinks", {items = list})
    end
  end
  for i = 1, #to_check, 2 do check_link(site, to_check[i], to_check[i + 1]) end
  to_check = nil
  for _, p in ipairs(site.pages) do
    for _, l in ipairs(p.links) do check_link(site, p, l) end
  end
end

return {
  name = "crosslink",
  description = "Checks links, lists backlinks and related cases",
  case = case_hook,
  site = site_hook,
}
