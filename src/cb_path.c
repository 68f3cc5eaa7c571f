/*
 * cb_path: string path arithmetic (see cb_path.h).
 */
#include "cb_path.h"

#include <string.h>

char *cb_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (!la)
		return cb_xstrdup(b);
	if (!lb)
		return cb_xstrdup(a);
	if (a[la - 1] == '/')
		la--;
	return cb_xasprintf("%.*s/%s", (int)la, a, b);
}

char *cb_path_normalize(const char *p, size_t len)
{
	cb_buf out = CB_BUF_INIT;
	size_t i = 0;

	if (len && p[0] == '/')
		return NULL;
	while (i < len) {
		size_t j = i;

		while (j < len && p[j] != '/')
			j++;
		if (j - i == 0 || (j - i == 1 && p[i] == '.')) {
			/* skip */
		} else if (j - i == 2 && p[i] == '.' && p[i + 1] == '.') {
			char *slash;

			if (out.len == 0) {
				cb_buf_dispose(&out);
				return NULL;
			}
			slash = strrchr(out.ptr, '/');
			cb_buf_truncate(&out, slash ? (size_t)(slash - out.ptr) : 0);
		} else {
			if (out.len)
				cb_buf_putc(&out, '/');
			cb_buf_put(&out, p + i, j - i);
		}
		i = j + 1;
	}
	return cb_buf_detach(&out);
}

char *cb_path_dirname(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash ? cb_xstrndup(p, (size_t)(slash - p)) : cb_xstrdup("");
}

const char *cb_path_basename(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash ? slash + 1 : p;
}

const char *cb_path_ext(const char *p)
{
	const char *base = cb_path_basename(p);
	const char *dot = strrchr(base, '.');

	return dot && dot != base ? dot : p + strlen(p);
}

void cb_path_root_prefix(cb_buf *out, const char *dir)
{
	if (!*dir)
		return;
	cb_buf_puts(out, "../");
	for (; *dir; dir++)
		if (*dir == '/')
			cb_buf_puts(out, "../");
}

void cb_path_relative(cb_buf *out, const char *from_dir, const char *to)
{
	size_t flen = strlen(from_dir), i = 0, common = 0;
	const char *rest;

	/* common = how much of `to` lies inside the folders shared with from_dir
	 * (whole folder names only, each followed by '/' in `to`). */
	while (i < flen) {
		size_t j = i;

		while (j < flen && from_dir[j] != '/')
			j++;
		if (strncmp(from_dir + i, to + i, j - i) != 0 || to[j] != '/')
			break;
		common = j + 1;
		i = j + 1;
	}
	/* Climb out of the folders of from_dir that are not shared. */
	rest = common >= flen ? "" : from_dir + common;
	if (*rest) {
		cb_buf_puts(out, "../");
		for (; *rest; rest++)
			if (*rest == '/')
				cb_buf_puts(out, "../");
	}
	cb_buf_puts(out, to + common);
}

int cb_path_is_slug(const char *s, size_t len)
{
	size_t i;

	if (!len)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

int cb_path_is_absolute_url(const char *url)
{
	const char *p = url;

	if (url[0] == '/' && url[1] == '/')
		return 1;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':';
}
