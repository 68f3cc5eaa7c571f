/*
 * cb_serve: the editors' preview server (see cb_serve.h).
 *
 * Threads: the caller's thread builds and watches; libmicrohttpd answers
 * requests on its own threads. They share `server` under its lock: the
 * number of good builds, whether the last one failed and its problems. The
 * served folder is replaced by cb_output's atomic swap, so a request sees
 * either the old site or the new one.
 */
#include "cb_serve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "cb_fs.h"
#include "cb_mem.h"
#include "cb_text.h"
#include "cb_watch.h"

/* Paths of the preview's own endpoints; no site file is served under it. */
#define OWN_PREFIX "/__casebook/"
#define MAX_URL 4096

/* ==== request paths ===================================================== */

/* Bytes a path may not hold, literally or percent-encoded. */
static int bad_byte(unsigned char c)
{
	return c < 0x20 || c == 0x7f || c == '\\';
}

int cb_serve_site_path(const char *raw, char **out)
{
	size_t n = strlen(raw), i, len;
	char *s = NULL, *seg;
	int rc = -1;

	*out = NULL;
	if (n == 0 || raw[0] != '/' || n > MAX_URL)
		goto out;
	/* Encoded '/', '\' and control bytes would change what the segments
	 * are after decoding: refuse them before. */
	for (i = 0; i < n; i++) {
		if (bad_byte((unsigned char)raw[i]))
			goto out;
		if (raw[i] == '%' && i + 2 < n && cb_text_hexval(raw[i + 1]) >= 0 &&
		    cb_text_hexval(raw[i + 2]) >= 0) {
			unsigned char c = (unsigned char)(cb_text_hexval(raw[i + 1]) * 16 + cb_text_hexval(raw[i + 2]));
			if (c == '/' || bad_byte(c))
				goto out;
		}
	}
	s = cb_xstrdup(raw + 1);
	len = MHD_http_unescape(s);
	if (len != strlen(s))
		goto out;
	for (i = 0; i < len; i++)
		if (bad_byte((unsigned char)s[i]))
			goto out;
	/* Every segment but the last must be a real name: no "", ".", "..". */
	for (seg = s;;) {
		char *slash = strchr(seg, '/');
		size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);

		if ((sl == 0 && slash) || (sl == 1 && seg[0] == '.') ||
		    (sl == 2 && seg[0] == '.' && seg[1] == '.'))
			goto out;
		if (!slash)
			break;
		seg = slash + 1;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	free(s);
	return rc;
}

cb_serve_kind cb_serve_resolve(const char *root, const char *path, char **file)
{
	size_t pl = strlen(path), rl = strlen(root);
	int folder_url = pl == 0 || path[pl - 1] == '/';
	char *full = cb_xasprintf("%s/%s%s", root, path, folder_url ? "index.html" : "");
	char real[PATH_MAX];
	struct stat st;
	cb_serve_kind kind = CB_SERVE_NOTFOUND;

	*file = NULL;
	if (!realpath(full, real) || strncmp(real, root, rl) != 0 || real[rl] != '/' ||
	    stat(real, &st) < 0)
		goto out;
	if (S_ISDIR(st.st_mode)) {
		if (!folder_url)
			kind = CB_SERVE_FOLDER;
	} else if (S_ISREG(st.st_mode)) {
		*file = cb_xstrdup(real);
		kind = CB_SERVE_FILE;
	}
out:
	free(full);
	return kind;
}

/* ==== content types ===================================================== */

static const struct {
	const char *ext;
	const char *type;
} mime_types[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"webmanifest", "application/manifest+json"},
    {"xml", "application/xml"},
    {"rss", "application/rss+xml"},
    {"atom", "application/atom+xml"},
    {"txt", "text/plain; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"pdf", "application/pdf"},
    {"woff2", "font/woff2"},
    {"woff", "font/woff"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"zip", "application/zip"},
};

const char *cb_serve_mime_type(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *dot = strrchr(slash ? slash + 1 : name, '.');
	size_t i;

	if (dot && dot[1])
		for (i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
			if (strcasecmp(dot + 1, mime_types[i].ext) == 0)
				return mime_types[i].type;
	return "application/octet-stream";
}

static int is_html(const char *type)
{
	return strncmp(type, "text/html", 9) == 0;
}

/* ==== hosts ============================================================= */

int cb_serve_host_allowed(const char *host)
{
	char name[256];
	const char *end;
	size_t n;
	struct in_addr a4;

	if (!host || !*host)
		return 1; /* HTTP/1.0 without Host: not a browser */
	if (host[0] == '[') {
		struct in6_addr a6;
		end = strchr(host, ']');
		if (!end || (end[1] != '\0' && end[1] != ':'))
			return 0;
		n = (size_t)(end - host - 1);
		if (n >= sizeof name)
			return 0;
		memcpy(name, host + 1, n);
		name[n] = '\0';
		return inet_pton(AF_INET6, name, &a6) == 1;
	}
	end = strchr(host, ':');
	n = end ? (size_t)(end - host) : strlen(host);
	if (n == 0 || n >= sizeof name)
		return 0;
	memcpy(name, host, n);
	name[n] = '\0';
	if (n > 1 && name[n - 1] == '.')
		name[--n] = '\0';
	if (inet_pton(AF_INET, name, &a4) == 1 || strcasecmp(name, "localhost") == 0)
		return 1;
	return n > 10 && strcasecmp(name + n - 10, ".localhost") == 0;
}

/* ==== the reload script ================================================= */

void cb_serve_inject(cb_buf *out, const char *html, size_t len, const char *tag)
{
	size_t at = len, i;

	for (i = len; i-- > 0;) {
		if (html[i] == '<' && len - i >= 6 && strncasecmp(html + i, "</body", 6) == 0 &&
		    (len - i == 6 || html[i + 6] == '>' || html[i + 6] == ' ' ||
		     html[i + 6] == '\t' || html[i + 6] == '\n' || html[i + 6] == '\r')) {
			at = i;
			break;
		}
	}
	cb_buf_put(out, html, at);
	cb_buf_puts(out, tag);
	cb_buf_put(out, html + at, len - at);
}

/* Served at /__casebook/reload.js. Polls the status endpoint; reloads when
 * a newer build is served (its tag carries the build the page came from);
 * shows a failed build's problems in an overlay (in a shadow root, so the
 * theme's styles cannot reach it). Pieces stay under C's 4095-byte limit. */
static const char *const reload_js[] = {
    "(function () {\n"
    "  \"use strict\";\n"
    "  var me = document.currentScript;\n"
    "  var seen = me ? me.getAttribute(\"data-casebook\") : \"\";\n"
    "  var host = null, root = null, showing = -1, dismissed = -1, delay = 500;\n"
    "  function hide() {\n"
    "    if (host) host.remove();\n"
    "    host = root = null;\n"
    "    showing = -1;\n"
    "  }\n"
    "  function dismiss() {\n"
    "    dismissed = showing;\n"
    "    hide();\n"
    "  }\n"
    "  document.addEventListener(\"keydown\", function (e) {\n"
    "    if (host && e.key === \"Escape\") dismiss();\n"
    "  });\n"
    "  function show(st) {\n"
    "    if (st.attempt === dismissed || st.attempt === showing) return;\n"
    "    if (!host) {\n"
    "      host = document.createElement(\"div\");\n"
    "      host.id = \"casebook-overlay\";\n"
    "      root = host.attachShadow({ mode: \"open\" });\n"
    "      root.innerHTML = CSS + HTML;\n"
    "      root.querySelector(\"button\").addEventListener(\"click\", dismiss);\n"
    "      document.documentElement.appendChild(host);\n"
    "    }\n"
    "    showing = st.attempt;\n"
    "    root.querySelector(\".s\").textContent = st.summary + \". \" + (st.version > 0\n"
    "      ? \"This page is the last good build; it reloads by itself once the build succeeds.\"\n"
    "      : \"No build has succeeded yet; this page reloads by itself once one does.\");\n"
    "    var list = root.querySelector(\"ol\");\n"
    "    list.textContent = \"\";\n"
    "    st.problems.forEach(function (p) {\n"
    "      var li = document.createElement(\"li\");\n"
    "      li.textContent = p.text;\n"
    "      if (p.hint) {\n"
    "        var h = document.createElement(\"span\");\n"
    "        h.className = \"h\";\n"
    "        h.textContent = \"hint: \" + p.hint;\n"
    "        li.appendChild(h);\n"
    "      }\n"
    "      list.appendChild(li);\n"
    "    });\n"
    "  }\n"
    "  function tick() {\n"
    "    fetch(\"/__casebook/status\", { cache: \"no-store\" })\n"
    "      .then(function (r) { return r.json(); })\n"
    "      .then(function (st) {\n"
    "        delay = 500;\n"
    "        if (st.version > 0 && st.server + \":\" + st.version !== seen) {\n"
    "          location.reload();\n"
    "          return;\n"
    "        }\n"
    "        if (st.failed) show(st); else hide();\n"
    "        setTimeout(tick, delay);\n"
    "      }, function () {\n"
    "        delay = Math.min(delay * 2, 4000);\n"
    "        setTimeout(tick, delay);\n"
    "      });\n"
    "  }\n",
    "  var CSS = \"<style>:host{all:initial}\" +\n"
    "    \".o{position:fixed;inset:0;z-index:2147483647;overflow:auto;display:flex;\" +\n"
    "    \"align-items:flex-start;justify-content:center;padding:6vh 1rem;\" +\n"
    "    \"background:rgba(20,20,20,.55);font:15px/1.45 system-ui,sans-serif}\" +\n"
    "    \".b{box-sizing:border-box;width:100%;max-width:60rem;background:#fff;color:#1a1a1a;\" +\n"
    "    \"border-top:6px solid #b3261e;border-radius:6px;padding:1.25rem 1.5rem;\" +\n"
    "    \"box-shadow:0 8px 32px rgba(0,0,0,.35)}\" +\n"
    "    \"h2{margin:0 0 .25rem;font-size:1.2rem;color:#b3261e}p{margin:.25rem 0 1rem}\" +\n"
    "    \"ol{margin:0;padding:0;list-style:none}\" +\n"
    "    \"li{font:13px/1.5 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;\" +\n"
    "    \"overflow-wrap:anywhere;padding:.5rem 0;border-top:1px solid #ddd}\" +\n"
    "    \".h{display:block;padding-left:2em;color:#555}\" +\n"
    "    \"button{font:inherit;margin-top:1rem;padding:.35rem .9rem;cursor:pointer}</style>\";\n"
    "  var HTML = \"<div class=o><div class=b role=dialog aria-labelledby=t>\" +\n"
    "    \"<h2 id=t>casebook: the build failed</h2><p class=s role=alert></p><ol></ol>\" +\n"
    "    \"<button type=button>Hide</button></div></div>\";\n"
    "  tick();\n"
    "})();\n",
    NULL,
};

/* ==== the server ======================================================== */

typedef struct server {
	pthread_mutex_t lock;
	char *root;        /* real path of the served folder */
	char *id;          /* this run's id: pages from an older run reload */
	char *js;          /* the reload script */
	int loopback;      /* listening on loopback only: check Host */
	unsigned version;  /* good builds so far; 0 = nothing to serve yet */
	unsigned attempt;  /* builds finished so far */
	int failed;        /* the last build failed */
	char *problems;    /* JSON array of the last failed build's problems */
	char *summary;     /* "2 errors" */
} server;

static enum MHD_Result send_response(struct MHD_Connection *c, unsigned status,
                                     struct MHD_Response *r, const char *type)
{
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Send the bytes of b (taken over; b is left empty). */
static enum MHD_Result send_buf(struct MHD_Connection *c, unsigned status, const char *type,
                                cb_buf *b)
{
	size_t len = b->len;
	char *data = cb_buf_detach(b);
	struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);

	if (!r)
		free(data);
	return send_response(c, status, r, type);
}

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, const char *text)
{
	cb_buf b = CB_BUF_INIT;

	cb_buf_puts(&b, text);
	return send_buf(c, status, "text/plain; charset=utf-8", &b);
}

/* The tag added to HTML pages; `version` is the build the page belongs to. */
static void script_tag(cb_buf *out, const server *s, unsigned version)
{
	cb_buf_printf(out,
	              "<script src=\"" OWN_PREFIX "reload.js\" data-casebook=\"%s:%u\"></script>",
	              s->id, version);
}

/* An HTML page of the preview's own (404, nothing built yet), with the
 * script, so it reloads when a build changes things. */
static enum MHD_Result send_page(struct MHD_Connection *c, server *s, unsigned status,
                                 unsigned version, const char *title, const char *text,
                                 const char *path)
{
	cb_buf page = CB_BUF_INIT, out = CB_BUF_INIT;

	cb_buf_puts(&page, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	                   "<title>");
	cb_buf_puts(&page, title);
	cb_buf_puts(&page, "</title></head>\n<body style=\"font:16px/1.5 system-ui,sans-serif;"
	                   "max-width:40rem;margin:4rem auto;padding:0 1rem\"><h1>");
	cb_buf_puts(&page, title);
	cb_buf_puts(&page, "</h1><p>");
	cb_buf_puts(&page, text);
	if (path) {
		cb_buf_puts(&page, " <code>");
		cb_buf_put_html(&page, path, strlen(path));
		cb_buf_puts(&page, "</code>");
	}
	cb_buf_puts(&page, "</p><p><a href=\"/\">Home page</a></p></body></html>\n");
	script_tag(&out, s, version);
	{
		char *tag = cb_buf_detach(&out);
		cb_serve_inject(&out, page.ptr, page.len, tag);
		free(tag);
	}
	cb_buf_dispose(&page);
	return send_buf(c, status, "text/html; charset=utf-8", &out);
}

static enum MHD_Result send_status(struct MHD_Connection *c, server *s)
{
	cb_buf b = CB_BUF_INIT;

	pthread_mutex_lock(&s->lock);
	cb_buf_printf(&b, "{\"server\":\"%s\",\"version\":%u,\"attempt\":%u,\"failed\":%s,"
	                  "\"summary\":\"",
	              s->id, s->version, s->attempt, s->failed ? "true" : "false");
	if (s->summary)
		cb_buf_put_json(&b, s->summary, strlen(s->summary));
	cb_buf_printf(&b, "\",\"problems\":%s}\n", s->problems ? s->problems : "[]");
	pthread_mutex_unlock(&s->lock);
	return send_buf(c, MHD_HTTP_OK, "application/json", &b);
}

static enum MHD_Result send_file(struct MHD_Connection *c, server *s, const char *file,
                                 unsigned version)
{
	const char *type = cb_serve_mime_type(file);
	struct MHD_Response *r;
	struct stat st;
	int fd;

	if (is_html(type)) {
		cb_buf tag = CB_BUF_INIT, out = CB_BUF_INIT;
		char *data = NULL;
		size_t len;

		if (cb_fs_read(file, 0, &data, &len) < 0)
			return send_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the file\n");
		script_tag(&tag, s, version);
		cb_serve_inject(&out, data, len, tag.ptr);
		cb_buf_dispose(&tag);
		free(data);
		return send_buf(c, MHD_HTTP_OK, type, &out);
	}
	fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
	}
	r = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (!r)
		close(fd);
	return send_response(c, MHD_HTTP_OK, r, type);
}

static enum MHD_Result send_redirect(struct MHD_Connection *c, const char *url)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	char *to = cb_xasprintf("%s/", url);

	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, to);
	free(to);
	return send_response(c, MHD_HTTP_FOUND, r, "text/plain; charset=utf-8");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
	server *s = cls;
	char *path = NULL, *file = NULL;
	unsigned built;
	int failed;
	enum MHD_Result ret;

	(void)version;
	(void)upload_data;
	/* The first call comes with the headers: wait for the request's end
	 * (answering earlier makes libmicrohttpd close the connection). */
	if (!*con_cls) {
		*con_cls = s;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a body is not wanted: drop it */
		return MHD_YES;
	}
	/* DNS rebinding: a web page must not read the preview through a name of
	 * its own that resolves to 127.0.0.1. */
	if (s->loopback &&
	    !cb_serve_host_allowed(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST)))
		return send_text(c, MHD_HTTP_FORBIDDEN,
		                 "casebook serve answers only to localhost and IP addresses\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
		    19, (void *)"method not allowed\n", MHD_RESPMEM_PERSISTENT);
		if (r)
			MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
		return send_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, r, "text/plain; charset=utf-8");
	}
	if (strcmp(url, OWN_PREFIX "status") == 0)
		return send_status(c, s);
	if (strcmp(url, OWN_PREFIX "reload.js") == 0) {
		cb_buf b = CB_BUF_INIT;
		cb_buf_puts(&b, s->js);
		return send_buf(c, MHD_HTTP_OK, "text/javascript; charset=utf-8", &b);
	}
	if (strncmp(url, OWN_PREFIX, sizeof OWN_PREFIX - 1) == 0)
		return send_text(c, MHD_HTTP_NOT_FOUND, "not found\n");

	/* The version is read before the file, so a page is never older than
	 * the build its tag names (at worst it reloads once more). */
	pthread_mutex_lock(&s->lock);
	built = s->version;
	failed = s->failed;
	pthread_mutex_unlock(&s->lock);
	if (built == 0)
		return send_page(c, s, MHD_HTTP_SERVICE_UNAVAILABLE, 0,
		                 failed ? "The build failed" : "Building the handbook",
		                 failed ? "Nothing to show until the errors are fixed; this page "
		                          "reloads by itself when a build succeeds."
		                        : "This page reloads by itself when the first build is done.",
		                 NULL);

	if (cb_serve_site_path(url, &path) < 0)
		return send_page(c, s, MHD_HTTP_NOT_FOUND, built, "Not found", "No such page:", url);
	switch (cb_serve_resolve(s->root, path, &file)) {
	case CB_SERVE_FILE: ret = send_file(c, s, file, built); break;
	case CB_SERVE_FOLDER: ret = send_redirect(c, url); break;
	default: ret = send_page(c, s, MHD_HTTP_NOT_FOUND, built, "Not found", "No such page:", url);
	}
	free(file);
	free(path);
	return ret;
}

/* Keep the request path as sent: cb_serve_site_path decodes it itself,
 * after refusing what must not be decoded (%2f). */
static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

/* ==== listening ========================================================= */

/* Bind and listen on addr:port. Returns the socket and the URL (*url, caller
 * frees), or -1 after reporting. */
static int listen_on(const char *addr, unsigned port, int *v6, int *loopback, char **url,
                     cb_diag_list *diags)
{
	struct addrinfo hints, *ai = NULL;
	struct sockaddr_storage sa;
	socklen_t sl = sizeof sa;
	char portstr[16], host[NI_MAXHOST], serv[NI_MAXSERV];
	int fd = -1, one = 1, r;

	memset(&hints, 0, sizeof hints);
	memset(&sa, 0, sizeof sa);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof portstr, "%u", port);
	if ((r = getaddrinfo(addr, portstr, &hints, &ai)) != 0) {
		cb_diag_error(diags, "serve-address", NULL, 0, 0, "cannot listen on '%s': %s", addr,
		              gai_strerror(r));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		cb_diag_error(diags, "serve-address", NULL, 0, 0, "cannot listen on %s: %s", addr,
		              strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		int e = errno;
		cb_diag_add(diags, CB_ERROR, "serve-address", NULL, 0, 0,
		            e == EADDRINUSE ? "choose another port with --port (0 picks a free one)"
		                            : NULL,
		            "cannot listen on %s port %u: %s", addr, port, strerror(e));
		goto fail;
	}
	if (listen(fd, 64) < 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) < 0 ||
	    getnameinfo((struct sockaddr *)&sa, sl, host, sizeof host, serv, sizeof serv,
	                NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		cb_diag_error(diags, "serve-address", NULL, 0, 0, "cannot listen on %s: %s", addr,
		              strerror(errno));
		goto fail;
	}
	*v6 = ai->ai_family == AF_INET6;
	if (*v6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)&sa)->sin6_addr;
		*loopback = IN6_IS_ADDR_LOOPBACK(a);
	} else {
		const struct in_addr *a = &((const struct sockaddr_in *)(const void *)&sa)->sin_addr;
		*loopback = (ntohl(a->s_addr) >> 24) == 127;
	}
	*url = *v6 ? cb_xasprintf("http://[%s]:%s/", host, serv)
	           : cb_xasprintf("http://%s:%s/", host, serv);
	freeaddrinfo(ai);
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

/* ==== building ========================================================== */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void report(const cb_serve_opts *o, const cb_serve_event *ev)
{
	if (o->report)
		o->report(o->report_ctx, ev);
}

/* The problems of a failed build as a JSON array, errors only. */
static char *problems_json(cb_diag_list *d)
{
	cb_buf b = CB_BUF_INIT, line = CB_BUF_INIT;
	size_t i;
	int any = 0;

	cb_buf_putc(&b, '[');
	for (i = 0; i < cb_diag_count(d); i++) {
		const cb_diag *x = cb_diag_at(d, i);
		if (x->severity != CB_ERROR)
			continue;
		cb_buf_clear(&line);
		cb_diag_format_text(x, &line);
		cb_buf_puts(&b, any ? ",{\"text\":\"" : "{\"text\":\"");
		cb_buf_put_json(&b, line.ptr, line.len);
		cb_buf_puts(&b, "\",\"hint\":");
		if (x->hint) {
			cb_buf_putc(&b, '"');
			cb_buf_put_json(&b, x->hint, strlen(x->hint));
			cb_buf_putc(&b, '"');
		} else {
			cb_buf_puts(&b, "null");
		}
		cb_buf_putc(&b, '}');
		any = 1;
	}
	cb_buf_putc(&b, ']');
	cb_buf_dispose(&line);
	return cb_buf_detach(&b);
}

/* Build once into out_dir and publish the outcome. Returns 0, -1 for a
 * failed build, or -2 when the first build failed for the environment's
 * sake (its diagnostics are then merged into diags). */
static int build(server *s, const cb_serve_opts *o, const char *out_dir, int first,
                 cb_diag_list *diags)
{
	cb_build_opts bo = o->build;
	cb_build_result res;
	cb_diag_list *d = cb_diag_list_new();
	cb_serve_event ev;
	int rc;

	bo.out_dir = out_dir;
	bo.check_only = 0;
	bo.latest_only = 1; /* a preview of the working tree: editions are for `build` */
	bo.no_cache = 1;    /* a private folder each time: the cache is for `build` */
	bo.stop = o->stop;
	bo.progress = first && o->progress;
	rc = cb_build_run(&bo, d, &res);
	if (*o->stop) {
		cb_diag_list_free(d);
		return 0; /* interrupted: nothing to tell */
	}
	if (rc < 0 && first && res.env_error) {
		cb_diag_list_merge(diags, d);
		cb_diag_list_free(d);
		return -2;
	}
	pthread_mutex_lock(&s->lock);
	s->attempt++;
	free(s->problems);
	free(s->summary);
	s->problems = s->summary = NULL;
	if (rc == 0) {
		s->version++;
		s->failed = 0;
	} else {
		size_t e = cb_diag_errors(d);
		s->failed = 1;
		s->problems = problems_json(d);
		s->summary = cb_xasprintf("%zu error%s", e, e == 1 ? "" : "s");
	}
	pthread_mutex_unlock(&s->lock);

	memset(&ev, 0, sizeof ev);
	ev.kind = CB_SERVE_BUILT;
	ev.ok = rc == 0;
	ev.first = first;
	ev.have_site = s->version > 0;
	ev.result = &res;
	ev.diags = d;
	report(o, &ev);
	cb_diag_list_free(d);
	return rc < 0 ? -1 : 0;
}

/* The folders a change to which means a rebuild. */
static const char *const source_names[] = {"casebook.yml", "content", "plugins", "themes", NULL};
static const char *const share_names[] = {"plugins", "themes", NULL};

static int watch_source(cb_watch **out, const cb_serve_opts *o, cb_diag_list *diags)
{
	char src[PATH_MAX], share[PATH_MAX];
	int rc;

	if ((rc = cb_watch_new(out)) < 0)
		return cb_diag_error(diags, "serve-watch", NULL, 0, 0,
		                     "cannot watch the source for changes: %s", strerror(-rc));
	if (!realpath(o->build.source_dir, src))
		return cb_diag_error(diags, "serve-watch", NULL, 0, 0, "cannot open %s: %s",
		                     o->build.source_dir, strerror(errno));
	if ((rc = cb_watch_add(*out, src, source_names)) < 0)
		goto fail;
	if (o->build.share_dir && realpath(o->build.share_dir, share) && strcmp(share, src) != 0 &&
	    (rc = cb_watch_add(*out, share, share_names)) < 0 && rc != -ENOENT)
		goto fail;
	return 0;
fail:
	return cb_diag_add(diags, CB_ERROR, "serve-watch", NULL, 0, 0,
	                   rc == -ENOSPC ? "raise the limit: sysctl fs.inotify.max_user_watches=524288"
	                                 : NULL,
	                   "cannot watch the source for changes: %s", strerror(-rc));
}

/* A private folder for the site: $TMPDIR/casebook-serve-XXXXXX (real path). */
static char *private_folder(cb_diag_list *diags)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl = cb_xasprintf("%s/casebook-serve-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	char real[PATH_MAX];

	if (!mkdtemp(tmpl)) {
		cb_diag_error(diags, "serve-folder", NULL, 0, 0, "cannot create a folder for the site "
		                                                 "(%s): %s",
		              tmpl, strerror(errno));
		free(tmpl);
		return NULL;
	}
	if (realpath(tmpl, real)) {
		free(tmpl);
		return cb_xstrdup(real);
	}
	return tmpl;
}

int cb_serve_run(const cb_serve_opts *o, cb_diag_list *diags)
{
	server s;
	struct MHD_Daemon *daemon = NULL;
	cb_watch *w = NULL;
	cb_buf js = CB_BUF_INIT;
	char *folder = NULL, *url = NULL;
	sigset_t block, old;
	double last = 0;
	int pending = 0;
	int fd = -1, v6 = 0, rc = -1, i;
	cb_serve_event ev;

	memset(&s, 0, sizeof s);
	pthread_mutex_init(&s.lock, NULL);
	s.id = cb_xasprintf("%lx%lx", (unsigned long)getpid(), (unsigned long)time(NULL));
	for (i = 0; reload_js[i]; i++)
		cb_buf_puts(&js, reload_js[i]);
	s.js = cb_buf_detach(&js);

	if ((fd = listen_on(o->bind ? o->bind : "127.0.0.1", o->port, &v6, &s.loopback, &url,
	                    diags)) < 0)
		goto out;
	if (!(folder = private_folder(diags)))
		goto out;
	s.root = cb_xasprintf("%s/site", folder);
	if (watch_source(&w, o, diags) < 0)
		goto out;
	if (build(&s, o, s.root, 1, diags) == -2 || *o->stop)
		goto done;

	/* MHD's threads must leave SIGINT, SIGTERM and SIGHUP to this one,
	 * whose poll() they interrupt. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ITC | (v6 ? MHD_USE_IPv6 : 0), 0, NULL,
	                          NULL, on_request, &s, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	                          MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
	                          MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_TIMEOUT,
	                          30u, MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!daemon) {
		cb_diag_error(diags, "serve-http", NULL, 0, 0, "cannot start the HTTP server on %s",
		              url);
		goto out;
	}
	fd = -1; /* the daemon owns it now */

	memset(&ev, 0, sizeof ev);
	ev.kind = CB_SERVE_READY;
	ev.url = url;
	ev.folder = folder;
	report(o, &ev);

	while (!*o->stop) {
		struct pollfd p = {cb_watch_fd(w), POLLIN, 0};
		int wait = 250, r;

		if (pending) {
			double left = last + o->debounce_ms - now_ms();
			wait = left <= 0 ? 0 : left < 250 ? (int)left + 1 : 250;
		}
		r = poll(&p, 1, wait);
		if (*o->stop)
			break;
		if (r > 0) {
			int n = cb_watch_read(w);
			if (n < 0) {
				char *msg = cb_xasprintf(
				    "cannot watch every folder (%s)%s; changes in new folders may be missed",
				    strerror(-n),
				    n == -ENOSPC ? ": raise fs.inotify.max_user_watches" : "");
				memset(&ev, 0, sizeof ev);
				ev.kind = CB_SERVE_WARNING;
				ev.message = msg;
				report(o, &ev);
				free(msg);
			}
			if (n != 0) {
				pending = 1;
				last = now_ms();
			}
		}
		if (pending && now_ms() - last >= o->debounce_ms) {
			pending = 0;
			if (cb_watch_changes(w) == 0) {
				cb_watch_clear(w); /* only temporary files came and went */
				continue;
			}
			memset(&ev, 0, sizeof ev);
			ev.kind = CB_SERVE_CHANGED;
			ev.changed = cb_watch_change(w, 0);
			ev.changes = cb_watch_changes(w);
			report(o, &ev);
			cb_watch_clear(w);
			build(&s, o, s.root, 0, diags);
		}
	}
done:
	rc = cb_diag_errors(diags) ? -1 : 0;
out:
	if (daemon)
		MHD_stop_daemon(daemon);
	if (fd >= 0)
		close(fd);
	cb_watch_free(w);
	if (folder)
		cb_fs_remove_tree(folder);
	free(folder);
	free(url);
	free(s.root);
	free(s.id);
	free(s.js);
	free(s.problems);
	free(s.summary);
	pthread_mutex_destroy(&s.lock);
	return rc;
}
