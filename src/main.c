/*
 * casebook: the command line.
 *
 *   casebook build [-s SOURCE] [-o OUT] [-q] [-v] [-j N] [--no-cache]
 *   casebook check [-s SOURCE] [--format text|github|json] [--strict] [-j N] [FILE...]
 *   casebook new [-s SOURCE] "Title" [--country X] [--sector Y] [--year N] [--slug S]
 *   casebook serve [-s SOURCE] [--port N] [--bind ADDR] [-j N] [-v]
 *   casebook help [COMMAND] | --help | --version
 *
 * Exit codes: 0 ok, 1 content errors, 2 usage or environment errors.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cb_build.h"
#include "cb_diag.h"
#include "cb_git.h"
#include "cb_md.h"
#include "cb_config.h"
#include "cb_mem.h"
#include "cb_new.h"
#include "cb_serve.h"

#ifndef CB_SHAREDIR
#define CB_SHAREDIR "/usr/local/share/casebook"
#endif

#define EXIT_CONTENT 1
#define EXIT_USAGE 2
#define EXIT_INTERRUPTED 130 /* 128 + SIGINT, as shells report it */

/* What a build leaves (cb_build_leftovers) is left to the system when the
 * command exits, except in sanitizer builds: they free it, so that
 * LeakSanitizer still checks who owns what. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FREE_AT_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FREE_AT_EXIT 1
#endif
#endif
#ifndef FREE_AT_EXIT
#define FREE_AT_EXIT 0
#endif

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

typedef struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help;
} command;

static int cmd_build(int argc, char **argv);
static int cmd_check(int argc, char **argv);
static int cmd_new(int argc, char **argv);
static int cmd_serve(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const command commands[] = {
    {"build", cmd_build, "casebook build [-s SOURCE] [-o OUT] [-q] [-v] [-j N] [--no-cache]",
     "Build the handbook in SOURCE (default: the current folder, which holds casebook.yml)\n"
     "into OUT (default: SOURCE/site). The new site replaces the old one only when the\n"
     "build succeeds; a failed build leaves the previous site as it was.\n"
     "In a git repository, every case gets its history, and each edition (casebook.yml\n"
     "`editions`, default: tags edition-*) is built from its commit into\n"
     "OUT/editions/NAME/ (docs/editions.md).\n"
     "When nothing changed since the last build (every input the same, by content, and\n"
     "OUT as that build left it), nothing is written: the cache that tells is in\n"
     "SOURCE/.casebook-cache/ (docs/architecture.md).\n"
     "\n"
     "  -s, --source SOURCE   the handbook folder\n"
     "  -o, --output OUT      the site folder\n"
     "  -q, --quiet           print only errors and warnings\n"
     "  -v, --verbose         also print notes\n"
     "  -j, --jobs N          use N threads (default: one per core; with 1, plugins\n"
     "                        run one after another)\n"
     "      --no-cache        build everything, neither reading nor writing the cache\n"},
    {"check", cmd_check,
     "casebook check [-s SOURCE] [--format text|github|json] [--strict] [-j N] [FILE...]",
     "Check the handbook without writing anything: front matter, schema, vocabularies,\n"
     "links and lessons, everything a build checks before rendering. Every problem is\n"
     "printed as path:line:col: error|warning: message, with a hint where one helps.\n"
     "Given FILEs, only their problems are printed (they are still checked against the\n"
     "whole handbook, so links resolve).\n"
     "\n"
     "  -s, --source SOURCE   the handbook folder\n"
     "  -f, --format FORMAT   text (default), github (workflow commands), json\n"
     "      --strict          fail on warnings too\n"
     "  -j, --jobs N          use N threads (default: one per core)\n"},
    {"new", cmd_new,
     "casebook new [-s SOURCE] \"Title\" [--country X] [--sector Y] [--year N] [--slug S]",
     "Start a new case: write content/cases/<slug>.md from the archetype, with every\n"
     "field and section explained in comments, and print its path. The slug is made\n"
     "from the title (\"Parents run school meals\" -> parents-run-school-meals). Every\n"
     "value still to write is marked TODO; `casebook check` reports each one left.\n"
     "An existing case is never overwritten.\n"
     "\n"
     "The archetype is SOURCE/archetypes/case.md, else the theme's\n"
     "(themes/THEME/archetypes/case.md), else the installed default.\n"
     "\n"
     "  -s, --source SOURCE   the handbook folder (default: the current folder)\n"
     "      --country X       the country in English; several: \"Belgium, Netherlands\"\n"
     "      --sector Y        a term of content/taxonomies/sector.yml (or several,\n"
     "                        separated by commas); a label works too\n"
     "      --year N          the year the initiative started\n"
     "      --slug S          the file name, if not the one made from the title\n"
     "\n"
     "Exit codes: 0 written, 1 the case exists, 2 a bad value or no handbook.\n"},
    {"serve", cmd_serve, "casebook serve [-s SOURCE] [--port N] [--bind ADDR] [-j N] [-v]",
     "Preview the handbook while editing it: build it, serve it at http://127.0.0.1:8000/\n"
     "and rebuild whenever a case, page, vocabulary, plugin, theme or casebook.yml\n"
     "changes. Open pages reload by themselves after a rebuild. When a rebuild fails,\n"
     "its errors are printed here and shown over the page in the browser, and the last\n"
     "good site stays served. The site is built in a temporary folder, removed on exit;\n"
     "SOURCE/site is not touched. Stop with Ctrl-C.\n"
     "\n"
     "  -s, --source SOURCE   the handbook folder\n"
     "  -p, --port N          the port (default 8000; 0 picks a free one)\n"
     "  -b, --bind ADDR       the address to listen on (default 127.0.0.1, this machine\n"
     "                        only; 0.0.0.0 or :: let other machines connect)\n"
     "  -j, --jobs N          use N threads (default: one per core; with 1, plugins\n"
     "                        run one after another)\n"
     "  -v, --verbose         also print notes\n"
     "\n"
     "See docs/serve.md.\n"},
    {"help", cmd_help, "casebook help [COMMAND]", "Show help for a command.\n"},
    {NULL, NULL, NULL, NULL},
};

/* -j's value into *threads: a whole number from 0 (one per core) to 1024.
 * Returns 0, or -1 after saying why (the caller exits with EXIT_USAGE). */
static int parse_jobs(const char *cmd, const char *arg, int *threads)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(arg, &end, 10);
	if (errno || !isdigit((unsigned char)arg[0]) || *end || n > 1024) {
		fprintf(stderr, "casebook %s: -j wants a number of threads from 0 (one per core) to "
		        "1024, not '%s'\n", cmd, arg);
		return -1;
	}
	*threads = (int)n;
	return 0;
}

/* A folder given to -s or -o into *dst: an empty one is a usage error.
 * Returns 0, or -1 after saying why (the caller exits with EXIT_USAGE). */
static int folder_arg(const char *cmd, char opt, const char *arg, const char **dst)
{
	if (!*arg) {
		fprintf(stderr, "casebook %s: -%c wants a folder, not an empty name\n", cmd, opt);
		return -1;
	}
	*dst = arg;
	return 0;
}

static const command *find_command(const char *name)
{
	const command *c;

	for (c = commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static void usage(FILE *out)
{
	const command *c;

	fputs("casebook: static site generator for handbooks of co-production case studies\n\n"
	      "usage:\n",
	      out);
	for (c = commands; c->name; c++)
		fprintf(out, "  %s\n", c->usage);
	fputs("  casebook --version\n\n"
	      "Run 'casebook help COMMAND' for a command's options.\n",
	      out);
}

/* The folder holding the default themes and plugins: the installed share
 * folder next to the binary, the source tree when run uninstalled, or the
 * compiled-in prefix. Caller frees. */
static char *find_share_dir(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	const char *rel[] = {"../share/casebook", ".", "../..", NULL};
	int i;

	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		for (i = 0; rel[i]; i++) {
			char *probe = cb_xasprintf("%s/%s/themes/default/templates", exe, rel[i]);
			char real[PATH_MAX];
			int ok = access(probe, R_OK) == 0;
			free(probe);
			if (ok) {
				char *dir = cb_xasprintf("%s/%s", exe, rel[i]);
				if (realpath(dir, real)) {
					free(dir);
					return cb_xstrdup(real);
				}
				return dir;
			}
		}
	}
	return cb_xstrdup(CB_SHAREDIR);
}

/* `what` is what check was given: a path, or "N files" (NULL: everything). */
static void summary(const cb_build_result *res, cb_diag_list *diags, int check, const char *what)
{
	size_t e = cb_diag_errors(diags), w = cb_diag_warnings(diags);

	if (res->interrupted)
		fprintf(stderr, "casebook: %s interrupted after %.2f s%s\n", check ? "check" : "build",
		        res->seconds, check ? ": not every case was checked"
		                            : "; the previous site is unchanged");
	else if (check && what)
		fprintf(stderr, "casebook: %s checked (in a handbook of %zu case%s), %zu error%s, "
		                "%zu warning%s (%.2f s)\n",
		        what, res->cases, res->cases == 1 ? "" : "s", e, e == 1 ? "" : "s", w,
		        w == 1 ? "" : "s", res->seconds);
	else if (check)
		fprintf(stderr, "casebook: %zu case%s checked, %zu error%s, %zu warning%s (%.2f s)\n",
		        res->cases, res->cases == 1 ? "" : "s", e, e == 1 ? "" : "s", w,
		        w == 1 ? "" : "s", res->seconds);
	else if (e == 0 && res->editions)
		fprintf(stderr, "casebook: %zu case%s, %zu edition%s, %zu page%s%s, %zu warning%s, %.2f s\n",
		        res->cases, res->cases == 1 ? "" : "s", res->editions,
		        res->editions == 1 ? "" : "s", res->pages, res->pages == 1 ? "" : "s",
		        res->up_to_date ? " (up to date: nothing changed)" : "", w,
		        w == 1 ? "" : "s", res->seconds);
	else if (e == 0)
		fprintf(stderr, "casebook: %zu case%s, %zu page%s%s, %zu warning%s, %.2f s\n",
		        res->cases, res->cases == 1 ? "" : "s", res->pages, res->pages == 1 ? "" : "s",
		        res->up_to_date ? " (up to date: nothing changed)" : "", w, w == 1 ? "" : "s",
		        res->seconds);
	else
		fprintf(stderr, "casebook: build failed: %zu error%s, %zu warning%s; the previous "
		                "site is unchanged\n",
		        e, e == 1 ? "" : "s", w, w == 1 ? "" : "s");
}

/* What `check FILE...` shows: the diagnostics of these source paths (a
 * folder stands for everything in it). */
typedef struct file_filter {
	char **paths; /* relative to the source root; "" is the whole source */
	int *dirs;
	size_t n;
} file_filter;

static int filter_keeps(const file_filter *f, const char *path)
{
	size_t i;

	if (!f || f->n == 0)
		return 1;
	/* Problems of the whole handbook (no file, or its configuration) bear
	 * on every file in it. */
	if (!path || strcmp(path, CB_CONFIG_FILE) == 0)
		return 1;
	for (i = 0; i < f->n; i++) {
		size_t len = strlen(f->paths[i]);
		if (strcmp(path, f->paths[i]) == 0)
			return 1;
		if (f->dirs[i] && (len == 0 || (strncmp(path, f->paths[i], len) == 0 && path[len] == '/')))
			return 1;
	}
	return 0;
}

/* Copy what is shown: notes only when verbose, only the filter's files, and
 * paths prefixed (so they are relative to the working directory). */
static cb_diag_list *filtered(cb_diag_list *all, int verbose, const file_filter *f,
                              const char *prefix)
{
	cb_diag_list *out = cb_diag_list_new();
	size_t i;

	for (i = 0; i < cb_diag_count(all); i++) {
		const cb_diag *d = cb_diag_at(all, i);
		char *path;

		if ((!verbose && d->severity == CB_NOTE) || !filter_keeps(f, d->path))
			continue;
		path = d->path && prefix && *prefix ? cb_xasprintf("%s%s", prefix, d->path) : NULL;
		cb_diag_add(out, d->severity, d->code, path ? path : d->path, d->line, d->col, d->hint,
		            "%s", d->msg);
		free(path);
	}
	return out;
}

/* The real path of p without following its last component (a symlinked
 * case file must stay itself). Caller frees; NULL if p does not exist. */
static char *real_keep_last(const char *p)
{
	char buf[PATH_MAX], dir[PATH_MAX];
	const char *slash = strrchr(p, '/');
	const char *base = slash ? slash + 1 : p;
	struct stat st;

	if (lstat(p, &st) < 0)
		return NULL;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return realpath(p, buf) ? cb_xstrdup(buf) : NULL;
	if (slash) {
		size_t len = (size_t)(slash - p);
		if (len >= sizeof dir)
			return NULL;
		memcpy(dir, p, len);
		dir[len] = '\0';
		if (!realpath(len ? dir : "/", buf))
			return NULL;
	} else if (!getcwd(buf, sizeof buf)) {
		return NULL;
	}
	return strcmp(buf, "/") == 0 ? cb_xasprintf("/%s", base) : cb_xasprintf("%s/%s", buf, base);
}

/* Is the real path p the folder root (sl bytes) or inside it? */
static int within(const char *p, const char *root, size_t sl)
{
	return p && strncmp(p, root, sl) == 0 && (sl == 1 || p[sl] == '/' || p[sl] == '\0');
}

/* Resolve each FILE (relative to the working directory, else to the source)
 * to a path in the source. Returns 0, or -1 after printing why not. */
static int resolve_files(file_filter *f, const char *src_real, const char *src_arg, int argc,
                         char **argv)
{
	size_t sl = strlen(src_real);
	int i;

	f->paths = cb_xcalloc((size_t)argc + 1, sizeof(char *));
	f->dirs = cb_xcalloc((size_t)argc + 1, sizeof(int));
	for (i = 0; i < argc; i++) {
		char *abs = real_keep_last(argv[i]);
		struct stat st;

		/* A relative path that is not in the source from here may be one
		 * from the source's root (check -s hb content/cases/x.md). */
		if (argv[i][0] != '/' && !within(abs, src_real, sl)) {
			char *in_src = cb_xasprintf("%s/%s", src_real, argv[i]);
			char *alt = real_keep_last(in_src);
			free(in_src);
			if (alt) {
				free(abs);
				abs = alt;
			}
		}
		if (!abs) {
			fprintf(stderr, "casebook check: no such file: %s\n", argv[i]);
			return -1;
		}
		if (!within(abs, src_real, sl)) {
			fprintf(stderr, "casebook check: %s is not in the handbook %s\n", argv[i], src_arg);
			free(abs);
			return -1;
		}
		f->paths[f->n] = cb_xstrdup(abs[sl] ? abs + sl + 1 : "");
		f->dirs[f->n] = lstat(abs, &st) == 0 && S_ISDIR(st.st_mode);
		f->n++;
		free(abs);
	}
	return 0;
}

static void filter_free(file_filter *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->paths[i]);
	free(f->paths);
	free(f->dirs);
}

/* A Markdown file given to check that the loader never reads (outside
 * content/) is a case in the wrong place. */
static void report_unread(const file_filter *f, cb_diag_list *diags)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		const char *p = f->paths[i];
		size_t len = strlen(p);

		if (f->dirs[i] || len < 3 || strcmp(p + len - 3, ".md") != 0 ||
		    strncmp(p, "content/", 8) == 0)
			continue;
		cb_diag_add(diags, CB_ERROR, "case-location", p, 0, 0,
		            "move it to content/cases/ (its name there is its address)",
		            "case files are read only in content/cases; this file is not part of "
		            "the handbook");
	}
}

/* The source folder as seen from the working directory, with a trailing
 * '/', for paths GitHub matches against the repository ("" for "."). */
static char *source_prefix(const char *src_real)
{
	char cwd[PATH_MAX];
	size_t cl;

	if (!getcwd(cwd, sizeof cwd))
		return cb_xasprintf("%s/", src_real);
	cl = strlen(cwd);
	if (strcmp(cwd, src_real) == 0)
		return cb_xstrdup("");
	if (strcmp(cwd, "/") == 0)
		return cb_xasprintf("%s/", src_real + 1);
	if (strncmp(src_real, cwd, cl) == 0 && src_real[cl] == '/')
		return cb_xasprintf("%s/", src_real + cl + 1);
	return cb_xasprintf("%s/", src_real);
}

static int cmd_build(int argc, char **argv)
{
	static const struct option longopts[] = {{"source", required_argument, NULL, 's'},
	                                         {"output", required_argument, NULL, 'o'},
	                                         {"quiet", no_argument, NULL, 'q'},
	                                         {"verbose", no_argument, NULL, 'v'},
	                                         {"jobs", required_argument, NULL, 'j'},
	                                         {"no-cache", no_argument, NULL, 'N'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	cb_build_opts opts = CB_BUILD_OPTS_INIT;
	cb_build_result res;
	cb_diag_list *diags, *shown;
	int quiet = 0, verbose = 0, ch, rc;
	char *share;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:o:qvj:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
		case 'o':
			if (folder_arg("build", (char)ch, optarg,
			               ch == 's' ? &opts.source_dir : &opts.out_dir) < 0)
				return EXIT_USAGE;
			break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'j':
			if (parse_jobs("build", optarg, &opts.threads) < 0)
				return EXIT_USAGE;
			break;
		case 'N': opts.no_cache = 1; break;
		case 'h': fprintf(stdout, "usage: %s\n\n%s", commands[0].usage, commands[0].help); return 0;
		default: fprintf(stderr, "usage: %s\n", commands[0].usage); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "casebook build: unexpected argument '%s'\nusage: %s\n", argv[optind],
		        commands[0].usage);
		return EXIT_USAGE;
	}
	share = find_share_dir();
	opts.share_dir = share;
	opts.progress = !quiet && isatty(2);
	opts.stop = &stop_requested;
	opts.exiting = 1;
	diags = cb_diag_list_new();
	rc = cb_build_run(&opts, diags, &res);
	shown = filtered(diags, verbose, NULL, NULL);
	cb_diag_print(shown, stderr, CB_DIAG_TEXT, isatty(2));
	if (!quiet || rc < 0)
		summary(&res, diags, 0, NULL);
	cb_diag_list_free(shown);
	cb_diag_list_free(diags);
	free(share);
	if (FREE_AT_EXIT)
		cb_build_leftovers_free(res.leftovers);
	if (rc == 0)
		return 0;
	if (res.interrupted)
		return EXIT_INTERRUPTED;
	return res.env_error ? EXIT_USAGE : EXIT_CONTENT;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {{"source", required_argument, NULL, 's'},
	                                         {"format", required_argument, NULL, 'f'},
	                                         {"strict", no_argument, NULL, 'S'},
	                                         {"jobs", required_argument, NULL, 'j'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	cb_build_opts opts = CB_BUILD_OPTS_INIT;
	cb_build_result res;
	cb_diag_list *diags = NULL, *shown = NULL;
	cb_diag_format fmt = CB_DIAG_TEXT;
	file_filter files = {NULL, NULL, 0};
	char src_real[PATH_MAX];
	char *share = NULL, *prefix = NULL;
	int strict = 0, ch, rc;

	memset(&res, 0, sizeof res);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:f:j:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (folder_arg("check", 's', optarg, &opts.source_dir) < 0)
				return EXIT_USAGE;
			break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				fmt = CB_DIAG_TEXT;
			else if (strcmp(optarg, "github") == 0)
				fmt = CB_DIAG_GITHUB;
			else if (strcmp(optarg, "json") == 0)
				fmt = CB_DIAG_JSON;
			else {
				fprintf(stderr, "casebook check: unknown format '%s' (text, github or json)\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'S': strict = 1; break;
		case 'j':
			if (parse_jobs("check", optarg, &opts.threads) < 0)
				return EXIT_USAGE;
			break;
		case 'h': fprintf(stdout, "usage: %s\n\n%s", commands[1].usage, commands[1].help); return 0;
		default: fprintf(stderr, "usage: %s\n", commands[1].usage); return EXIT_USAGE;
		}
	}
	src_real[0] = '\0';
	if (realpath(opts.source_dir, src_real) &&
	    resolve_files(&files, src_real, opts.source_dir, argc - optind, argv + optind) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	share = find_share_dir();
	opts.share_dir = share;
	opts.check_only = 1;
	opts.exiting = 1;
	opts.stop = &stop_requested;
	diags = cb_diag_list_new();
	cb_build_run(&opts, diags, &res);
	if (!res.env_error)
		report_unread(&files, diags);
	/* GitHub matches annotations against paths in the repository. */
	if (fmt == CB_DIAG_GITHUB && !res.env_error)
		prefix = source_prefix(src_real);
	shown = filtered(diags, 0, &files, prefix);
	cb_diag_print(shown, fmt == CB_DIAG_TEXT ? stderr : stdout, fmt,
	              fmt == CB_DIAG_TEXT && isatty(2));
	{
		char *what = files.n == 1 ? cb_xstrdup(*files.paths[0] ? files.paths[0] : ".")
		             : files.n > 1 ? cb_xasprintf("%zu files", files.n)
		                           : NULL;
		summary(&res, shown, 1, what);
		free(what);
	}
	if (res.interrupted)
		rc = EXIT_INTERRUPTED;
	else if (res.env_error)
		rc = EXIT_USAGE;
	else if (cb_diag_errors(shown) || (strict && cb_diag_warnings(shown)))
		rc = EXIT_CONTENT;
	else
		rc = 0;
out:
	cb_diag_list_free(shown);
	cb_diag_list_free(diags);
	filter_free(&files);
	free(prefix);
	free(share);
	if (FREE_AT_EXIT)
		cb_build_leftovers_free(res.leftovers);
	return rc;
}

static int cmd_new(int argc, char **argv)
{
	static const struct option longopts[] = {{"source", required_argument, NULL, 's'},
	                                         {"country", required_argument, NULL, 'c'},
	                                         {"sector", required_argument, NULL, 'S'},
	                                         {"year", required_argument, NULL, 'y'},
	                                         {"slug", required_argument, NULL, 'g'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	const command *me = find_command("new");
	cb_new_opts opts = CB_NEW_OPTS_INIT;
	cb_diag_list *diags;
	char *share, *path = NULL;
	int ch, rc, here;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (folder_arg("new", 's', optarg, &opts.source_dir) < 0)
				return EXIT_USAGE;
			break;
		case 'c': opts.country = optarg; break;
		case 'S': opts.sector = optarg; break;
		case 'y': opts.year = optarg; break;
		case 'g': opts.slug = optarg; break;
		case 'h': fprintf(stdout, "usage: %s\n\n%s", me->usage, me->help); return 0;
		default: fprintf(stderr, "usage: %s\n", me->usage); return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "casebook new: %s\nusage: %s\n",
		        argc - optind == 0 ? "give the case's title" : "give one title (quote it)",
		        me->usage);
		return EXIT_USAGE;
	}
	opts.title = argv[optind];
	share = find_share_dir();
	opts.share_dir = share;
	diags = cb_diag_list_new();
	rc = cb_new_case(&opts, &path, diags);
	cb_diag_print(diags, stderr, CB_DIAG_TEXT, isatty(2));
	if (rc == 0) {
		here = strcmp(opts.source_dir, ".") == 0;
		if (here)
			printf("%s\n", path);
		else
			printf("%s%s%s\n", opts.source_dir,
			       opts.source_dir[strlen(opts.source_dir) - 1] == '/' ? "" : "/", path);
		fprintf(stderr, "casebook: replace every TODO in it, then run: casebook check%s%s %s\n",
		        here ? "" : " -s ", here ? "" : opts.source_dir, path);
	}
	cb_diag_list_free(diags);
	free(path);
	free(share);
	return rc == 0 ? 0 : rc == CB_NEW_EXISTS ? EXIT_CONTENT : EXIT_USAGE;
}

typedef struct serve_log {
	int verbose;
	int color;
} serve_log;

/* The time of day, for the lines a long-running serve prints. */
static void stamp(char *out, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, n, "%H:%M:%S", &tm);
}

static void serve_report(void *ctx, const cb_serve_event *ev)
{
	const serve_log *log = ctx;
	char when[16];

	stamp(when, sizeof when);
	switch (ev->kind) {
	case CB_SERVE_READY:
		printf("casebook: serving at %s (Ctrl-C to stop)\n", ev->url);
		fflush(stdout);
		break;
	case CB_SERVE_CHANGED:
		if (ev->changes > 1)
			fprintf(stderr, "[%s] %s and %zu other%s changed; rebuilding\n", when,
			        ev->changed, ev->changes - 1, ev->changes == 2 ? "" : "s");
		else
			fprintf(stderr, "[%s] %s changed; rebuilding\n", when, ev->changed);
		break;
	case CB_SERVE_WARNING:
		fprintf(stderr, "[%s] warning: %s\n", when, ev->message);
		break;
	case CB_SERVE_BUILT: {
		cb_diag_list *shown = filtered(ev->diags, log->verbose, 0, NULL);
		size_t e = cb_diag_errors(ev->diags), w = cb_diag_warnings(ev->diags);

		cb_diag_print(shown, stderr, CB_DIAG_TEXT, log->color);
		cb_diag_list_free(shown);
		if (ev->ok)
			fprintf(stderr, "[%s] built %zu case%s, %zu page%s, %zu warning%s in %.2f s\n",
			        when, ev->result->cases, ev->result->cases == 1 ? "" : "s",
			        ev->result->pages, ev->result->pages == 1 ? "" : "s", w, w == 1 ? "" : "s",
			        ev->result->seconds);
		else
			fprintf(stderr, "[%s] build failed: %zu error%s, %zu warning%s; %s\n", when, e,
			        e == 1 ? "" : "s", w, w == 1 ? "" : "s",
			        ev->have_site ? "still serving the last good site"
			                      : "nothing to serve until they are fixed");
		break;
	}
	}
}

static int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {{"source", required_argument, NULL, 's'},
	                                         {"port", required_argument, NULL, 'p'},
	                                         {"bind", required_argument, NULL, 'b'},
	                                         {"jobs", required_argument, NULL, 'j'},
	                                         {"verbose", no_argument, NULL, 'v'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	const command *self = find_command("serve");
	cb_serve_opts opts = CB_SERVE_OPTS_INIT;
	serve_log log = {0, 0};
	cb_diag_list *diags;
	char *share, *end;
	long port;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:p:b:j:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (folder_arg("serve", 's', optarg, &opts.build.source_dir) < 0)
				return EXIT_USAGE;
			break;
		case 'p':
			errno = 0;
			port = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || port < 0 || port > 65535) {
				fprintf(stderr, "casebook serve: --port wants a number from 0 to 65535, not '%s'\n",
				        optarg);
				return EXIT_USAGE;
			}
			opts.port = (unsigned)port;
			break;
		case 'b': opts.bind = optarg; break;
		case 'j':
			if (parse_jobs("serve", optarg, &opts.build.threads) < 0)
				return EXIT_USAGE;
			break;
		case 'v': log.verbose = 1; break;
		case 'h': fprintf(stdout, "usage: %s\n\n%s", self->usage, self->help); return 0;
		default: fprintf(stderr, "usage: %s\n", self->usage); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "casebook serve: unexpected argument '%s'\nusage: %s\n", argv[optind],
		        self->usage);
		return EXIT_USAGE;
	}
	share = find_share_dir();
	log.color = isatty(2);
	opts.build.share_dir = share;
	opts.progress = isatty(2);
	opts.stop = &stop_requested;
	opts.report = serve_report;
	opts.report_ctx = &log;
	diags = cb_diag_list_new();
	rc = cb_serve_run(&opts, diags);
	cb_diag_print(diags, stderr, CB_DIAG_TEXT, log.color);
	cb_diag_list_free(diags);
	free(share);
	if (rc < 0)
		return EXIT_USAGE;
	fprintf(stderr, "casebook: stopped\n");
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	const command *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "casebook help: no command '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	fprintf(stdout, "usage: %s\n\n%s", c->usage, c->help);
	return 0;
}

int main(int argc, char **argv)
{
	const command *c;
	struct sigaction sa;
	int rc;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("casebook %s\n", CB_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "casebook: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* a closed terminal: stop as cleanly */

	cb_git_init();
	cb_md_init();
	rc = c->run(argc - 1, argv + 1);
	cb_git_shutdown();
	return rc;
}
