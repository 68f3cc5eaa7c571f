/*
 * cb_md: cmark-gfm adapter (see cb_md.h).
 *
 * One pass over the AST before rendering:
 *  - headings are given ids: each heading node is replaced by a custom block
 *    whose on_enter/on_exit carry <hN id="..."> and </hN> (cmark renders
 *    custom blocks verbatim, in safe mode too). The replaced heading nodes
 *    are kept alive until rendering is done, because their inline children
 *    point into the heading's content buffer;
 *  - links and images are collected and, for relative ones, resolved and
 *    rewritten;
 *  - raw HTML and dangerous URLs are reported (cmark's safe mode drops and
 *    neutralises them when unsafe_html is off); HTML comments are removed;
 *  - text nodes are searched for opts->find_word.
 * Then each top-level block is rendered on its own.
 */
#include "cb_md.h"

#include <cmark-gfm-core-extensions.h>
#include <cmark-gfm-extension_api.h>
#include <cmark-gfm.h>
/* The extension's fields (special_inline_chars): see cb_md_init. */
#include <cmark-gfm/syntax_extension.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cb_buf.h"
#include "cb_path.h"
#include "cb_text.h"
#include "cb_utf8.h"
#include "cb_value.h"

typedef struct block {
	size_t off, len; /* in cb_md.html */
	int section;
} block;

struct cb_md {
	char *html;      /* every block's HTML, one after another, exact size */
	char **extras;   /* strings items point to when not found in html/text */
	size_t n_extras;
	block *blocks;
	size_t n_blocks;
	cb_md_section *sections;
	size_t n_sections;
	cb_md_link *links;
	size_t n_links, cap_links;
	cb_md_found *found;
	size_t n_found, cap_found;
	char *text;
};

/* Per-parse state. */
typedef struct state {
	const cb_md_opts *opts;
	cb_diag_list *diags;
	cb_md *md;
	cb_value *ids;         /* ids taken so far (a map used as a set) */
	cmark_node **graveyard; /* replaced heading nodes, freed after rendering */
	size_t n_grave, cap_grave;
	char *doc_dir;         /* folder of the document's source path */
	int failed;
	const char *src;       /* the Markdown, for exact columns */
	size_t src_len;
	unsigned cached_line;  /* a line (1-based, of src) and where it starts */
	size_t cached_off;
	cmark_node **drop;     /* comment nodes to remove after the walk */
	size_t n_drop, cap_drop;
} state;

static const char *const default_reserved[] = {NULL};

/* The extensions every document is parsed with; strikethrough only when
 * its text has a '~' (see cb_md_init). */
static const char *const ext_names[] = {"table", "autolink", "strikethrough", "tagfilter", NULL};

/* Held while a document with strikethrough is parsed (see cb_md_init). */
static pthread_mutex_t strike_lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * cmark-gfm keeps the characters that may start an extension's inline
 * syntax (autolink's ':' and 'w', strikethrough's '~') in one table for the
 * whole process. Every parser adds its extensions' characters when it
 * starts on the inlines and takes them out when it is done, so with parsers
 * on several threads, one finishing takes them out from under another,
 * which then misses the autolinks and strikethroughs in the rest of its
 * document (github/cmark-gfm pull request 176, never merged).
 *
 * So autolink's characters go in the table once, for good, and off the
 * extension, so that no parser adds or removes them (autolink makes no
 * delimiters: the extension's list is only read to manage the table).
 * Strikethrough's '~' must stay on its extension (closing a '~~' delimiter
 * looks the extension up by it): only a document with a '~' is parsed with
 * strikethrough, and such documents are parsed one at a time, so that the
 * parsers that change the table never run beside one that reads '~'.
 */
void cb_md_init(void)
{
	cmark_syntax_extension *autolink;
	cmark_parser *parser;

	cmark_gfm_core_extensions_ensure_registered();
	autolink = cmark_find_syntax_extension("autolink");
	if (!autolink || !autolink->special_inline_chars)
		return;
	parser = cmark_parser_new(0);
	cmark_parser_attach_syntax_extension(parser, autolink);
	cmark_manage_extensions_special_characters(parser, 1);
	cmark_parser_free(parser);
	cmark_llist_free(cmark_get_default_mem_allocator(), autolink->special_inline_chars);
	cmark_syntax_extension_set_special_inline_chars(autolink, NULL);
}

/* ---- plain text ---------------------------------------------------------- */

static void node_text(cmark_node *root, cb_buf *out)
{
	cmark_iter *it = cmark_iter_new(root);
	cmark_event_type ev;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		cmark_node_type t = cmark_node_get_type(n);
		const char *lit;

		if (ev == CMARK_EVENT_ENTER) {
			switch (t) {
			case CMARK_NODE_TEXT:
			case CMARK_NODE_CODE:
			case CMARK_NODE_CODE_BLOCK:
				lit = cmark_node_get_literal(n);
				if (lit)
					cb_buf_puts(out, lit);
				break;
			case CMARK_NODE_SOFTBREAK:
			case CMARK_NODE_LINEBREAK:
				cb_buf_putc(out, ' ');
				break;
			default:
				break;
			}
		} else if (ev == CMARK_EVENT_EXIT &&
		           (t & CMARK_NODE_TYPE_MASK) == CMARK_NODE_TYPE_BLOCK) {
			/* Blocks end a line; table cells are separated by a space. */
			int cell = strcmp(cmark_node_get_type_string(n), "table_cell") == 0;

			while (out->len && out->ptr[out->len - 1] == ' ')
				cb_buf_truncate(out, out->len - 1);
			if (out->len && out->ptr[out->len - 1] != '\n')
				cb_buf_putc(out, cell ? ' ' : '\n');
		}
	}
	cmark_iter_free(it);
}

static char *text_of(cmark_node *n)
{
	cb_buf b = CB_BUF_INIT;

	node_text(n, &b);
	while (b.len && (b.ptr[b.len - 1] == '\n' || b.ptr[b.len - 1] == ' '))
		cb_buf_truncate(&b, b.len - 1);
	return cb_buf_detach(&b);
}

/* ---- positions ----------------------------------------------------------- */

static unsigned node_line(state *st, cmark_node *n)
{
	int line = 0;

	/* Autolinks have no position: use the nearest ancestor that has one. */
	for (; n && line == 0; n = cmark_node_parent(n))
		line = cmark_node_get_start_line(n);
	return line > 0 ? (unsigned)line + st->opts->line_offset : 0;
}

/* Offset in st->src where line (1-based, of the Markdown) starts, or
 * st->src_len when there is no such line. Lines are mostly asked for in
 * order, so the walk goes on from the last answer. */
static size_t line_start(state *st, unsigned line)
{
	size_t off;
	unsigned l;

	if (st->cached_line == 0 || line < st->cached_line) {
		st->cached_line = 1;
		st->cached_off = 0;
	}
	off = st->cached_off;
	for (l = st->cached_line; l < line && off < st->src_len; off++)
		if (st->src[off] == '\n') {
			l++;
			st->cached_line = l;
			st->cached_off = off + 1;
		}
	return l == line ? st->cached_off : st->src_len;
}

/* Where Markdown line `line` starts in the source and its length without
 * the newline; -1 when the source has no such line. */
static int line_span(state *st, unsigned line, size_t *ls, size_t *len)
{
	size_t le;

	*ls = line_start(st, line);
	if (*ls >= st->src_len)
		return -1;
	for (le = *ls; le < st->src_len && st->src[le] != '\n'; le++)
		;
	*len = le - *ls;
	return 0;
}

/* The column, in characters, of the character that holds byte b (0-based)
 * of the line starting at ls. */
static unsigned char_col(const state *st, size_t ls, size_t b)
{
	while (b > 0 && ((unsigned char)st->src[ls + b] & 0xC0) == 0x80)
		b--;
	return (unsigned)cb_utf8_chars(st->src + ls, b) + 1;
}

/* The column, in characters, where n starts (or the nearest ancestor with a
 * position, as node_line); 1 when none has one. cmark counts bytes. */
static unsigned node_col(state *st, cmark_node *n)
{
	int line = 0, col = 0;
	size_t ls, len;

	for (; n && col == 0; n = cmark_node_parent(n)) {
		col = cmark_node_get_start_column(n);
		line = cmark_node_get_start_line(n);
	}
	if (col <= 0)
		return 1;
	if (line <= 0 || line_span(st, (unsigned)line, &ls, &len) < 0 || (size_t)col - 1 > len)
		return (unsigned)col;
	return char_col(st, ls, (size_t)col - 1);
}

/* ---- headings ------------------------------------------------------------ */

static int id_taken(state *st, const char *id, size_t len)
{
	const char *const *r = st->opts->reserved_ids ? st->opts->reserved_ids : default_reserved;

	for (; *r; r++)
		if (strlen(*r) == len && memcmp(*r, id, len) == 0)
			return 1;
	return cb_value_get(st->ids, id, len) != NULL;
}

/* The heading's id: its slug, or the slug with "-1", "-2", ... when taken.
 * Each id taken remembers the next suffix to try after it, so a document
 * with thousands of headings of one title stays linear. */
static char *unique_id(state *st, const char *title)
{
	cb_buf b = CB_BUF_INIT;
	size_t base;
	long long n = 0;
	cb_value *next;

	cb_utf8_slug(&b, title, strlen(title));
	if (b.len == 0)
		cb_buf_puts(&b, "section");
	base = b.len;
	next = cb_value_get(st->ids, b.ptr, b.len);
	if (next)
		n = cb_value_int(next);
	while (id_taken(st, b.ptr, b.len)) {
		cb_buf_truncate(&b, base);
		cb_buf_printf(&b, "-%lld", ++n);
	}
	if (n > 0) /* the base slug's next suffix */
		cb_value_set(st->ids, b.ptr, base, cb_value_new_int(n));
	cb_value_set(st->ids, b.ptr, b.len, cb_value_new_int(0));
	return cb_buf_detach(&b);
}

/* Replace heading h by a custom block carrying the id. Returns the new node. */
static cmark_node *give_id(state *st, cmark_node *h, const char *id)
{
	int level = cmark_node_get_heading_level(h);
	cmark_node *cb = cmark_node_new(CMARK_NODE_CUSTOM_BLOCK);
	cmark_node *child;
	char tag[64];

	cb_buf attr = CB_BUF_INIT;
	cb_buf_printf(&attr, "<h%d id=\"", level);
	cb_buf_put_html(&attr, id, strlen(id));
	cb_buf_puts(&attr, "\">");
	cmark_node_set_on_enter(cb, attr.ptr);
	cb_buf_dispose(&attr);
	snprintf(tag, sizeof tag, "</h%d>", level);
	cmark_node_set_on_exit(cb, tag);
	while ((child = cmark_node_first_child(h)) != NULL) {
		cmark_node_unlink(child);
		cmark_node_append_child(cb, child);
	}
	cmark_node_replace(h, cb);
	if (st->n_grave == st->cap_grave) {
		st->cap_grave = st->cap_grave ? st->cap_grave * 2 : 8;
		st->graveyard = cb_xreallocarray(st->graveyard, st->cap_grave, sizeof(cmark_node *));
	}
	st->graveyard[st->n_grave++] = h;
	return cb;
}

/* ---- links --------------------------------------------------------------- */

static int dangerous_url(const char *url)
{
	static const char *const bad[] = {"javascript:", "vbscript:", "file:", NULL};
	static const char *const ok_data[] = {"data:image/png", "data:image/gif", "data:image/jpeg",
	                                      "data:image/webp", NULL};
	const char *const *p;

	while (*url == ' ' || *url == '\t')
		url++;
	for (p = bad; *p; p++)
		if (strncasecmp(url, *p, strlen(*p)) == 0)
			return 1;
	if (strncasecmp(url, "data:", 5) == 0) {
		for (p = ok_data; *p; p++)
			if (strncasecmp(url, *p, strlen(*p)) == 0)
				return 0;
		return 1;
	}
	return 0;
}

/* Percent-decode s[0..len) (cmark has already percent-encoded the URL). */
static char *url_decode(const char *s, size_t len)
{
	cb_buf b = CB_BUF_INIT;
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && cb_text_hexval(s[i + 1]) >= 0 && cb_text_hexval(s[i + 2]) >= 0) {
			cb_buf_putc(&b, (char)(cb_text_hexval(s[i + 1]) * 16 + cb_text_hexval(s[i + 2])));
			i += 2;
		} else {
			cb_buf_putc(&b, s[i]);
		}
	}
	return cb_buf_detach(&b);
}

/* Percent-encode what may not stand in a URL path (spaces, quotes, ...). */
static void url_encode_path(cb_buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == '"' || c == '%' || c == '<' || c == '>' || c == '\\' ||
		    c == '^' || c == '`' || c == '{' || c == '|' || c == '}' || c == '#' || c == '?' ||
		    c >= 0x7f)
			cb_buf_printf(out, "%%%02X", c);
		else
			cb_buf_putc(out, (char)c);
	}
}

static void add_link(cb_md *md, const cb_md_link *l)
{
	if (md->n_links == md->cap_links) {
		md->cap_links = md->cap_links ? md->cap_links * 2 : 8;
		md->links = cb_xreallocarray(md->links, md->cap_links, sizeof(cb_md_link));
	}
	md->links[md->n_links++] = *l;
}

static void visit_link(state *st, cmark_node *n)
{
	const cb_md_opts *o = st->opts;
	const char *url = cmark_node_get_url(n);
	int image = cmark_node_get_type(n) == CMARK_NODE_IMAGE;
	cb_md_link l;
	const char *hash, *query, *end;
	char *decoded = NULL, *joined = NULL, *norm = NULL;

	memset(&l, 0, sizeof l);
	l.image = image;
	l.url = cb_xstrdup(url ? url : "");
	l.text = text_of(n);
	l.line = node_line(st, n);
	l.col = node_col(st, n);
	url = l.url;

	if (dangerous_url(url)) {
		l.kind = CB_LINK_EXTERNAL;
		if (!o->unsafe_html)
			cb_diag_add(st->diags, CB_WARNING, "unsafe-link", o->path, l.line, l.col,
			            "set unsafe_html: true in casebook.yml to allow such links",
			            "link to '%s' is neutralised", url);
		goto done;
	}
	if (url[0] == '#' || url[0] == '\0') {
		l.kind = CB_LINK_ANCHOR;
		if (url[0] == '#' && url[1])
			l.anchor = cb_xstrdup(url + 1);
		goto done;
	}
	if (cb_path_is_absolute_url(url)) {
		l.kind = CB_LINK_EXTERNAL;
		goto done;
	}
	l.kind = CB_LINK_FILE;
	if (url[0] == '/') {
		cb_diag_add(st->diags, CB_WARNING, "absolute-path", o->path, l.line, l.col,
		            "write the path relative to this file, e.g. 'other-case.md'",
		            "'%s' starts with '/', which breaks when the site is opened from disk",
		            url);
		goto done;
	}
	/* Split off ?query and #fragment, then resolve the path. */
	hash = strchr(url, '#');
	query = strchr(url, '?');
	end = url + strlen(url);
	if (query && (!hash || query < hash))
		end = query;
	else if (hash)
		end = hash;
	if (hash && hash[1])
		l.anchor = cb_xstrdup(hash + 1);
	decoded = url_decode(url, (size_t)(end - url));
	joined = cb_path_join(st->doc_dir, decoded);
	norm = cb_path_normalize(joined, strlen(joined));
	if (!norm) {
		st->failed = 1;
		cb_diag_error(st->diags, image ? "image-outside" : "link-outside", o->path, l.line,
		              l.col, "%s '%s' leaves the source folder", image ? "image" : "link",
		              url);
		goto done;
	}
	l.target = norm;
	norm = NULL;
	if (strcmp(cb_path_ext(l.target), ".md") == 0 && !image)
		l.kind = CB_LINK_DOC;
	if (o->output_path) {
		char *out_path = o->output_path(l.target);
		cb_buf nu = CB_BUF_INIT;
		cb_buf rel = CB_BUF_INIT;

		cb_path_relative(&rel, o->output_dir ? o->output_dir : "", out_path);
		url_encode_path(&nu, rel.ptr);
		if (end != url + strlen(url))
			cb_buf_puts(&nu, end); /* keep ?query#fragment as written */
		cmark_node_set_url(n, nu.ptr);
		cb_buf_dispose(&nu);
		cb_buf_dispose(&rel);
		free(out_path);
	}
done:
	free(decoded);
	free(joined);
	free(norm);
	add_link(st->md, &l);
}

/* ---- comments and words ------------------------------------------------- */

/* Is an HTML literal nothing but comments and white space? */
static int only_comments(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (*s == '\0')
			return 1;
		if (strncmp(s, "<!--", 4) != 0)
			return 0;
		s = strstr(s + 4, "-->");
		if (!s)
			return 0;
		s += 3;
	}
}

static void drop_later(state *st, cmark_node *n)
{
	if (st->n_drop == st->cap_drop) {
		st->cap_drop = st->cap_drop ? st->cap_drop * 2 : 8;
		st->drop = cb_xreallocarray(st->drop, st->cap_drop, sizeof(cmark_node *));
	}
	st->drop[st->n_drop++] = n;
}


static void add_found(cb_md *md, unsigned line, unsigned col)
{
	if (md->n_found == md->cap_found) {
		md->cap_found = md->cap_found ? md->cap_found * 2 : 4;
		md->found = cb_xreallocarray(md->found, md->cap_found, sizeof(cb_md_found));
	}
	md->found[md->n_found].line = line;
	md->found[md->n_found].col = col;
	md->n_found++;
}

/* Record each occurrence of opts->find_word in text node n, at its column in
 * the source line when it can be found there (cmark gives the text node's
 * source range; entities and smart punctuation mean the literal may differ
 * from it), else at the node's start. */
static void find_words(state *st, cmark_node *n)
{
	const char *word = st->opts->find_word;
	const char *lit = cmark_node_get_literal(n);
	size_t wl = strlen(word), ll, i, ls, le, si, len;
	int line = cmark_node_get_start_line(n);
	int scol = cmark_node_get_start_column(n), ecol = cmark_node_get_end_column(n);

	if (!lit || wl == 0)
		return;
	ll = strlen(lit);
	i = cb_text_find_word(lit, ll, 0, word, wl);
	if (i == ll)
		return;
	ls = le = si = st->src_len;
	if (line > 0 && scol > 0 && line_span(st, (unsigned)line, &ls, &len) == 0) {
		le = ls + len;
		si = ls + (size_t)scol - 1;
		if (ecol >= scol && ls + (size_t)ecol < le)
			le = ls + (size_t)ecol;
		if (si > le)
			si = le;
	}
	for (; i < ll; i = cb_text_find_word(lit, ll, i + wl, word, wl)) {
		size_t at = si < le ? cb_text_find_word(st->src, le, si, word, wl) : le;

		if (at < le) {
			add_found(st->md, (unsigned)line + st->opts->line_offset, char_col(st, ls, at - ls));
			si = at + wl;
		} else {
			add_found(st->md, node_line(st, n), node_col(st, n));
		}
	}
}

/* ---- the pass over the tree ---------------------------------------------- */

static void walk(state *st, cmark_node *doc)
{
	cmark_iter *it = cmark_iter_new(doc);
	cmark_event_type ev;
	size_t i;

	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		cmark_node_type t;

		if (ev != CMARK_EVENT_ENTER)
			continue;
		t = cmark_node_get_type(n);
		if (t == CMARK_NODE_LINK || t == CMARK_NODE_IMAGE) {
			visit_link(st, n);
		} else if (t == CMARK_NODE_TEXT && st->opts->find_word) {
			find_words(st, n);
		} else if ((t == CMARK_NODE_HTML_BLOCK || t == CMARK_NODE_HTML_INLINE) &&
		           only_comments(cmark_node_get_literal(n) ? cmark_node_get_literal(n) : "")) {
			drop_later(st, n);
		} else if ((t == CMARK_NODE_HTML_BLOCK || t == CMARK_NODE_HTML_INLINE) &&
		           !st->opts->unsafe_html) {
			cb_diag_add(st->diags, CB_WARNING, "raw-html", st->opts->path, node_line(st, n),
			            node_col(st, n), "set unsafe_html: true in casebook.yml to keep it",
			            "raw HTML is dropped");
		}
	}
	cmark_iter_free(it);
	/* Comments go once the iterator is done with the tree. */
	for (i = 0; i < st->n_drop; i++)
		cmark_node_free(st->drop[i]); /* unlinks it too */
	free(st->drop);
	st->drop = NULL;
	st->n_drop = st->cap_drop = 0;
}

/* Keep a string the document owns (for the rare item not found in the
 * document's HTML or text); returns it. */
static const char *keep(cb_md *md, char *s)
{
	md->extras = cb_xreallocarray(md->extras, md->n_extras + 1, sizeof(char *));
	md->extras[md->n_extras++] = s;
	return s;
}

/* Bytes after the last item where the next one is looked for first. */
#define ITEM_NEAR 64

/* The first needle (nlen > 0) in hay[0..len) starting within ITEM_NEAR
 * bytes, or NULL. */
static const char *find_near(const char *hay, size_t len, const char *needle, size_t nlen)
{
	const char *p = hay, *last;

	if (nlen > len)
		return NULL;
	last = hay + (len - nlen < ITEM_NEAR ? len - nlen : ITEM_NEAR - 1);
	while (p <= last && (p = memchr(p, needle[0], (size_t)(last - p) + 1)) != NULL) {
		if (memcmp(p, needle, nlen) == 0)
			return p;
		p++;
	}
	return NULL;
}

/* Find needle in hay[*from..len) and move *from past it; NULL if absent.
 * Items come in order, each a few bytes (a tag, a newline) after the last:
 * they are looked for there first, and memmem (whose setup costs as much as
 * the search itself for a short gap) searches the rest. */
static const char *find_from(const char *hay, size_t len, size_t *from, const char *needle,
                             size_t nlen)
{
	const char *at;

	if (*from > len)
		return NULL;
	if (nlen == 0)
		at = hay + *from;
	else if ((at = find_near(hay + *from, len - *from, needle, nlen)) == NULL &&
	         len - *from > ITEM_NEAR)
		at = memmem(hay + *from + ITEM_NEAR, len - *from - ITEM_NEAR, needle, nlen);
	if (at)
		*from = (size_t)(at - hay) + nlen;
	return at;
}

/* The column where item's content starts (its marker's when the content
 * starts on a later line) and where its last character is (line and column
 * in characters, counted in the document's lines). cmark's columns count
 * bytes, and its end column the spaces that end a line: they are left out. */
static void item_span(state *st, cmark_node *item, cb_md_item *it)
{
	cmark_node *first = cmark_node_first_child(item), *last = cmark_node_last_child(item);
	int sl, sc, el, ec;
	size_t ls, len, e;

	if (!first)
		first = last = item;
	sl = cmark_node_get_start_line(first);
	sc = cmark_node_get_start_column(first);
	if (sl != cmark_node_get_start_line(item)) { /* "-" alone on its line */
		sl = cmark_node_get_start_line(item);
		sc = cmark_node_get_start_column(item);
	}
	it->col = 1;
	if (sl > 0 && sc > 0 && line_span(st, (unsigned)sl, &ls, &len) == 0 && (size_t)sc <= len)
		it->col = char_col(st, ls, (size_t)sc - 1);
	/* A nested list that ends the item ends at column 0 of a blank line:
	 * its own last block has the position. */
	do {
		el = cmark_node_get_end_line(last);
		ec = cmark_node_get_end_column(last);
	} while (ec <= 0 && (last = cmark_node_last_child(last)) != NULL);
	it->end_line = it->end_col = 0;
	if (el <= 0 || ec <= 0 || line_span(st, (unsigned)el, &ls, &len) < 0)
		return;
	e = (size_t)ec < len ? (size_t)ec : len; /* bytes up to the last character */
	while (e > 0 && memchr(" \t\r", st->src[ls + e - 1], 3))
		e--;
	if (e > 0) {
		it->end_line = (unsigned)el + st->opts->line_offset;
		it->end_col = char_col(st, ls, e - 1);
	}
}

/* Collect the list items of the lists among blocks [from, to). An item's
 * HTML is what cmark renders inside its <li> within the list's block, and
 * its text is within the block's text: both are kept as ranges of the
 * document's HTML and text rather than copied. */
static void collect_items(state *st, cmark_node **nodes, size_t from, size_t to,
                          cb_md_section *sec, cmark_llist *exts, int options,
                          const size_t *text_at)
{
	cb_md *md = st->md;
	size_t i, cap = 0;

	for (i = from; i < to; i++) {
		const char *bhtml = md->html + md->blocks[i].off;
		const char *btext = md->text + text_at[i];
		size_t hpos = 0, tpos = 0, hlen = md->blocks[i].len, tlen = text_at[i + 1] - text_at[i];
		cmark_node *item;

		if (cmark_node_get_type(nodes[i]) != CMARK_NODE_LIST)
			continue;
		for (item = cmark_node_first_child(nodes[i]); item; item = cmark_node_next(item)) {
			cb_md_item *it;
			char *html = cmark_render_html(item, options, exts);
			char *text = text_of(item);
			size_t len = strlen(html), skip, endl;
			const char *start, *at;

			if (sec->n_items == cap) {
				cap = cap ? cap * 2 : 4;
				sec->items = cb_xreallocarray(sec->items, cap, sizeof(cb_md_item));
			}
			it = &sec->items[sec->n_items++];
			/* The inside of the <li ...> ... </li>\n wrapper. */
			start = strchr(html, '>');
			skip = start ? (size_t)(start - html) + 1 : 0;
			endl = len;
			while (endl > skip && html[endl - 1] == '\n')
				endl--;
			if (endl >= skip + 5 && memcmp(html + endl - 5, "</li>", 5) == 0)
				endl -= 5;
			while (endl > skip && html[endl - 1] == '\n')
				endl--;
			while (skip < endl && html[skip] == '\n')
				skip++;
			it->html_len = endl - skip;
			at = find_from(bhtml, hlen, &hpos, html + skip, it->html_len);
			it->html = at ? at : keep(md, cb_xstrndup(html + skip, it->html_len));
			free(html);
			it->text_len = strlen(text);
			at = find_from(btext, tlen, &tpos, text, it->text_len);
			if (at) {
				it->text = at;
				free(text);
			} else {
				it->text = keep(md, text);
			}
			it->line = node_line(st, item);
			item_span(st, item, it);
		}
	}
}

int cb_md_parse(cb_md **out, const char *text, size_t len, const cb_md_opts *opts,
                cb_diag_list *diags)
{
	int options = CMARK_OPT_SMART | (opts->unsafe_html ? CMARK_OPT_UNSAFE : 0);
	cmark_parser *parser = cmark_parser_new(options);
	cmark_node *doc, *n;
	cmark_node **nodes = NULL;
	cmark_llist *exts;
	state st;
	cb_md *md = cb_xcalloc(1, sizeof *md);
	size_t nb = 0, cap = 0, i, n_sec = 0, cap_sec = 0;
	int *open = NULL; /* open section index per level 1..6 */
	size_t *text_at;  /* offset of each block's text in md->text */
	cb_buf all = CB_BUF_INIT;
	const char *const *e;
	int strike = len && memchr(text, '~', len) != NULL; /* see cb_md_init */

	for (e = ext_names; *e; e++) {
		cmark_syntax_extension *ext = cmark_find_syntax_extension(*e);
		if (ext && (strike || strcmp(*e, "strikethrough") != 0))
			cmark_parser_attach_syntax_extension(parser, ext);
	}
	if (strike)
		pthread_mutex_lock(&strike_lock);
	cmark_parser_feed(parser, text, len);
	doc = cmark_parser_finish(parser);
	if (strike)
		pthread_mutex_unlock(&strike_lock);
	exts = cmark_parser_get_syntax_extensions(parser);

	memset(&st, 0, sizeof st);
	st.opts = opts;
	st.diags = diags;
	st.md = md;
	st.ids = cb_value_new_map();
	st.doc_dir = cb_path_dirname(opts->path ? opts->path : "");
	st.src = text;
	st.src_len = len;

	walk(&st, doc);

	/* Give every heading an id, top to bottom, so ids are stable. Collect
	 * the top-level blocks and build sections from top-level headings. */
	{
		cmark_iter *it = cmark_iter_new(doc);
		cmark_event_type ev;
		cmark_node **heads = NULL;
		size_t nh = 0, caph = 0;

		while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
			cmark_node *h = cmark_iter_get_node(it);
			if (ev == CMARK_EVENT_ENTER && cmark_node_get_type(h) == CMARK_NODE_HEADING) {
				if (nh == caph) {
					caph = caph ? caph * 2 : 8;
					heads = cb_xreallocarray(heads, caph, sizeof(cmark_node *));
				}
				heads[nh++] = h;
			}
		}
		cmark_iter_free(it);
		open = cb_xcalloc(7, sizeof(int));
		for (i = 0; i < 7; i++)
			open[i] = -1;
		for (i = 0; i < nh; i++) {
			cmark_node *h = heads[i];
			int top = cmark_node_parent(h) == doc;
			char *title = text_of(h);
			char *id = unique_id(&st, title);
			int level = cmark_node_get_heading_level(h);
			unsigned line = node_line(&st, h);
			char *html_title = NULL;

			{
				/* The heading's inline HTML: render it as a paragraph-less
				 * fragment by rendering each inline child. */
				cb_buf hb = CB_BUF_INIT;
				cmark_node *c;
				for (c = cmark_node_first_child(h); c; c = cmark_node_next(c)) {
					char *frag = cmark_render_html(c, options, exts);
					cb_buf_puts(&hb, frag);
					free(frag);
				}
				html_title = cb_buf_detach(&hb);
			}
			n = give_id(&st, h, id);
			if (top) {
				cb_md_section *s;
				int lv;

				if (n_sec == cap_sec) {
					cap_sec = cap_sec ? cap_sec * 2 : 8;
					md->sections =
					    cb_xreallocarray(md->sections, cap_sec, sizeof(cb_md_section));
				}
				s = &md->sections[n_sec];
				memset(s, 0, sizeof *s);
				s->title = title;
				s->html_title = html_title;
				s->id = id;
				s->level = level;
				s->line = line;
				s->parent = -1;
				for (lv = level - 1; lv >= 1; lv--)
					if (open[lv] >= 0) {
						s->parent = open[lv];
						break;
					}
				open[level] = (int)n_sec;
				for (lv = level + 1; lv <= 6; lv++)
					open[lv] = -1;
				/* Mark the node so the block pass finds its section. */
				cmark_node_set_user_data(n, (void *)(intptr_t)(n_sec + 1));
				n_sec++;
			} else {
				free(title);
				free(id);
				free(html_title);
			}
		}
		free(heads);
	}
	md->n_sections = n_sec;

	/* Blocks: render each top-level node; track which section it is in. */
	for (n = cmark_node_first_child(doc); n; n = cmark_node_next(n)) {
		if (nb == cap) {
			cap = cap ? cap * 2 : 16;
			nodes = cb_xreallocarray(nodes, cap, sizeof(cmark_node *));
		}
		nodes[nb++] = n;
	}
	md->blocks = cb_xcalloc(nb ? nb : 1, sizeof(block));
	md->n_blocks = nb;
	{
		int cur = -1;
		cb_buf htmlbuf = CB_BUF_INIT;
		for (i = 0; i < nb; i++) {
			intptr_t mark = (intptr_t)cmark_node_get_user_data(nodes[i]);
			char *html;
			size_t hl;

			if (mark > 0) {
				size_t si = (size_t)mark - 1;
				/* Close sections that this heading ends. */
				int k;
				for (k = cur; k >= 0; k = md->sections[k].parent)
					if (md->sections[k].level >= md->sections[si].level &&
					    md->sections[k].end == 0)
						md->sections[k].end = i;
				md->sections[si].block = i;
				cur = (int)si;
				cmark_node_set_user_data(nodes[i], NULL);
			}
			html = cmark_render_html(nodes[i], options, exts);
			hl = strlen(html);
			if (mark > 0) {
				/* Tidy "<hN id>\n...\n</hN>" from the custom block. */
				char *gt = strchr(html, '>');
				if (gt && gt[1] == '\n')
					memmove(gt + 1, gt + 2, hl - (size_t)(gt + 2 - html) + 1), hl--;
				if (hl >= 7 && html[hl - 7] == '\n' && html[hl - 6] == '<')
					memmove(html + hl - 7, html + hl - 6, 7), hl--;
			}
			md->blocks[i].off = htmlbuf.len;
			md->blocks[i].len = hl;
			md->blocks[i].section = cur;
			cb_buf_put(&htmlbuf, html, hl);
			free(html);
		}
		for (i = 0; i < n_sec; i++)
			if (md->sections[i].end == 0)
				md->sections[i].end = nb;
		md->html = cb_xstrndup(htmlbuf.ptr, htmlbuf.len); /* no growth slack */
		cb_buf_dispose(&htmlbuf);
	}

	/* The document text, block by block; a section's text is the range of
	 * its blocks (one copy of the text in all). */
	text_at = cb_xcalloc(nb + 1, sizeof(size_t));
	for (i = 0; i < nb; i++) {
		text_at[i] = all.len;
		node_text(nodes[i], &all);
		if (all.len && all.ptr[all.len - 1] != '\n')
			cb_buf_putc(&all, '\n');
	}
	text_at[nb] = all.len;
	md->text = cb_xstrndup(all.ptr, all.len); /* no growth slack */
	cb_buf_dispose(&all);
	for (i = 0; i < n_sec; i++) {
		cb_md_section *s = &md->sections[i];
		size_t b, own_end = s->end, from = text_at[s->block + 1 < nb ? s->block + 1 : nb],
		          to = text_at[s->end];

		while (to > from && md->text[to - 1] == '\n')
			to--;
		s->text = md->text + from;
		s->text_len = to - from;
		/* Own content: up to the first sub-heading. */
		for (b = s->block + 1; b < s->end; b++)
			if (md->blocks[b].section != (int)i) {
				own_end = b;
				break;
			}
		s->own_len = text_at[own_end] > from ? text_at[own_end] - from : 0;
		if (s->own_len > s->text_len)
			s->own_len = s->text_len;
		while (s->own_len > 0 && md->text[from + s->own_len - 1] == '\n')
			s->own_len--;
		collect_items(&st, nodes, s->block + 1, own_end, s, exts, options, text_at);
	}
	free(text_at);

	free(open);
	free(nodes);
	cmark_node_free(doc);
	for (i = 0; i < st.n_grave; i++)
		cmark_node_free(st.graveyard[i]);
	free(st.graveyard);
	cmark_parser_free(parser);
	cb_value_unref(st.ids);
	free(st.doc_dir);
	*out = md;
	return st.failed ? -1 : 0;
}

void cb_md_free(cb_md *md)
{
	size_t i;

	if (!md)
		return;
	free(md->html);
	for (i = 0; i < md->n_extras; i++)
		free(md->extras[i]);
	free(md->extras);
	free(md->blocks);
	for (i = 0; i < md->n_sections; i++) {
		cb_md_section *s = &md->sections[i];
		free((char *)s->title);
		free((char *)s->html_title);
		free((char *)s->id);
		free(s->items);
	}
	free(md->sections);
	for (i = 0; i < md->n_links; i++) {
		free((char *)md->links[i].url);
		free((char *)md->links[i].target);
		free((char *)md->links[i].anchor);
		free((char *)md->links[i].text);
	}
	free(md->links);
	free(md->found);
	free(md->text);
	free(md);
}

size_t cb_md_block_count(const cb_md *md)
{
	return md->n_blocks;
}

const char *cb_md_block_html(const cb_md *md, size_t i, size_t *len)
{
	if (i >= md->n_blocks)
		return NULL;
	if (len)
		*len = md->blocks[i].len;
	return md->html + md->blocks[i].off;
}

int cb_md_block_section(const cb_md *md, size_t i)
{
	return i < md->n_blocks ? md->blocks[i].section : -1;
}

size_t cb_md_section_count(const cb_md *md)
{
	return md->n_sections;
}

const cb_md_section *cb_md_section_at(const cb_md *md, size_t i)
{
	return i < md->n_sections ? &md->sections[i] : NULL;
}

size_t cb_md_link_count(const cb_md *md)
{
	return md->n_links;
}

const cb_md_link *cb_md_link_at(const cb_md *md, size_t i)
{
	return i < md->n_links ? &md->links[i] : NULL;
}

size_t cb_md_found_count(const cb_md *md)
{
	return md->n_found;
}

const cb_md_found *cb_md_found_at(const cb_md *md, size_t i)
{
	return i < md->n_found ? &md->found[i] : NULL;
}

const char *cb_md_text(const cb_md *md)
{
	return md->text ? md->text : "";
}

void cb_md_drop_text(cb_md *md)
{
	size_t i, k;

	for (i = 0; i < md->n_sections; i++) {
		cb_md_section *s = &md->sections[i];
		s->text = NULL;
		s->text_len = s->own_len = 0;
		for (k = 0; k < s->n_items; k++) {
			s->items[k].text = NULL;
			s->items[k].text_len = 0;
		}
	}
	free(md->text);
	md->text = NULL;
}

void cb_md_html_range(const cb_md *md, size_t from, size_t to, cb_buf *out)
{
	size_t i;

	for (i = from; i < to && i < md->n_blocks; i++)
		cb_buf_put(out, md->html + md->blocks[i].off, md->blocks[i].len);
}
