/*
 * cb_serve: the editors' preview (`casebook serve`).
 *
 * Builds the handbook with cb_build into a private folder (a new temporary
 * folder, removed on exit; SOURCE/site is never touched), serves it over
 * HTTP with libmicrohttpd (this is the only includer of microhttpd.h),
 * watches the source with cb_watch and rebuilds after a change, once the
 * source has been quiet for `debounce_ms`.
 *
 * HTML responses get one script tag before </body>: the script polls
 * /__casebook/status, reloads the page when a newer build is served and
 * shows the errors of a failed build in an overlay. The files of the built
 * site never contain it. A failed rebuild leaves the last good site
 * served; when no build has succeeded yet, pages answer 503 with the errors.
 *
 * Only files inside the served folder are served: request paths with ".."
 * or "." segments (also percent-encoded), encoded '/', '\' or NUL, empty
 * segments ("//etc/passwd"), or that lead out of the folder through a
 * symbolic link get 404. A folder's URL serves its index.html (a folder
 * named without its final '/' is redirected there, so relative links work).
 * When listening on a loopback address, requests whose Host header is not
 * localhost or an IP address get 403, so a web page cannot read the preview
 * through a DNS name of its own that points at 127.0.0.1 (DNS rebinding).
 *
 * Nothing here prints: the caller's report callback hears what happens.
 */
#ifndef CB_SERVE_H
#define CB_SERVE_H

#include <signal.h>
#include <stddef.h>

#include "cb_buf.h"
#include "cb_build.h"
#include "cb_diag.h"

typedef enum cb_serve_event_kind {
	CB_SERVE_READY,   /* serving: url, folder */
	CB_SERVE_CHANGED, /* the source changed; a rebuild starts: changed, changes */
	CB_SERVE_BUILT,   /* a build finished: ok, first, result, diags */
	CB_SERVE_WARNING, /* something to tell that stops nothing: message */
} cb_serve_event_kind;

/* What the report callback is told. Everything is borrowed for the call. */
typedef struct cb_serve_event {
	cb_serve_event_kind kind;
	const char *url;      /* READY: "http://127.0.0.1:8000/" */
	const char *folder;   /* READY: the private folder the site is built in */
	const char *changed;  /* CHANGED: first changed path, relative to its root */
	size_t changes;       /* CHANGED: number of paths changed */
	int ok;               /* BUILT: the build succeeded and is served now */
	int first;            /* BUILT: the initial build */
	int have_site;        /* BUILT: some build has succeeded (a site is served) */
	const cb_build_result *result; /* BUILT */
	cb_diag_list *diags;  /* BUILT: everything the build reported */
	const char *message;  /* WARNING */
} cb_serve_event;

typedef struct cb_serve_opts {
	/* source_dir, share_dir and threads are used; serve sets the rest. */
	cb_build_opts build;
	const char *bind;     /* numeric address or host name; "127.0.0.1" by default */
	unsigned port;        /* 0 = any free port (the URL says which) */
	unsigned debounce_ms; /* quiet time after a change before rebuilding */
	int progress;         /* show the initial build's progress line */
	volatile sig_atomic_t *stop; /* set by a signal handler to stop; required */
	void (*report)(void *ctx, const cb_serve_event *ev); /* may be NULL */
	void *report_ctx;
} cb_serve_opts;

#define CB_SERVE_OPTS_INIT { CB_BUILD_OPTS_INIT, "127.0.0.1", 8000, 150, 0, NULL, NULL, NULL }

/* Build, serve and rebuild until *opts->stop is set, then stop the server
 * and remove the private folder. Returns 0 after a clean stop, or -1 after
 * reporting to diags why serving could not start (the address is in use or
 * invalid, the source has no casebook.yml, no temporary folder, inotify
 * unavailable); nothing is left behind either way. */
int cb_serve_run(const cb_serve_opts *opts, cb_diag_list *diags);

/* ---- the pieces, exposed for tests -------------------------------------- */

/* Turn the path of a request as sent (percent-encoded, query removed) into
 * a site path: 0 and *out (caller frees), relative, "" for the root and
 * ending in '/' for a folder URL; or -1 with *out NULL when the path is
 * refused (see the top of this file). Decodes %XX once. */
int cb_serve_site_path(const char *raw, char **out);

/* Resolution of a site path inside the served folder. */
typedef enum cb_serve_kind {
	CB_SERVE_NOTFOUND = -1, /* missing, not a regular file, or outside the folder */
	CB_SERVE_FILE = 0,      /* *file is the file to send */
	CB_SERVE_FOLDER = 1,    /* a folder named without its '/': redirect to add it */
} cb_serve_kind;

/* Resolve site path `path` (from cb_serve_site_path) in folder `root`, a
 * real path (no symbolic links in it). A path that is "" or ends in '/'
 * means that folder's index.html. Symbolic links are followed only when
 * they stay inside root. On CB_SERVE_FILE, *file is the file's real path
 * (caller frees); otherwise *file is NULL. */
cb_serve_kind cb_serve_resolve(const char *root, const char *path, char **file);

/* The Content-Type for a file name, by its extension (case-insensitive);
 * text types name UTF-8. Unknown extensions get "application/octet-stream".
 * Returns a static string; never NULL. */
const char *cb_serve_mime_type(const char *name);

/* 1 if a request with this Host header (NULL when there was none) may be
 * answered on a loopback address: "localhost", "*.localhost", an IPv4
 * address or a bracketed IPv6 address, with or without a port. */
int cb_serve_host_allowed(const char *host);

/* Append html (len bytes) to out with `tag` inserted before its last
 * </body> (any case), or at the end when there is none. */
void cb_serve_inject(cb_buf *out, const char *html, size_t len, const char *tag);

#endif
