/*
 * cb_md: the cmark-gfm adapter. Markdown in; HTML blocks, the section tree,
 * links and plain text out.
 *
 * The document is parsed once with the table, autolink, strikethrough and
 * tagfilter extensions and smart punctuation. Each top-level block is
 * rendered to HTML on its own, so later stages can show, hide or reorder
 * sections without parsing Markdown again. Every heading gets a unique,
 * stable id. Links to other Markdown documents (`other.md#x`) are rewritten
 * to relative links to their pages; images and other relative links are
 * resolved against the document's folder and reported for copying.
 *
 * Raw HTML is dropped and javascript:/vbscript:/file:/data: links are
 * neutralised unless opts.unsafe_html is set (a warning says so each time).
 * HTML comments (`<!-- ... -->` standing alone, as a block or inline) are
 * notes for editors: they are removed from the document, whatever
 * unsafe_html says, and never warned about.
 *
 * This is the only module that includes the cmark-gfm headers.
 */
#ifndef CB_MD_H
#define CB_MD_H

#include <stddef.h>

#include "cb_buf.h"
#include "cb_diag.h"

typedef struct cb_md cb_md;

/* A list item of a section (see cb_md_section.items). Its text and HTML
 * are ranges of the document's text and HTML: NOT NUL-terminated. */
typedef struct cb_md_item {
	const char *text; /* plain text, text_len bytes */
	size_t text_len;
	const char *html; /* inner HTML, without <li>, html_len bytes */
	size_t html_len;
	unsigned line;              /* where the item starts (its marker) */
	unsigned col;               /* on that line, in characters: where its content starts
	                               (its marker, when the content starts on a later line) */
	unsigned end_line, end_col; /* its content's last character; 0 when unknown */
} cb_md_item;

/* A heading and what follows it up to the next heading of the same or a
 * higher level. Strings are owned by the cb_md. */
typedef struct cb_md_section {
	const char *title; /* heading as plain text */
	const char *html_title; /* heading's inline HTML */
	const char *id;    /* unique anchor id */
	int level;         /* 1..6 */
	unsigned line;     /* line of the heading in the file */
	int parent;        /* index of the enclosing section, -1 at the top */
	size_t block;      /* index of the heading's block */
	size_t end;        /* one past the last block of the section */
	const char *text;  /* plain text of the section's content: a range of
	                    * cb_md_text(), text_len bytes, NOT NUL-terminated */
	size_t text_len;
	size_t own_len;    /* bytes of text before the first sub-section's heading */
	cb_md_item *items; /* list items of the lists directly in this section */
	size_t n_items;
} cb_md_section;

typedef enum cb_md_link_kind {
	CB_LINK_EXTERNAL, /* has a scheme or starts with // */
	CB_LINK_DOC,      /* another Markdown document (target = its source path) */
	CB_LINK_FILE,     /* any other relative file (target = its source path) */
	CB_LINK_ANCHOR    /* "#x" in the same document */
} cb_md_link_kind;

/* Where opts.find_word occurs in the text (see cb_md_opts). */
typedef struct cb_md_found {
	unsigned line; /* line in the file (line_offset added) */
	unsigned col;  /* 1-based column in characters */
} cb_md_found;

typedef struct cb_md_link {
	cb_md_link_kind kind;
	int image;          /* 1 for ![](...) */
	const char *url;    /* as written */
	const char *target; /* normalised source path (DOC, FILE) or NULL */
	const char *anchor; /* fragment without '#', or NULL */
	const char *text;   /* link text (or image alt) */
	unsigned line, col;
} cb_md_link;

/* Maps a source path ("content/cases/b.md", "content/img/x.png") to its path
 * in the site ("cases/b.html", "img/x.png"). Returns a malloc'd string. */
typedef char *(*cb_md_output_path_fn)(const char *source_path);

typedef struct cb_md_opts {
	const char *path;            /* source path of this document, for messages and links */
	unsigned line_offset;        /* lines before the Markdown (front matter) */
	int unsafe_html;             /* keep raw HTML and every URL */
	const char *output_dir;      /* site folder of this document's page ("cases", "") */
	cb_md_output_path_fn output_path;
	const char *const *reserved_ids; /* NULL-terminated ids headings must avoid, or NULL */
	/* A word to look for in the document's text (not in code, HTML or
	 * URLs), as a whole word: "TODO" finds "TODO:" but not "TODOS". NULL
	 * looks for nothing. See cb_md_found_at. */
	const char *find_word;
} cb_md_opts;

/* Call once before any parsing, on one thread: registers cmark-gfm's
 * extensions and sets up its table of special characters so that documents
 * may be parsed on several threads at once (see cb_md.c). */
void cb_md_init(void);

/*
 * Parse len bytes of Markdown. Always produces a result in *out (free with
 * cb_md_free); problems (a link that leaves the source folder, raw HTML
 * dropped) are appended to diags. Returns -1 if any of them is an error,
 * else 0. Thread-safe (each call has its own parser).
 */
int cb_md_parse(cb_md **out, const char *text, size_t len, const cb_md_opts *opts,
                cb_diag_list *diags);
void cb_md_free(cb_md *md);

/* Top-level blocks in document order and their HTML (borrowed). */
size_t cb_md_block_count(const cb_md *md);
const char *cb_md_block_html(const cb_md *md, size_t i, size_t *len);
/* Index of the innermost section a block belongs to, or -1 (preamble). */
int cb_md_block_section(const cb_md *md, size_t i);

size_t cb_md_section_count(const cb_md *md);
const cb_md_section *cb_md_section_at(const cb_md *md, size_t i);

size_t cb_md_link_count(const cb_md *md);
const cb_md_link *cb_md_link_at(const cb_md *md, size_t i);

/* Occurrences of opts.find_word, in document order. */
size_t cb_md_found_count(const cb_md *md);
const cb_md_found *cb_md_found_at(const cb_md *md, size_t i);

/* Plain text of the whole document (borrowed; "" once dropped). */
const char *cb_md_text(const cb_md *md);
/* Free the plain text (cb_md_text and the text of every section and list
 * item) once nothing will read it again: it reads as empty after, while
 * the HTML, headings, links and ids stay. Other threads may go on reading
 * those, but none may read the text (the `text`, `text_len` and `own_len`
 * fields of sections and items) meanwhile. */
void cb_md_drop_text(cb_md *md);

/* Append the HTML of blocks [from, to) to out. */
void cb_md_html_range(const cb_md *md, size_t from, size_t to, cb_buf *out);

#endif
