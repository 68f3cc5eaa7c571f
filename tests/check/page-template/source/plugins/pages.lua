-- Asks for a page with a template the theme does not have.
return {
  name = "pages",
  site = function(site)
    site:page{path = "glossary.html", template = "case-lists", title = "Glossary", data = {}}
  end,
}
