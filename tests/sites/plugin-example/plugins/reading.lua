-- reading: the reading time of every case, a page that lists the cases from
-- the shortest read to the longest, and data/reading.json.
local rows = {}

return {
  name = "reading",

  case = function(c, site)
    local per_minute = site.settings.words_per_minute or 200
    local words = 0
    for _ in c.text:gmatch("%S+") do words = words + 1 end
    local minutes = math.max(1, math.floor(words / per_minute + 0.5))
    -- templates see it as case.reading.minutes
    c:set("reading", {words = words, minutes = minutes})
    rows[#rows + 1] = {title = c.title, url = c.url, words = words, minutes = minutes}
    if words < (site.settings.min_words or 0) then
      site:warn(c, c.sections[1], string.format("only %d words", words),
                {code = "reading-short", hint = "is the case finished?"})
    end
  end,

  site = function(site)
    table.sort(rows, function(a, b)
      if a.minutes ~= b.minutes then return a.minutes < b.minutes end
      return a.title < b.title
    end)
    site:page{path = "reading.html", template = "reading", title = "Reading time",
              nav = true, nav_order = 60, data = {cases = rows}}
    site:data("reading", rows)
  end,
}
