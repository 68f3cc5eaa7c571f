/*
 * cb_template: Mustache templates (see cb_template.h).
 *
 * A template is compiled in two passes over its source. The first pass
 * (lexer) cuts the source into tags, following Set Delimiter tags, and
 * matches every section, parent and block with its closing tag; it reports
 * every syntax error it finds. The second pass (builder) walks the source one
 * line at a time and decides which tags stand alone on their lines (such
 * lines vanish from the output), where lines start (indentation points), and
 * how block contents are re-indented; it emits a flat array of nodes in which
 * a section is followed by its body and records the index just past it.
 *
 * Text nodes are slices of the template's own copy of its source, and names
 * are pre-split on dots, so rendering allocates nothing per tag: the context
 * stack and the stack of parent tags live in the C stack frames of the
 * renderer, and only the indentation and a scratch buffer for number
 * formatting are per-render buffers.
 *
 * Indentation. Every point where a template line starts (and the start of a
 * block's content) is marked in the nodes. When the renderer passes such a
 * point and its output is at the start of a line, it writes the current
 * indentation: the concatenation of the indentation of every standalone
 * partial, parent and block being rendered. Interpolated values never get
 * indented. Block content is de-indented when compiled (by the indentation
 * of the block's first content line when the opening tag stands alone,
 * otherwise by the whitespace before the tag) and re-indented where it is
 * rendered, which is what the spec's ~inheritance tests describe.
 */
#include "cb_template.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cb_text.h"

/* Sections, parents and blocks may nest this deep inside one template. It
 * bounds the renderer's recursion together with CB_TMPL_MAX_DEPTH. */
#define MAX_NEST 256

/* {=================================================================
 * Types
 * ================================================================== */

typedef enum entry_state {
	E_UNLOADED, /* named by a template, the loader not asked yet */
	E_SOURCE,   /* text known, not compiled (or it failed to compile) */
	E_COMPILED, /* tmpl is valid */
	E_MISSING   /* the loader does not have it: renders as empty text */
} entry_state;

/* One name of the set. Entries never move (the table holds pointers), so
 * compiled nodes point straight at the entry of the partial they include. */
typedef struct entry {
	char *name;
	size_t nlen;
	uint32_t hash;
	entry_state state;
	char *text;   /* E_SOURCE: the source (owned) */
	size_t len;
	char *path;   /* E_SOURCE: display path (owned) */
	cb_tmpl *tmpl;      /* E_COMPILED: the template (owned) */
	unsigned visit;     /* closure walk marker */
	unsigned ok_gen;    /* set->gen when everything it names was last compiled */
} entry;

struct cb_tmpl_set {
	cb_tmpl_loader load;
	void *ctx;
	entry **slots; /* open addressing, power-of-two capacity */
	size_t cap, count;
	cb_tmpl *retired; /* replaced templates, kept until the set is freed */
	unsigned visit;
	unsigned gen; /* bumped when cb_tmpl_set_add changes an entry; starts at 1 */
	unsigned long long max_steps; /* render limits (cb_tmpl_set_limits) */
	size_t max_output;
};

typedef enum node_type {
	N_TEXT,     /* off/len: text */
	N_INDENT,   /* a line starts here */
	N_VAR,      /* {{name}} */
	N_RAW,      /* {{{name}}}, {{&name}} */
	N_SECTION,  /* {{#name}} body {{/name}} */
	N_INVERTED, /* {{^name}} body {{/name}} */
	N_PARTIAL,  /* {{>name}} */
	N_PARENT,   /* {{<name}} blocks {{/name}} */
	N_BLOCK     /* {{$name}} default {{/name}} */
} node_type;

#define F_LEAD 1  /* a line starts just before this node */
#define F_LINES 2 /* N_TEXT: a line starts after each newline inside it */

typedef struct span {
	uint32_t off, len;
} span;

typedef struct node {
	uint8_t type;
	uint8_t flags;
	uint32_t off, len;    /* N_TEXT: the text; tags: the name */
	uint32_t ind, indlen; /* N_PARTIAL, N_PARENT, N_BLOCK: indentation */
	uint32_t end;         /* sections, parents, blocks: index after the body */
	uint32_t part, nparts; /* N_VAR..N_INVERTED: dotted name parts; 0 = "." */
	uint32_t line, col;   /* position of the tag */
	entry *target;        /* N_PARTIAL, N_PARENT */
} node;

struct cb_tmpl {
	char *src; /* the source; every offset points into it */
	size_t len;
	char *path;
	node *nodes;
	size_t n, cap;
	span *parts;
	size_t nparts, partcap;
	entry **refs; /* distinct partials and parents it names */
	size_t nrefs, refcap;
	cb_tmpl *next_retired;
};

/* {=================================================================
 * Small helpers
 * ================================================================== */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

static int is_blank(const char *s, size_t from, size_t to)
{
	for (; from < to; from++)
		if (!is_space(s[from]))
			return 0;
	return 1;
}

/* Offset just past the end of the line containing pos (after its '\n'). */
static size_t line_end(const char *s, size_t len, size_t pos)
{
	const char *nl;

	if (pos >= len)
		return len;
	nl = memchr(s + pos, '\n', len - pos);
	return nl ? (size_t)(nl - s) + 1 : len;
}

static int has_body(const node *n)
{
	return n->type == N_SECTION || n->type == N_INVERTED || n->type == N_PARENT ||
	       n->type == N_BLOCK;
}

/* {=================================================================
 * The set's table of names
 * ================================================================== */

static void table_grow(cb_tmpl_set *set)
{
	size_t cap = set->cap ? set->cap * 2 : 16, i;
	entry **slots = cb_xcalloc(cap, sizeof *slots);

	for (i = 0; i < set->cap; i++) {
		entry *e = set->slots[i];
		size_t j;

		if (!e)
			continue;
		for (j = e->hash & (cap - 1); slots[j]; j = (j + 1) & (cap - 1))
			;
		slots[j] = e;
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
}

/* The entry for name, created (E_UNLOADED) if needed. Never NULL. */
static entry *entry_get(cb_tmpl_set *set, const char *name, size_t nlen)
{
	uint32_t h = cb_text_hash32(name, nlen);
	entry *e;
	size_t j;

	/* Look first: finding a name must not write to the set, since
	 * cb_tmpl_set_get may run while other threads render. */
	for (j = h & (set->cap - 1); set->cap && (e = set->slots[j]) != NULL;
	     j = (j + 1) & (set->cap - 1))
		if (e->hash == h && e->nlen == nlen && memcmp(e->name, name, nlen) == 0)
			return e;
	if ((set->count + 1) * 2 > set->cap) {
		table_grow(set);
		for (j = h & (set->cap - 1); set->slots[j]; j = (j + 1) & (set->cap - 1))
			;
	}
	e = cb_xcalloc(1, sizeof *e);
	e->name = cb_xstrndup(name, nlen);
	e->nlen = nlen;
	e->hash = h;
	e->state = E_UNLOADED;
	set->slots[j] = e;
	set->count++;
	return e;
}

static void tmpl_free(cb_tmpl *t)
{
	if (!t)
		return;
	free(t->src);
	free(t->path);
	free(t->nodes);
	free(t->parts);
	free(t->refs);
	free(t);
}

cb_tmpl_set *cb_tmpl_set_new(cb_tmpl_loader load, void *ctx)
{
	cb_tmpl_set *set = cb_xcalloc(1, sizeof *set);

	set->load = load;
	set->ctx = ctx;
	set->gen = 1;
	set->max_steps = CB_TMPL_MAX_STEPS;
	set->max_output = CB_TMPL_MAX_OUTPUT;
	return set;
}

void cb_tmpl_set_limits(cb_tmpl_set *set, unsigned long long steps, size_t output)
{
	set->max_steps = steps;
	set->max_output = output;
}

void cb_tmpl_set_free(cb_tmpl_set *set)
{
	size_t i;

	if (!set)
		return;
	for (i = 0; i < set->cap; i++) {
		entry *e = set->slots[i];

		if (!e)
			continue;
		free(e->name);
		free(e->text);
		free(e->path);
		tmpl_free(e->tmpl);
		free(e);
	}
	while (set->retired) {
		cb_tmpl *t = set->retired;

		set->retired = t->next_retired;
		tmpl_free(t);
	}
	free(set->slots);
	free(set);
}

void cb_tmpl_set_add(cb_tmpl_set *set, const char *name, const char *text, size_t len,
                     const char *path)
{
	entry *e;

	assert(set && name && (text || len == 0));
	e = entry_get(set, name, strlen(name));
	if (e->tmpl) {
		e->tmpl->next_retired = set->retired;
		set->retired = e->tmpl;
		e->tmpl = NULL;
	}
	free(e->text);
	free(e->path);
	e->text = cb_xstrndup(len ? text : "", len);
	e->len = len;
	e->path = cb_xstrdup(path ? path : name);
	e->state = E_SOURCE;
	set->gen++;
}

const char *cb_tmpl_path(const cb_tmpl *t)
{
	return t->path;
}

/* {=================================================================
 * Pass 1: the lexer
 * ================================================================== */

typedef enum tok_type {
	T_VAR,
	T_RAW,
	T_SECTION,
	T_INVERTED,
	T_CLOSE,
	T_PARTIAL,
	T_PARENT,
	T_BLOCK,
	T_COMMENT,
	T_DELIM
} tok_type;

typedef struct tok {
	uint8_t type;
	uint32_t start, end; /* the whole tag, delimiters included */
	uint32_t key, klen;  /* the name, trimmed */
	uint32_t line, col;
	uint32_t match; /* opening <-> closing tag */
} tok;

typedef struct lexer {
	const char *src;
	size_t len;
	const char *path;
	cb_diag_list *diags;
	int errors;
	tok *toks;
	size_t ntok, tokcap;
	const char *otag, *ctag; /* current delimiters */
	size_t olen, clen;
	size_t cur; /* line and col are those of offset cur */
	unsigned line, col;
} lexer;

/* Move the position to offset `to`, counting lines and (UTF-8) columns. */
static void lex_advance(lexer *lx, size_t to)
{
	for (; lx->cur < to; lx->cur++) {
		unsigned char c = (unsigned char)lx->src[lx->cur];

		if (c == '\n') {
			lx->line++;
			lx->col = 1;
		} else if ((c & 0xC0) != 0x80) {
			lx->col++;
		}
	}
}

static int lex_error(lexer *lx, unsigned line, unsigned col, const char *fmt, ...)
    CB_PRINTF(4, 5);

/* Report a syntax error at line:col. Returns -1. */
static int lex_error(lexer *lx, unsigned line, unsigned col, const char *fmt, ...)
{
	cb_buf msg = CB_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	cb_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	lx->errors++;
	cb_diag_error(lx->diags, "template", lx->path, line, col, "%s", msg.ptr);
	cb_buf_dispose(&msg);
	return -1;
}

/*
 * Find the closing delimiter from `from`: the first ctag preceded by `prefix`
 * (when prefix is not 0) at or after from + 1. Unless `multiline`, a newline
 * ends the search. Returns the offset of the ctag, or -1.
 */
static long find_close(const lexer *lx, size_t from, char prefix, int multiline)
{
	const char *s = lx->src;
	size_t j;

	for (j = from; j + lx->clen <= lx->len; j++) {
		if (!multiline && s[j] == '\n')
			return -1;
		if (s[j] == lx->ctag[0] && memcmp(s + j, lx->ctag, lx->clen) == 0 &&
		    (!prefix || (j > from && s[j - 1] == prefix)))
			return (long)j;
	}
	return -1;
}

static void trim(const char *s, size_t *from, size_t *to)
{
	while (*from < *to && is_space(s[*from]))
		(*from)++;
	while (*to > *from && is_space(s[*to - 1]))
		(*to)--;
}

/* Check a tag's name; report and return -1 when it is not a valid name. */
static int check_name(lexer *lx, const tok *t)
{
	const char *k = lx->src + t->key;
	size_t i;
	int dotted = t->type == T_VAR || t->type == T_RAW || t->type == T_SECTION ||
	             t->type == T_INVERTED;

	if (t->klen == 0)
		return lex_error(lx, t->line, t->col, "empty tag: a name is missing");
	for (i = 0; i < t->klen; i++)
		if (is_space(k[i]) || k[i] == '\0')
			return lex_error(lx, t->line, t->col, "bad tag name '%.*s' (no spaces allowed)",
			                 (int)t->klen, k);
	if (dotted && !(t->klen == 1 && k[0] == '.')) {
		for (i = 0; i < t->klen; i++)
			if (k[i] == '.' && (i == 0 || i + 1 == t->klen || k[i + 1] == '.'))
				return lex_error(lx, t->line, t->col, "bad name '%.*s' (empty part between dots)",
				                 (int)t->klen, k);
	}
	return 0;
}

/* A Set Delimiter tag's content [from, to): two non-blank words. */
static int set_delims(lexer *lx, const tok *t, size_t from, size_t to)
{
	const char *s = lx->src;
	size_t a, b, c, d;

	trim(s, &from, &to);
	for (a = from, b = a; b < to && !is_space(s[b]); b++)
		;
	for (c = b; c < to && is_space(s[c]); c++)
		;
	for (d = c; d < to && !is_space(s[d]); d++)
		;
	if (b == a || d == c || d != to)
		return lex_error(lx, t->line, t->col,
		                 "bad delimiters '%.*s': expected two words, as in {{=<%% %%>=}}",
		                 (int)(to - from), s + from);
	lx->otag = s + a;
	lx->olen = b - a;
	lx->ctag = s + c;
	lx->clen = d - c;
	return 0;
}

static const char *tok_what(int type)
{
	switch (type) {
	case T_SECTION: return "section";
	case T_INVERTED: return "inverted section";
	case T_PARENT: return "parent";
	case T_BLOCK: return "block";
	default: return "tag";
	}
}

/*
 * Cut the source into tags and match opening and closing tags. Reports every
 * error; returns the number of errors.
 */
static int lex(lexer *lx)
{
	const char *s = lx->src;
	size_t len = lx->len, i = 0;
	uint32_t *stack = NULL; /* indexes of open tags */
	size_t nstack = 0, stackcap = 0, k;
	int nest_reported = 0;

	lx->otag = "{{";
	lx->olen = 2;
	lx->ctag = "}}";
	lx->clen = 2;
	lx->line = lx->col = 1;
	while (i < len) {
		const char *hit = memmem(s + i, len - i, lx->otag, lx->olen);
		size_t q, from, to;
		long close;
		tok t;

		if (!hit)
			break;
		memset(&t, 0, sizeof t);
		t.start = (uint32_t)(hit - s);
		lex_advance(lx, t.start);
		t.line = lx->line;
		t.col = lx->col;
		q = t.start + lx->olen;
		if (q < len && s[q] == '!') {
			t.type = T_COMMENT;
			close = find_close(lx, q + 1, 0, 1);
			if (close < 0) {
				lex_error(lx, t.line, t.col, "unclosed comment: no '%.*s' after it",
				          (int)lx->clen, lx->ctag);
				break;
			}
			from = to = (size_t)close;
			t.end = (uint32_t)((size_t)close + lx->clen);
		} else {
			char c = q < len ? s[q] : '\0';
			char prefix = 0;

			t.type = T_VAR;
			from = q + 1;
			switch (c) {
			case '{': t.type = T_RAW; prefix = '}'; break;
			case '&': t.type = T_RAW; break;
			case '=': t.type = T_DELIM; prefix = '='; break;
			case '#': t.type = T_SECTION; break;
			case '^': t.type = T_INVERTED; break;
			case '/': t.type = T_CLOSE; break;
			case '>': t.type = T_PARTIAL; break;
			case '<': t.type = T_PARENT; break;
			case '$': t.type = T_BLOCK; break;
			default: from = q; break;
			}
			close = find_close(lx, from, prefix, 0);
			if (close < 0) {
				lex_error(lx, t.line, t.col,
				          "unclosed tag: no '%.*s%.*s' before the end of the line",
				          prefix ? 1 : 0, &prefix, (int)lx->clen, lx->ctag);
				i = line_end(s, len, q);
				continue;
			}
			to = (size_t)close - (prefix ? 1 : 0);
			t.end = (uint32_t)((size_t)close + lx->clen);
		}
		i = t.end;
		if (t.type == T_DELIM) {
			if (set_delims(lx, &t, from, to) < 0)
				continue;
		} else if (t.type != T_COMMENT) {
			trim(s, &from, &to);
			t.key = (uint32_t)from;
			t.klen = (uint32_t)(to - from);
			/* A bad name is reported; sections keep being matched, so
			 * their closing tags do not add more errors. */
			if (check_name(lx, &t) < 0 && (t.type == T_VAR || t.type == T_RAW ||
			                               t.type == T_PARTIAL))
				continue;
		}
		if (lx->ntok == lx->tokcap) {
			lx->tokcap = lx->tokcap ? lx->tokcap * 2 : 64;
			lx->toks = cb_xreallocarray(lx->toks, lx->tokcap, sizeof(tok));
		}
		lx->toks[lx->ntok] = t;

		/* Match sections, parents and blocks with their closing tags. */
		switch (t.type) {
		case T_SECTION:
		case T_INVERTED:
		case T_PARENT:
		case T_BLOCK:
			if (nstack == MAX_NEST && !nest_reported) {
				nest_reported = 1;
				lex_error(lx, t.line, t.col, "sections nested deeper than %d", MAX_NEST);
			}
			if (nstack == stackcap) {
				stackcap = stackcap ? stackcap * 2 : 16;
				stack = cb_xreallocarray(stack, stackcap, sizeof *stack);
			}
			stack[nstack++] = (uint32_t)lx->ntok;
			break;
		case T_CLOSE: {
			const tok *top;

			if (nstack == 0) {
				lex_error(lx, t.line, t.col, "closing tag '%.*s' has no open section",
				          (int)t.klen, s + t.key);
				break;
			}
			top = &lx->toks[stack[nstack - 1]];
			if (top->klen == t.klen && memcmp(s + top->key, s + t.key, t.klen) == 0) {
				lx->toks[stack[nstack - 1]].match = (uint32_t)lx->ntok;
				lx->toks[lx->ntok].match = stack[nstack - 1];
				nstack--;
				break;
			}
			lex_error(lx, t.line, t.col,
			          "closing tag '%.*s' does not match the %s '%.*s' opened at %u:%u",
			          (int)t.klen, s + t.key, tok_what(top->type), (int)top->klen,
			          s + top->key, top->line, top->col);
			/* Recover: close up to a deeper match, else assume a typo that
			 * closes the innermost one. */
			for (k = nstack; k-- > 0;) {
				const tok *o = &lx->toks[stack[k]];

				if (o->klen == t.klen && memcmp(s + o->key, s + t.key, t.klen) == 0)
					break;
			}
			nstack = k < nstack ? k : nstack - 1;
			break;
		}
		default:
			break;
		}
		lx->ntok++;
	}
	while (nstack > 0) {
		const tok *o = &lx->toks[stack[--nstack]];

		lex_error(lx, o->line, o->col, "unclosed %s '%.*s'", tok_what(o->type), (int)o->klen,
		          s + o->key);
	}
	free(stack);
	return lx->errors;
}

/* {=================================================================
 * Pass 2: the builder
 * ================================================================== */

typedef struct scope {
	uint32_t node;        /* index of the node that opened it */
	uint8_t type;         /* its node type */
	uint8_t standalone;   /* N_PARENT: its tags stand alone */
	uint32_t ind, indlen; /* N_BLOCK: indentation taken off its lines */
} scope;

typedef struct builder {
	cb_tmpl_set *set;
	cb_tmpl *t;
	const lexer *lx;
	scope *sc;
	size_t nsc, sccap;
	int pending_ip; /* a line starts before the next node */
	long last_text; /* a text node new text may extend, or -1 */
} builder;

static node *add_node(builder *b, node_type type)
{
	cb_tmpl *t = b->t;
	node *n;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->nodes = cb_xreallocarray(t->nodes, t->cap, sizeof(node));
	}
	n = &t->nodes[t->n++];
	memset(n, 0, sizeof *n);
	n->type = (uint8_t)type;
	if (b->pending_ip)
		n->flags |= F_LEAD;
	b->pending_ip = 0;
	b->last_text = -1;
	return n;
}

/* Turn a pending line start into a node of its own. */
static void flush_ip(builder *b)
{
	if (b->pending_ip) {
		b->pending_ip = 0;
		add_node(b, N_INDENT);
	}
}

static void add_ip(builder *b)
{
	flush_ip(b);
	b->pending_ip = 1;
}

static void add_text(builder *b, size_t off, size_t len)
{
	const char *s = b->lx->src;
	node *n;

	if (len == 0)
		return;
	if (b->last_text >= 0) {
		n = &b->t->nodes[b->last_text];
		if (n->off + n->len == off) {
			int nl = s[n->off + n->len - 1] == '\n';

			/* "a\n" + line start + "b" is one text with F_LINES. */
			if (b->pending_ip ? nl : !nl) {
				if (b->pending_ip)
					n->flags |= F_LINES;
				b->pending_ip = 0;
				n->len += (uint32_t)len;
				return;
			}
		}
	}
	n = add_node(b, N_TEXT);
	n->off = (uint32_t)off;
	n->len = (uint32_t)len;
	b->last_text = (long)(n - b->t->nodes);
}

/* Split a dotted name into parts ("." has none). */
static void set_name(builder *b, node *n, const tok *tk)
{
	cb_tmpl *t = b->t;
	const char *s = b->lx->src;
	uint32_t i, start = tk->key, end = tk->key + tk->klen;

	n->off = tk->key;
	n->len = tk->klen;
	n->line = tk->line;
	n->col = tk->col;
	n->part = (uint32_t)t->nparts;
	if (tk->klen == 1 && s[tk->key] == '.')
		return;
	for (i = start; i <= end; i++) {
		if (i < end && s[i] != '.')
			continue;
		if (t->nparts == t->partcap) {
			t->partcap = t->partcap ? t->partcap * 2 : 16;
			t->parts = cb_xreallocarray(t->parts, t->partcap, sizeof(span));
		}
		t->parts[t->nparts].off = start;
		t->parts[t->nparts].len = i - start;
		t->nparts++;
		n->nparts++;
		start = i + 1;
	}
}

static void set_target(builder *b, node *n)
{
	cb_tmpl *t = b->t;
	entry *e = entry_get(b->set, b->lx->src + n->off, n->len);
	size_t i;

	n->target = e;
	for (i = 0; i < t->nrefs; i++)
		if (t->refs[i] == e)
			return;
	if (t->nrefs == t->refcap) {
		t->refcap = t->refcap ? t->refcap * 2 : 4;
		t->refs = cb_xreallocarray(t->refs, t->refcap, sizeof(entry *));
	}
	t->refs[t->nrefs++] = e;
}

static void push_scope(builder *b, const node *n, int standalone, size_t ind, size_t indlen)
{
	scope *sc;

	if (b->nsc == b->sccap) {
		b->sccap = b->sccap ? b->sccap * 2 : 16;
		b->sc = cb_xreallocarray(b->sc, b->sccap, sizeof(scope));
	}
	sc = &b->sc[b->nsc++];
	sc->node = (uint32_t)(n - b->t->nodes);
	sc->type = n->type;
	sc->standalone = (uint8_t)standalone;
	sc->ind = (uint32_t)ind;
	sc->indlen = (uint32_t)indlen;
	b->last_text = -1;
}

/* Skip the indentation of every enclosing block at the start of a line. */
static size_t dedent(const builder *b, size_t pos)
{
	const char *s = b->lx->src;
	size_t i;

	for (i = 0; i < b->nsc; i++) {
		const scope *sc = &b->sc[i];

		if (sc->type != N_BLOCK)
			continue;
		if (pos + sc->indlen > b->lx->len || memcmp(s + pos, s + sc->ind, sc->indlen) != 0)
			break;
		pos += sc->indlen;
	}
	return pos;
}

static int top_is(const builder *b, size_t depth, node_type type)
{
	return b->nsc > depth && b->sc[b->nsc - 1 - depth].type == type;
}

/*
 * Emit the nodes for tag tk. *ignore_rest is set when the rest of the line
 * must be dropped.
 */
static void build_tag(builder *b, const tok *tk, size_t ind, size_t indlen, int standalone,
                      int *ignore_rest)
{
	node *n;

	switch (tk->type) {
	case T_VAR:
	case T_RAW:
		n = add_node(b, tk->type == T_VAR ? N_VAR : N_RAW);
		set_name(b, n, tk);
		break;
	case T_SECTION:
	case T_INVERTED:
		n = add_node(b, tk->type == T_SECTION ? N_SECTION : N_INVERTED);
		set_name(b, n, tk);
		push_scope(b, n, 0, 0, 0);
		break;
	case T_PARTIAL:
	case T_PARENT:
	case T_BLOCK:
		n = add_node(b, tk->type == T_PARTIAL  ? N_PARTIAL
		                : tk->type == T_PARENT ? N_PARENT
		                                       : N_BLOCK);
		n->off = tk->key;
		n->len = tk->klen;
		n->line = tk->line;
		n->col = tk->col;
		n->ind = (uint32_t)ind;
		n->indlen = (uint32_t)indlen;
		if (tk->type != T_BLOCK)
			set_target(b, n);
		if (tk->type != T_PARTIAL)
			push_scope(b, n, standalone, ind, indlen);
		/* Block content starts like a line unless it starts on the next one. */
		if (tk->type == T_BLOCK && !*ignore_rest)
			add_ip(b);
		break;
	case T_CLOSE: {
		const scope *sc = &b->sc[b->nsc - 1];

		flush_ip(b);
		b->t->nodes[sc->node].end = (uint32_t)b->t->n;
		if (sc->type == N_PARENT)
			*ignore_rest = sc->standalone;
		b->nsc--;
		b->last_text = -1;
		break;
	}
	default: /* comments and Set Delimiter tags leave nothing */
		break;
	}
}

static void build(builder *b)
{
	const lexer *lx = b->lx;
	const char *s = lx->src;
	size_t len = lx->len, pos = 0, ti = 0;

	while (pos < len) {
		size_t ls = dedent(b, pos);
		size_t eol = line_end(s, len, ls);
		size_t prev = ls;
		int first = 1;

		if (ti >= lx->ntok || lx->toks[ti].start >= eol)
			add_ip(b);
		while (ti < lx->ntok && lx->toks[ti].start < eol) {
			const tok *tk = &lx->toks[ti];
			int in_parent = top_is(b, 0, N_PARENT);
			int is_arg = tk->type == T_BLOCK && in_parent;
			int is_param = tk->type == T_BLOCK && !in_parent;
			int pair = tk->type == T_PARENT || is_param;
			size_t trail = tk->end, ind = 0, indlen = 0;
			int standalone, ignore_rest;

			if (tk->end > eol) /* a comment that spans lines */
				eol = line_end(s, len, tk->end);
			/* Parents and blocks outside parents stand alone when their
			 * opening and closing tags do, even on one line. */
			if (pair)
				trail = lx->toks[tk->match].end;
			standalone = first && tk->type != T_VAR && tk->type != T_RAW &&
			             is_blank(s, prev, tk->start) &&
			             is_blank(s, trail, line_end(s, len, trail));
			ignore_rest = standalone && !pair;
			if ((is_arg || (is_param && standalone)) && is_blank(s, tk->end, eol)) {
				/* Content starts on the next line: its indentation is the
				 * block's. */
				size_t nx = eol < len ? dedent(b, eol) : len;

				ind = nx;
				while (ind + indlen < len && (s[ind + indlen] == ' ' || s[ind + indlen] == '\t'))
					indlen++;
				ignore_rest = 1;
			} else if (standalone) {
				ind = prev;
				indlen = tk->start - prev;
			}
			if (!standalone) {
				/* No line start before the closing tag of a block argument
				 * that begins its line: the content ended with the line. */
				if (first && !(tk->start == ls && tk->type == T_CLOSE &&
				               top_is(b, 0, N_BLOCK) && top_is(b, 1, N_PARENT)))
					add_ip(b);
				add_text(b, prev, tk->start - prev);
			}
			build_tag(b, tk, ind, indlen, standalone, &ignore_rest);
			ti++;
			first = 0;
			if (ignore_rest) {
				prev = eol;
				break;
			}
			prev = tk->end;
		}
		add_text(b, prev, eol - prev);
		pos = eol;
	}
	flush_ip(b);
}

#ifdef CB_DEBUG_CHECKS
/* Verify the invariants of a compiled template, as cmark_node_check does:
 * bodies nest inside their parents, slices lie inside the source, names and
 * targets are set. A failure is a bug in the builder, hence assert. */
static void tmpl_check(const cb_tmpl *t)
{
	size_t stack[MAX_NEST + 2], depth = 0, i, k;

	for (i = 0; i <= t->n; i++) {
		const node *n;

		while (depth > 0 && t->nodes[stack[depth - 1]].end == i)
			depth--;
		if (i == t->n)
			break;
		n = &t->nodes[i];
		assert(n->type <= N_BLOCK);
		assert((size_t)n->off + n->len <= t->len);
		assert((size_t)n->ind + n->indlen <= t->len);
		assert(n->type != N_TEXT || n->len > 0);
		assert((n->type != N_PARTIAL && n->type != N_PARENT) || n->target);
		if (n->type >= N_VAR && n->type <= N_INVERTED) {
			assert((size_t)n->part + n->nparts <= t->nparts);
			for (k = 0; k < n->nparts; k++)
				assert(t->parts[n->part + k].len > 0 &&
				       t->parts[n->part + k].off >= n->off &&
				       t->parts[n->part + k].off + t->parts[n->part + k].len <=
				           n->off + n->len);
		}
		if (has_body(n)) {
			assert(n->end > i && n->end <= t->n);
			assert(depth == 0 || n->end <= t->nodes[stack[depth - 1]].end);
			assert(depth <= MAX_NEST);
			stack[depth++] = i;
		}
	}
	assert(depth == 0);
}
#endif

/*
 * Compile entry e (E_SOURCE). On success the template takes over the
 * entry's text and path. Returns 0, or -1 after reporting syntax errors.
 */
static int compile_entry(cb_tmpl_set *set, entry *e, cb_diag_list *diags)
{
	lexer lx;
	builder b;
	cb_tmpl *t = NULL;
	int rc = -1;

	memset(&lx, 0, sizeof lx);
	memset(&b, 0, sizeof b);
	lx.src = e->text;
	lx.len = e->len;
	lx.path = e->path;
	lx.diags = diags;
	if (e->len >= UINT32_MAX) {
		cb_diag_error(diags, "template", e->path, 0, 0, "template is larger than 4 GB");
		goto out;
	}
	if (lex(&lx) > 0)
		goto out;
	t = cb_xcalloc(1, sizeof *t);
	b.set = set;
	b.t = t;
	b.lx = &lx;
	b.last_text = -1;
	build(&b);
	t->src = e->text;
	t->len = e->len;
	t->path = e->path;
#ifdef CB_DEBUG_CHECKS
	tmpl_check(t);
#endif
	e->text = NULL;
	e->path = NULL;
	e->tmpl = t;
	e->state = E_COMPILED;
	t = NULL;
	rc = 0;
out:
	tmpl_free(t);
	free(b.sc);
	free(lx.toks);
	return rc;
}

/* {=================================================================
 * Loading and compiling names
 * ================================================================== */

/* Load (through the loader) and compile e if needed. Returns 0,
 * CB_TMPL_NOTFOUND or -1. */
static int ensure(cb_tmpl_set *set, entry *e, cb_diag_list *diags)
{
	if (e->state == E_UNLOADED) {
		char *data = NULL, *path = NULL;
		size_t len = 0;
		int rc = set->load ? set->load(set->ctx, e->name, &data, &len, &path, diags)
		                   : CB_TMPL_NOTFOUND;

		if (rc < 0) {
			free(data);
			free(path);
			if (rc != CB_TMPL_NOTFOUND)
				return -1;
			e->state = E_MISSING;
		} else {
			e->text = data ? data : cb_xstrdup("");
			e->len = data ? len : 0;
			e->path = path ? path : cb_xstrdup(e->name);
			e->state = E_SOURCE;
		}
	}
	if (e->state == E_MISSING)
		return CB_TMPL_NOTFOUND;
	if (e->state == E_SOURCE)
		return compile_entry(set, e, diags);
	return 0;
}

/*
 * Compile root (already compiled) and everything it names, transitively.
 * Loading and compiling never undo a finished closure, only cb_tmpl_set_add
 * does (it bumps set->gen), so a root whose closure was finished in this
 * generation returns at once without writing anything.
 */
static int compile_closure(cb_tmpl_set *set, entry *root, cb_diag_list *diags)
{
	entry **work = NULL;
	size_t nwork = 0, cap = 0, i;
	int rc = 0;

	if (root->ok_gen == set->gen && root->state == E_COMPILED)
		return 0;
	set->visit++;
	root->visit = set->visit;
	work = cb_xreallocarray(NULL, cap = 16, sizeof *work);
	work[nwork++] = root;
	while (nwork > 0) {
		entry *e = work[--nwork];
		int r = ensure(set, e, diags);

		if (r == CB_TMPL_NOTFOUND)
			continue;
		if (r < 0) {
			rc = -1;
			continue;
		}
		for (i = 0; i < e->tmpl->nrefs; i++) {
			entry *d = e->tmpl->refs[i];

			if (d->visit == set->visit)
				continue;
			d->visit = set->visit;
			if (nwork == cap)
				work = cb_xreallocarray(work, cap *= 2, sizeof *work);
			work[nwork++] = d;
		}
	}
	free(work);
	if (rc == 0)
		root->ok_gen = set->gen;
	return rc;
}

int cb_tmpl_set_get(cb_tmpl_set *set, const char *name, const cb_tmpl **out,
                    cb_diag_list *diags)
{
	entry *e;
	int rc;

	assert(set && name && out);
	*out = NULL;
	e = entry_get(set, name, strlen(name));
	if ((rc = ensure(set, e, diags)) < 0 || (rc = compile_closure(set, e, diags)) < 0)
		return rc;
	*out = e->tmpl;
	return 0;
}

int cb_tmpl_set_compile_all(cb_tmpl_set *set, cb_diag_list *diags)
{
	entry **all = NULL;
	size_t n = 0, i;
	int rc = 0;

	if (set->count)
		all = cb_xreallocarray(NULL, set->count, sizeof *all);
	for (i = 0; i < set->cap; i++)
		if (set->slots[i] && (set->slots[i]->state == E_SOURCE ||
		                      set->slots[i]->state == E_COMPILED))
			all[n++] = set->slots[i];
	for (i = 0; i < n; i++) {
		int r = ensure(set, all[i], diags);

		if (r == 0)
			r = compile_closure(set, all[i], diags);
		if (r < 0 && r != CB_TMPL_NOTFOUND)
			rc = -1;
	}
	free(all);
	return rc;
}

/* {=================================================================
 * Rendering
 * ================================================================== */

/* The context stack: one frame per section level, on the C stack. */
typedef struct ctx {
	const cb_value *v;
	const struct ctx *up;
} ctx;

/* The parent tags being rendered, innermost first. */
typedef struct parent {
	const cb_tmpl *t;
	uint32_t node;
	const struct parent *up;
} parent;

typedef struct rstate {
	cb_buf *out;
	size_t start;    /* out->len when rendering began */
	cb_buf ind;      /* current indentation */
	cb_buf scratch;  /* number formatting for escaped output */
	int depth;       /* partials, parents and block substitutions */
	unsigned long long steps, max_steps; /* nodes visited, and the limit */
	size_t max_output;
	cb_diag_list *diags;
} rstate;

/* Is the render over its limit of steps or output? Reports it if so. */
static int over_budget(rstate *st, const cb_tmpl *t, const node *n)
{
	int len = (int)(n->len > 40 ? 40 : n->len);

	if (++st->steps > st->max_steps)
		return cb_diag_error(st->diags, "template", t->path, n->line, n->col,
		                     "rendering stopped at '%.*s' after %llu steps (sections over lists "
		                     "multiply when nested)",
		                     len, t->src + n->off, st->max_steps);
	if (st->out->len - st->start > st->max_output)
		return cb_diag_error(st->diags, "template", t->path, n->line, n->col,
		                     "rendering stopped at '%.*s': the output is over %zu bytes", len,
		                     t->src + n->off, st->max_output);
	return 0;
}

static void put_indent(rstate *st)
{
	const cb_buf *o = st->out;

	if (st->ind.len && (o->len == st->start || o->ptr[o->len - 1] == '\n'))
		cb_buf_put(st->out, st->ind.ptr, st->ind.len);
}

static void put_text(rstate *st, const cb_tmpl *t, const node *n)
{
	const char *p = t->src + n->off, *end = p + n->len, *nl;

	if (!(n->flags & F_LINES) || st->ind.len == 0) {
		cb_buf_put(st->out, p, n->len);
		return;
	}
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL && nl + 1 < end) {
		cb_buf_put(st->out, p, (size_t)(nl + 1 - p));
		cb_buf_put(st->out, st->ind.ptr, st->ind.len);
		p = nl + 1;
	}
	cb_buf_put(st->out, p, (size_t)(end - p));
}

/* Resolve the name of node n in context stack c. Each frame that does not
 * hold the name counts as a step: a name looked up under many nested
 * sections costs as many searches, and the budget bounds the time, not only
 * the nodes visited. */
static const cb_value *lookup(rstate *st, const cb_tmpl *t, const node *n, const ctx *c)
{
	const span *pt;
	const cb_value *v = NULL;
	uint32_t k;

	if (n->nparts == 0)
		return c->v;
	pt = &t->parts[n->part];
	for (; c; c = c->up, st->steps++)
		if (cb_value_type(c->v) == CB_MAP &&
		    (v = cb_value_get(c->v, t->src + pt[0].off, pt[0].len)) != NULL)
			break;
	for (k = 1; v && k < n->nparts; k++)
		v = cb_value_get(v, t->src + pt[k].off, pt[k].len);
	return v;
}

static int truthy(const cb_value *v)
{
	size_t len = 0;

	switch (cb_value_type(v)) {
	case CB_NULL:
		return 0;
	case CB_BOOL:
		return cb_value_bool(v);
	case CB_STRING:
		cb_value_str(v, &len);
		return len > 0;
	case CB_LIST:
		return cb_value_len(v) > 0;
	default:
		return 1;
	}
}

static void interpolate(rstate *st, const cb_value *v, int escape)
{
	const char *s;
	size_t len;

	switch (cb_value_type(v)) {
	case CB_NULL:
	case CB_LIST:
	case CB_MAP:
		return;
	case CB_STRING:
		s = cb_value_str(v, &len);
		if (escape)
			cb_buf_put_html(st->out, s, len);
		else
			cb_buf_put(st->out, s, len);
		return;
	default:
		if (!escape) {
			cb_value_text(v, st->out);
			return;
		}
		cb_buf_clear(&st->scratch);
		cb_value_text(v, &st->scratch);
		cb_buf_put_html(st->out, st->scratch.ptr, st->scratch.len);
		return;
	}
}

static int render_range(rstate *st, const cb_tmpl *t, size_t from, size_t to, const ctx *c,
                        const parent *pa);

static int enter(rstate *st, const cb_tmpl *t, const node *n)
{
	if (st->depth >= CB_TMPL_MAX_DEPTH)
		return cb_diag_error(st->diags, "template", t->path, n->line, n->col,
		                     "templates nested deeper than %d at '%.*s' (does it include "
		                     "itself?)",
		                     CB_TMPL_MAX_DEPTH, (int)n->len, t->src + n->off);
	st->depth++;
	return 0;
}

/* Render partial or parent n of t. */
static int include(rstate *st, const cb_tmpl *t, const node *n, const ctx *c, const parent *pa)
{
	const entry *e = n->target;
	size_t mark = st->ind.len;
	int rc;

	if (!e->tmpl) {
		if (e->state == E_MISSING)
			return 0;
		return cb_diag_error(st->diags, "template", t->path, n->line, n->col,
		                     "template '%s' is not compiled (cb_tmpl_set_get compiles it)",
		                     e->name);
	}
	if ((rc = enter(st, t, n)) < 0)
		return rc;
	cb_buf_put(&st->ind, t->src + n->ind, n->indlen);
	rc = render_range(st, e->tmpl, 0, e->tmpl->n, c, pa);
	cb_buf_truncate(&st->ind, mark);
	st->depth--;
	return rc;
}

/* The block argument named like site n among parent pa's direct children,
 * or -1. */
static long find_arg(const parent *pa, const char *name, size_t len)
{
	const node *nodes = pa->t->nodes;
	size_t i = pa->node + 1, end = nodes[pa->node].end;

	while (i < end) {
		const node *a = &nodes[i];

		if (a->type == N_BLOCK && a->len == len && memcmp(pa->t->src + a->off, name, len) == 0)
			return (long)i;
		i = has_body(a) ? a->end : i + 1;
	}
	return -1;
}

/* Render block site n of t: the outermost argument for it, or its default. */
static int block(rstate *st, const cb_tmpl *t, size_t i, const ctx *c, const parent *pa)
{
	const node *n = &t->nodes[i];
	const parent *f, *found = NULL;
	size_t mark = st->ind.len;
	long at = -1;
	int rc;

	for (f = pa; f; f = f->up) {
		long k = find_arg(f, t->src + n->off, n->len);

		if (k >= 0) {
			found = f;
			at = k;
		}
	}
	cb_buf_put(&st->ind, t->src + n->ind, n->indlen);
	if (found) {
		if ((rc = enter(st, t, n)) == 0) {
			rc = render_range(st, found->t, (size_t)at + 1, found->t->nodes[at].end, c, pa);
			st->depth--;
		}
	} else {
		rc = render_range(st, t, i + 1, n->end, c, pa);
	}
	cb_buf_truncate(&st->ind, mark);
	return rc;
}

static int render_range(rstate *st, const cb_tmpl *t, size_t from, size_t to, const ctx *c,
                        const parent *pa)
{
	size_t i = from, k, len;
	int rc = 0;

	while (i < to && rc == 0) {
		const node *n = &t->nodes[i];
		const cb_value *v;

		if ((rc = over_budget(st, t, n)) < 0)
			break;
		if (n->flags & F_LEAD)
			put_indent(st);
		switch (n->type) {
		case N_TEXT:
			put_text(st, t, n);
			i++;
			break;
		case N_INDENT:
			put_indent(st);
			i++;
			break;
		case N_VAR:
		case N_RAW:
			interpolate(st, lookup(st, t, n, c), n->type == N_VAR);
			i++;
			break;
		case N_SECTION:
			v = lookup(st, t, n, c);
			if (cb_value_type(v) == CB_LIST) {
				len = cb_value_len(v);
				for (k = 0; k < len && rc == 0; k++) {
					ctx item = {cb_value_at(v, k), c};

					rc = render_range(st, t, i + 1, n->end, &item, pa);
				}
			} else if (truthy(v)) {
				ctx item = {v, c};

				rc = render_range(st, t, i + 1, n->end, &item, pa);
			}
			i = n->end;
			break;
		case N_INVERTED:
			if (!truthy(lookup(st, t, n, c)))
				rc = render_range(st, t, i + 1, n->end, c, pa);
			i = n->end;
			break;
		case N_PARTIAL:
			rc = include(st, t, n, c, pa);
			i++;
			break;
		case N_PARENT: {
			parent f = {t, (uint32_t)i, pa};

			rc = include(st, t, n, c, &f);
			i = n->end;
			break;
		}
		case N_BLOCK:
			rc = block(st, t, i, c, pa);
			i = n->end;
			break;
		}
	}
	return rc;
}

int cb_tmpl_render(const cb_tmpl *t, const cb_tmpl_set *set, const cb_value *ctxv, cb_buf *out,
                   cb_diag_list *diags)
{
	rstate st;
	ctx root = {ctxv, NULL};
	int rc;

	assert(t && set && out);
	memset(&st, 0, sizeof st);
	st.max_steps = set->max_steps; /* nodes point at the set's entries directly */
	st.max_output = set->max_output;
	st.out = out;
	st.start = out->len;
	st.ind = (cb_buf)CB_BUF_INIT;
	st.scratch = (cb_buf)CB_BUF_INIT;
	st.diags = diags;
	rc = render_range(&st, t, 0, t->n, &root, NULL);
	if (rc < 0)
		cb_buf_truncate(out, st.start);
	cb_buf_dispose(&st.ind);
	cb_buf_dispose(&st.scratch);
	return rc;
}
