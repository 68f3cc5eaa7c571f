/*
 * cb_feed: Atom feed and sitemap (see cb_feed.h).
 */
#include "cb_feed.h"

#include <stdlib.h>
#include <string.h>

#include "cb_config.h"
#include "cb_mem.h"
#include "cb_site.h"
#include "cb_value.h"

void cb_feed_put_xml(cb_buf *out, const char *s, size_t len)
{
	size_t i, start = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep = NULL;

		switch (c) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default:
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				rep = "";
		}
		if (rep) {
			cb_buf_put(out, s + start, i - start);
			cb_buf_puts(out, rep);
			start = i + 1;
		}
	}
	cb_buf_put(out, s + start, len - start);
}

static void put_xml(cb_buf *out, const char *s)
{
	cb_feed_put_xml(out, s, strlen(s));
}

/* base_url + "/" + path, percent-encoding what a URL path may not hold. */
static void put_url(cb_buf *out, const char *base, const char *path)
{
	cb_buf u = CB_BUF_INIT;
	const char *p;

	cb_buf_puts(&u, base);
	cb_buf_putc(&u, '/');
	for (p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c))
			cb_buf_putc(&u, (char)c);
		else
			cb_buf_printf(&u, "%%%02X", c);
	}
	cb_feed_put_xml(out, u.ptr, u.len);
	cb_buf_dispose(&u);
}

static int is_date(const char *s)
{
	int i;

	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return 0;
	return s[10] == '\0';
}

int cb_feed_case_date(const cb_doc *doc, char out[11])
{
	const cb_value *h = cb_value_getc(cb_value_getc(cb_doc_vars(doc), "history"), "updated");
	const cb_value *year = cb_value_getc(cb_doc_meta(doc), "year");
	int y, m, d;

	if (cb_value_date(h, &y, &m, &d)) {
		snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
		return 0;
	}
	if (cb_value_cstr(h) && is_date(cb_value_cstr(h))) {
		memcpy(out, cb_value_cstr(h), 11);
		return 0;
	}
	if (cb_value_type(year) == CB_INT && cb_value_int(year) >= 0 && cb_value_int(year) <= 9999) {
		snprintf(out, 11, "%04lld-01-01", cb_value_int(year));
		return 0;
	}
	return -1;
}

typedef struct entry {
	size_t i;
	char date[11];
	const char *slug;
} entry;

static int newest_first(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	int c = strcmp(y->date, x->date);

	return c ? c : strcmp(x->slug, y->slug);
}

static void build_feed(cb_render *r, const char *base, cb_buf *out)
{
	const cb_site *site = cb_render_get_site(r);
	const cb_config *cfg = cb_site_config(site);
	size_t n = cb_site_case_count(site), k = 0, i;
	entry *e = cb_xcalloc(n ? n : 1, sizeof(entry));

	for (i = 0; i < n; i++) {
		const cb_doc *doc = cb_site_case(site, i);
		if (cb_feed_case_date(doc, e[k].date) < 0)
			continue;
		e[k].i = i;
		e[k].slug = cb_doc_slug(doc);
		k++;
	}
	qsort(e, k, sizeof(entry), newest_first);
	if (k > CB_FEED_ENTRIES)
		k = CB_FEED_ENTRIES;

	cb_buf_puts(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
	cb_buf_puts(out, "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"");
	put_xml(out, cb_config_language(cfg));
	cb_buf_puts(out, "\">\n<title>");
	put_xml(out, cb_config_title(cfg));
	cb_buf_puts(out, "</title>\n");
	if (*cb_config_subtitle(cfg)) {
		cb_buf_puts(out, "<subtitle>");
		put_xml(out, cb_config_subtitle(cfg));
		cb_buf_puts(out, "</subtitle>\n");
	}
	cb_buf_puts(out, "<link rel=\"alternate\" type=\"text/html\" href=\"");
	put_url(out, base, "index.html");
	cb_buf_puts(out, "\"/>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"");
	put_url(out, base, "feed.xml");
	cb_buf_puts(out, "\"/>\n<id>");
	put_url(out, base, "");
	cb_buf_printf(out, "</id>\n<updated>%sT00:00:00Z</updated>\n",
	              k ? e[0].date : "1970-01-01");
	cb_buf_puts(out, "<author><name>");
	put_xml(out, cb_config_title(cfg));
	cb_buf_puts(out, "</name></author>\n<generator version=\"" CB_VERSION "\">casebook</generator>\n");
	for (i = 0; i < k; i++) {
		const cb_doc *doc = cb_site_case(site, e[i].i);
		const cb_value *sum = cb_render_case(r, e[i].i);
		const cb_value *sectors = cb_value_getc(sum, "sector");
		const char *summary = cb_value_cstr(cb_value_getc(sum, "summary"));
		size_t s;

		cb_buf_puts(out, "<entry>\n<title>");
		put_xml(out, cb_doc_title(doc));
		cb_buf_puts(out, "</title>\n<link rel=\"alternate\" type=\"text/html\" href=\"");
		put_url(out, base, cb_doc_url(doc));
		cb_buf_puts(out, "\"/>\n<id>");
		put_url(out, base, cb_doc_url(doc));
		cb_buf_printf(out, "</id>\n<updated>%sT00:00:00Z</updated>\n", e[i].date);
		if (summary) {
			cb_buf_puts(out, "<summary>");
			put_xml(out, summary);
			cb_buf_puts(out, "</summary>\n");
		}
		for (s = 0; s < cb_value_len(sectors); s++) {
			const cb_value *t = cb_value_at(sectors, s);
			cb_buf_puts(out, "<category term=\"");
			put_xml(out, cb_value_cstr(cb_value_getc(t, "id")));
			cb_buf_puts(out, "\" label=\"");
			put_xml(out, cb_value_cstr(cb_value_getc(t, "label")));
			cb_buf_puts(out, "\"/>\n");
		}
		cb_buf_puts(out, "</entry>\n");
	}
	cb_buf_puts(out, "</feed>\n");
	free(e);
}

/* Pages that are not worth a search engine's visit: the search page (no
 * content of its own) and the print edition (every page again). */
static int in_sitemap(const char *path)
{
	size_t n = strlen(path);

	return n > 5 && strcmp(path + n - 5, ".html") == 0 && strcmp(path, "search.html") != 0 &&
	       strcmp(path, "print.html") != 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void build_sitemap(cb_render *r, const char *base, cb_buf *out)
{
	size_t n = cb_render_page_count(r), k = 0, i;
	const char **paths = cb_xcalloc(n ? n : 1, sizeof(char *));

	for (i = 0; i < n; i++)
		if (in_sitemap(cb_render_page_path(r, i)))
			paths[k++] = cb_render_page_path(r, i);
	qsort(paths, k, sizeof(char *), cmp_str);
	cb_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	                 "<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
	for (i = 0; i < k; i++) {
		cb_buf_puts(out, "<url><loc>");
		put_url(out, base, paths[i]);
		cb_buf_puts(out, "</loc></url>\n");
	}
	cb_buf_puts(out, "</urlset>\n");
	free(paths);
}

void cb_feed_generate(cb_render *r)
{
	const char *base = cb_config_base_url(cb_site_config(cb_render_get_site(r)));
	cb_buf b = CB_BUF_INIT;
	cb_value *info;

	if (!base)
		return;
	build_feed(r, base, &b);
	cb_render_add_raw(r, "feed.xml", b.ptr, b.len);
	cb_buf_clear(&b);
	build_sitemap(r, base, &b);
	cb_render_add_raw(r, "sitemap.xml", b.ptr, b.len);
	cb_buf_dispose(&b);
	info = cb_value_new_map();
	cb_value_set_str(info, "url", "feed.xml");
	cb_value_setc(cb_render_site_ctx(r), "feed", info);
}
