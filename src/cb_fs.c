/*
 * cb_fs: filesystem helpers (see cb_fs.h).
 */
#include "cb_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cb_mem.h"

int cb_fs_read(const char *path, size_t max, char **data, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0, cap;
	int fd, rc = 0;

	*data = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	if (max && (uint64_t)st.st_size > max) {
		rc = CB_FS_TOOBIG;
		goto out;
	}
	cap = (size_t)st.st_size + 1;
	buf = cb_xmalloc(cap);
	for (;;) {
		ssize_t n;

		if (got + 1 >= cap) {
			if (max && got >= max) {
				rc = CB_FS_TOOBIG;
				goto out;
			}
			cap = cb_mem_add(cap, cap / 2 + 4096);
			buf = cb_xrealloc(buf, cap);
		}
		n = read(fd, buf + got, cap - got - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (max && got > max) {
		rc = CB_FS_TOOBIG;
		goto out;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* Write everything to fd and close it. */
static int write_fd(int fd, const char *data, size_t len)
{
	size_t done = 0;
	int rc = 0;

	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		done += (size_t)n;
	}
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int cb_fs_write(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	return write_fd(fd, data, len);
}

int cb_fs_create(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	int rc;

	if (fd < 0)
		return -errno;
	rc = write_fd(fd, data, len);
	if (rc < 0)
		unlink(path);
	return rc;
}

int cb_fs_mkdirs(const char *path)
{
	char *p = cb_xstrdup(path);
	char *s;
	int rc = 0;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			rc = -errno;
			goto out;
		}
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		rc = -errno;
out:
	free(p);
	return rc;
}

int cb_fs_remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlink(path) < 0 ? -errno : 0;
	d = opendir(path);
	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		char *child;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		child = cb_xasprintf("%s/%s", path, e->d_name);
		if (rc == 0)
			rc = cb_fs_remove_tree(child);
		free(child);
	}
	closedir(d);
	if (rc == 0 && rmdir(path) < 0)
		rc = -errno;
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const cb_fs_entry *)a)->name, ((const cb_fs_entry *)b)->name);
}

int cb_fs_list(const char *dir, cb_fs_entry **out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	cb_fs_entry *v = NULL;
	size_t len = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = cb_xreallocarray(v, cap, sizeof *v);
		}
		v[len].name = cb_xstrdup(e->d_name);
		v[len].kind = CB_FS_OTHER;
		v[len].stated = 0;
		v[len].size = 0;
		v[len].mtime_sec = v[len].mtime_nsec = 0;
		v[len].ino = 0;
		/* From the folder: no walk of the whole path for every entry. */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			v[len].kind = S_ISREG(st.st_mode)   ? CB_FS_FILE
			              : S_ISDIR(st.st_mode) ? CB_FS_DIR
			              : S_ISLNK(st.st_mode) ? CB_FS_LINK
			                                    : CB_FS_OTHER;
			v[len].stated = 1;
			v[len].size = (uint64_t)st.st_size;
			v[len].mtime_sec = (int64_t)st.st_mtim.tv_sec;
			v[len].mtime_nsec = (int64_t)st.st_mtim.tv_nsec;
			v[len].ino = (uint64_t)st.st_ino;
		}
		len++;
	}
	closedir(d);
	if (len)
		qsort(v, len, sizeof *v, cmp_entry);
	*out = v;
	*n = len;
	return 0;
}

void cb_fs_list_free(cb_fs_entry *entries, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(entries[i].name);
	free(entries);
}

int cb_fs_kind_of(const char *path, cb_fs_kind *kind)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	*kind = S_ISREG(st.st_mode)   ? CB_FS_FILE
	        : S_ISDIR(st.st_mode) ? CB_FS_DIR
	        : S_ISLNK(st.st_mode) ? CB_FS_LINK
	                              : CB_FS_OTHER;
	return 0;
}

int cb_fs_copy(const char *from, const char *to)
{
	char *data;
	size_t len;
	int rc = cb_fs_read(from, 0, &data, &len);

	if (rc < 0)
		return rc;
	rc = cb_fs_write(to, data, len);
	free(data);
	return rc;
}

const char *cb_fs_strerror(int rc)
{
	if (rc == CB_FS_TOOBIG)
		return "file is too large";
	return strerror(-rc);
}
