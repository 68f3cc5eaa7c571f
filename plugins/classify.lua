-- classify: the vocabularies at work (docs/plugins.md).
--
-- For every case: checks each front-matter value of a vocabulary field
-- against content/taxonomies/<name>.yml (an unknown term is an error at the
-- value, with the closest term suggested), records the terms as facets, and
-- derives `type` from `task` and `phases` where the case gives no type.
--
-- For the site: a page per vocabulary (<name>/index.html: terms with
-- definitions, citations, counts and a bar chart) and per term
-- (<name>/<term>.html: the cases), vocabularies.html, matrix.html (cross
-- tabulations whose counts link to the cases of each cell) and the bar charts
-- of the home page (site.charts).
--
-- Settings (casebook.yml, all optional):
--   classify:
--     matrix: [[phase, level], [sector, phase]]     -- rows x columns
--     charts: [sector, phase, level, country]       -- on the home page
--     country_bars: 15                              -- most frequent countries charted

local vocabs       -- vocabularies that classify a field, in name order
local by_name      -- name -> vocabulary record
local members      -- name -> term -> list of {c, derived}
local countries    -- country -> count
local all_cases    -- every case, in site order

-- {=== helpers ===}

local function strings(v)
  if type(v) == "string" then return {v} end
  local out = {}
  if type(v) == "table" then
    for _, s in ipairs(v) do
      if type(s) == "string" then out[#out + 1] = s end
    end
  end
  return out
end

local function setup(site)
  if vocabs then return end
  vocabs, by_name, members, countries, all_cases = {}, {}, {}, {}, {}
  for _, tax in ipairs(site.taxonomies) do
    local ids, list, labels = {}, {}, {}
    for _, t in ipairs(tax.terms or {}) do
      ids[t.id] = t
      list[#list + 1] = t.id
      labels[t.id] = t.label or t.id
    end
    local rec = {name = tax.name, field = tax.field, tax = tax, ids = ids, list = list,
                 labels = labels}
    by_name[tax.name] = rec
    if tax.field then
      vocabs[#vocabs + 1] = rec
      members[tax.name] = {}
      for _, id in ipairs(list) do members[tax.name][id] = {} end
    end
  end
end

-- The summary a list of cases shows (the fields of the theme's case cards),
-- made once per case while its front matter is at hand, and frozen: the many
-- pages that list a case share one copy of it.
local summaries = {} -- case -> {title =, url =, value =, derived_value =}

local function summarise(c)
  local m = c.meta
  local s = {title = c.title, url = c.url, slug = c.slug, derived = false}
  if type(m.summary) == "string" then s.summary = m.summary end
  s.country = table.concat(strings(m.country), ", ")
  if math.type(m.year) == "integer" then
    s.years = tostring(m.year)
    if math.type(m.end_year) == "integer" and m.end_year ~= m.year then
      s.years = s.years .. "–" .. m.end_year
    end
  end
  local sectors = {}
  local sec = by_name.sector
  for _, id in ipairs(strings(m.sector)) do
    sectors[#sectors + 1] = sec and sec.labels[id] or id
  end
  s.sector_text = table.concat(sectors, ", ")
  local rec = {title = s.title, url = s.url, value = casebook.freeze(s)}
  rec.fields = s
  summaries[c] = rec
end

-- The shared value for case c in a list, marked when its term was derived.
local function summary_value(c, derived)
  local rec = summaries[c]
  if not derived then return rec.value end
  if not rec.derived_value then
    local copy = {}
    for k, v in pairs(rec.fields) do copy[k] = v end
    copy.derived = true
    rec.derived_value = casebook.freeze(copy)
  end
  return rec.derived_value
end

local function count_text(n, unit)
  return n .. " " .. unit .. (n == 1 and "" or "s")
end

local function by_title(a, b)
  local x, y = summaries[a.c], summaries[b.c]
  if x.title ~= y.title then return x.title < y.title end
  return x.url < y.url
end

-- {=== charts ===}

-- An accessible horizontal bar chart as an SVG string: role="img", a <title>
-- and a <desc> listing every value, visible labels and counts, and colours
-- with enough contrast on white (bars #0b5c7a: 7.6:1; text #1d2327).
-- spec = {id =, title =, unit = "case"/"lesson", bars = {{label =, count =}}, note =}
local function bar_chart(spec)
  local e = casebook.escape
  local bars = spec.bars
  local width, top, row = 480, 40, 48
  local max = 0
  for _, b in ipairs(bars) do if b.count > max then max = b.count end end
  local height = top + #bars * row + (spec.note and 24 or 4)
  local unit = spec.unit or "case"
  local function n_units(n) return n .. " " .. unit .. (n == 1 and "" or "s") end
  local desc = {}
  for _, b in ipairs(bars) do desc[#desc + 1] = b.label .. ": " .. n_units(b.count) end
  local id = "chart-" .. spec.id
  local out = {
    string.format('<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img" ' ..
                  'viewBox="0 0 %d %d" aria-labelledby="%s-title %s-desc" ' ..
                  'font-family="system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif">',
                  width, height, id, id),
    string.format('<title id="%s-title">%s</title>', id, e(spec.title)),
    string.format('<desc id="%s-desc">%s%s.</desc>', id, spec.note and (e(spec.note) .. " ") or "",
                  e(table.concat(desc, "; "))),
    string.format('<text x="0" y="20" font-size="19" font-weight="700" fill="#1d2327">%s</text>',
                  e(spec.title)),
  }
  for i, b in ipairs(bars) do
    local y = top + (i - 1) * row
    local w = max > 0 and math.floor((width - 64) * b.count / max + 0.5) or 0
    if b.count > 0 and w < 3 then w = 3 end
    out[#out + 1] = string.format('<text x="0" y="%d" font-size="16" fill="#1d2327">%s</text>',
                                  y + 16, e(b.label))
    if w > 0 then
      out[#out + 1] = string.format('<rect x="0" y="%d" width="%d" height="18" rx="2" ' ..
                                    'fill="#0b5c7a"/>', y + 23, w)
    end
    out[#out + 1] = string.format('<text x="%d" y="%d" font-size="16" font-weight="700" ' ..
                                  'fill="#1d2327">%d</text>', w + 6, y + 38, b.count)
  end
  if spec.note then
    out[#out + 1] = string.format('<text x="0" y="%d" font-size="14" fill="#50585e">%s</text>',
                                  height - 6, e(spec.note))
  end
  out[#out + 1] = "</svg>"
  return table.concat(out, "\n")
end

-- Bars of cases per term of vocabulary rec, in the vocabulary's order.
local function term_chart(rec, id)
  local bars = {}
  for _, tid in ipairs(rec.list) do
    bars[#bars + 1] = {label = rec.labels[tid], count = #members[rec.name][tid]}
  end
  return bar_chart{id = id or rec.name, title = "Cases per " .. rec.name:gsub("-", " "),
                   bars = bars}
end

local function country_chart(limit)
  local list = {}
  for name, n in pairs(countries) do list[#list + 1] = {label = name, count = n} end
  table.sort(list, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.label < b.label
  end)
  local note
  if #list > limit then
    note = string.format("The %d most frequent of %d countries.", limit, #list)
    for i = #list, limit + 1, -1 do list[i] = nil end
  end
  return bar_chart{id = "country", title = "Cases per country", bars = list, note = note}
end

-- {=== the case hook ===}

-- The type rule (Brandsen & Honingh's Table 2.1): how early citizens come in
-- decides the stage; the task (core or complementary) the other dimension.
--   co-commissioning among the phases          -> cocreation-<task>
--   co-design and co-delivery (no commissioning) -> <task>-design-implementation
--   co-delivery without co-design                -> <task>-implementation
--   anything else (co-design or co-assessment only, no phases, no task) -> no type
local function derive_type(phases, task)
  local has = {}
  for _, p in ipairs(phases) do has[p] = true end
  if has["co-commissioning"] then return "cocreation-" .. task end
  if has["co-design"] and has["co-delivery"] then return task .. "-design-implementation" end
  if has["co-delivery"] and not has["co-design"] then return task .. "-implementation" end
  return nil
end

local function check_field(c, site, rec)
  local value = c.meta[rec.field]
  if value == nil then return end
  local list = type(value) == "table" and value or {value}
  for i, term in ipairs(list) do
    if type(term) == "string" then
      if rec.ids[term] then
        c:facet(rec.name, term)
        local m = members[rec.name][term]
        m[#m + 1] = {c = c}
      elseif term:find("%f[%w_\128-\255]TODO%f[^%w_\128-\255]") then
        -- A placeholder left from the archetype: the loader reports it
        -- (cb_lint), once.
      else
        local s = casebook.suggest(term, rec.list)
        site:error(c, c:where(rec.field, type(value) == "table" and i or nil),
                   string.format("unknown %s '%s'%s", rec.name, term,
                                 s and string.format("; did you mean '%s'?", s) or ""),
                   {code = "unknown-term",
                    hint = string.format("%s takes terms of %s: %s", rec.field, rec.tax.path,
                                         table.concat(rec.list, ", "))})
      end
    end
  end
end

local function case_hook(c, site)
  setup(site)
  all_cases[#all_cases + 1] = c
  for _, rec in ipairs(vocabs) do check_field(c, site, rec) end
  local m = c.meta
  local typ, task = by_name.type, by_name.task
  if typ and task and typ.field and m[typ.field] == nil and type(m[task.field]) == "string"
     and task.ids[m[task.field]] and by_name.phase then
    local t = derive_type(strings(m[by_name.phase.field]), m[task.field])
    if t and typ.ids[t] then
      c:facet(typ.name, t, true)
      local list = members[typ.name][t]
      list[#list + 1] = {c = c, derived = true}
    end
  end
  for _, name in ipairs(strings(m.country)) do countries[name] = (countries[name] or 0) + 1 end
  summarise(c)
end

-- {=== the site hook ===}

-- Every case's place in title order (by_title), made once: a list of cases
-- is then put in that order by sorting numbers, without calling a Lua
-- comparison for every pair.
local rank, by_rank

local function rank_cases()
  if rank then return end
  local sorted = {}
  for i, c in ipairs(all_cases) do sorted[i] = {c = c} end
  table.sort(sorted, by_title)
  rank, by_rank = {}, {}
  for i, e in ipairs(sorted) do
    rank[e.c] = i
    by_rank[i] = e.c
  end
end

-- The pages the site hook makes, asked for at its end: until every case
-- hook is done, site:page would wait (docs/plugins.md), and the work of
-- making them runs meanwhile.
local pages = {}
local function add_page(p) pages[#pages + 1] = p end

local function case_list(entries)
  rank_cases()
  local keys = {}
  for i, e in ipairs(entries) do keys[i] = rank[e.c] * 2 + (e.derived and 1 or 0) end
  table.sort(keys)
  local out = {}
  for i, k in ipairs(keys) do out[i] = summary_value(by_rank[k // 2], k % 2 == 1) end
  return out
end

local function vocab_pages(rec)
  local tax = rec.tax
  local terms = {}
  local classified = {}
  for _, tid in ipairs(rec.list) do
    local t = rec.ids[tid]
    local cases = case_list(members[rec.name][tid])
    for _, e in ipairs(members[rec.name][tid]) do classified[e.c] = true end
    local url = rec.name .. "/" .. tid .. ".html"
    terms[#terms + 1] = {id = tid, label = rec.labels[tid], definition = t.definition,
                         citation = t.citation, count = #cases,
                         count_text = count_text(#cases, "case"), url = url}
    add_page{path = url, template = "term", title = rec.labels[tid] .. " · " .. (tax.title or rec.name),
              data = {taxonomy = {name = rec.name, title = tax.title or rec.name,
                                  url = rec.name .. "/index.html"},
                      term = {id = tid, label = rec.labels[tid], definition = t.definition,
                              citation = t.citation},
                      cases = cases, has_cases = #cases > 0, count = #cases,
                      count_text = count_text(#cases, "case")}}
  end
  local n = 0
  for _ in pairs(classified) do n = n + 1 end
  local summary_text = string.format("%d of %d cases have a term of this vocabulary " ..
                                     "(front-matter field “%s”).", n, #all_cases, rec.field)
  add_page{path = rec.name .. "/index.html", template = "taxonomy", title = tax.title or rec.name,
            data = {taxonomy = {name = rec.name, title = tax.title or rec.name,
                                description = tax.description, field = rec.field},
                    sources = tax.citations and #tax.citations > 0 and {items = tax.citations} or nil,
                    terms = terms, summary = summary_text,
                    chart = {svg = term_chart(rec)}}}
end

local function cell_name(a, ta, b, tb)
  return "matrix/" .. a .. "-" .. ta .. "--" .. b .. "-" .. tb .. ".html"
end

-- A cross tabulation of rows x cols: every count links to its cases.
local function matrix_table(rows, cols)
  local header = {}
  for _, ct in ipairs(cols.list) do
    header[#header + 1] = {label = cols.labels[ct], url = cols.name .. "/" .. ct .. ".html"}
  end
  -- which cases have each column term
  local in_col = {}
  for _, ct in ipairs(cols.list) do
    in_col[ct] = {}
    for _, e in ipairs(members[cols.name][ct]) do in_col[ct][e.c] = true end
  end
  local out_rows = {}
  for _, rt in ipairs(rows.list) do
    local cells = {}
    for _, ct in ipairs(cols.list) do
      local entries = {}
      for _, e in ipairs(members[rows.name][rt]) do
        if in_col[ct][e.c] then entries[#entries + 1] = e end
      end
      local title = rows.labels[rt] .. " × " .. cols.labels[ct]
      -- url = false, not nil: a missing key would find the row's url.
      local cell = {count = #entries, url = false, label = title}
      if #entries > 0 then
        cell.url = cell_name(rows.name, rt, cols.name, ct)
        add_page{path = cell.url, template = "case-list", title = title,
                  data = {heading = title,
                          lead = string.format("Cases classified as %s “%s” and %s “%s”.",
                                               rows.tax.title or rows.name, rows.labels[rt],
                                               cols.tax.title or cols.name, cols.labels[ct]),
                          back = {title = "Matrix", url = "matrix.html"},
                          cases = case_list(entries)}}
      end
      cells[#cells + 1] = cell
    end
    out_rows[#out_rows + 1] = {label = rows.labels[rt], url = rows.name .. "/" .. rt .. ".html",
                               cells = cells, total = #members[rows.name][rt]}
  end
  local totals = {}
  for _, ct in ipairs(cols.list) do totals[#totals + 1] = {count = #members[cols.name][ct]} end
  return {id = rows.name .. "-" .. cols.name,
          title = (rows.tax.title or rows.name) .. " × " .. (cols.tax.title or cols.name),
          rows_title = rows.tax.title or rows.name, cols_title = cols.tax.title or cols.name,
          header = header, rows = out_rows, totals = totals}
end

local function site_hook(site)
  setup(site)
  local settings = site.settings
  for _, rec in ipairs(vocabs) do vocab_pages(rec) end
  add_page{path = "vocabularies.html", template = "vocabularies", title = "Vocabularies",
            nav = true, nav_order = 40, data = {}}

  -- The matrix.
  local pairs_ = settings.matrix or {{"phase", "level"}, {"sector", "phase"}}
  local tables, charted, charts = {}, {}, {}
  for i, p in ipairs(pairs_) do
    local rows, cols = by_name[p[1]], by_name[p[2]]
    if not (rows and cols and rows.field and cols.field) then
      site:error("casebook.yml", site:where("matrix", i), string.format(
        "classify.matrix: %s × %s: both must be vocabularies that classify a field",
        tostring(p[1]), tostring(p[2])), {code = "classify-settings"})
    else
      tables[#tables + 1] = matrix_table(rows, cols)
      for _, rec in ipairs{rows, cols} do
        if not charted[rec.name] then
          charted[rec.name] = true
          charts[#charts + 1] = {svg = term_chart(rec, "matrix-" .. rec.name)}
        end
      end
    end
  end
  if #tables > 0 then
    add_page{path = "matrix.html", template = "matrix", title = "Matrix", nav = true,
              nav_order = 30, data = {tables = tables, charts = charts}}
  end

  -- The home page's charts.
  local home = {}
  for i, name in ipairs(settings.charts or {"sector", "phase", "level", "country"}) do
    if name == "country" then
      if next(countries) then
        home[#home + 1] = {svg = country_chart(settings.country_bars or 15)}
      end
    elseif by_name[name] and by_name[name].field then
      home[#home + 1] = {svg = term_chart(by_name[name], "home-" .. name)}
    else
      site:error("casebook.yml", site:where("charts", i),
                 string.format("classify.charts: no vocabulary '%s'", name),
                 {code = "classify-settings"})
    end
  end
  for _, p in ipairs(pages) do site:page(p) end
  if #home > 0 then site:set("charts", {items = home}) end
end

return {
  name = "classify",
  description = "Checks vocabulary terms, classifies cases, makes vocabulary pages, the matrix and charts",
  case = case_hook,
  site = site_hook,
}
