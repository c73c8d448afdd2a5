/* The web interface's files, read once at start. Serving from memory
 * keeps the loop off the disk and makes path traversal impossible by
 * construction: a request names a key of this table, never a path the
 * kernel resolves. Loading opens each entry relative to its directory
 * with O_NOFOLLOW, so a symbolic link, even one planted later, is never
 * followed out of the tree. */

#include "daemon/ui_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cde_build_config.h"

struct cde_ui_files {
	struct cde_ui_file *files;	/* sorted by name */
	size_t n, cap;
	size_t total;			/* bytes read */
};

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".json", "application/json" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char *type_of(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && strcmp(name + n - e, types[i].ext) == 0)
			return types[i].type;
	}
	return NULL;
}

/* A name a URL carries unencoded and no shell or path trick hides in. */
static bool name_ok(const char *name)
{
	if (name[0] == '.' || !name[0])
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return false;
	return true;
}

/* Reads @fd, a regular file of @size bytes, into a NUL-terminated buffer. */
static int read_all(int fd, size_t size, char **ret)
{
	char *buf = malloc(size + 1);
	size_t got = 0;

	if (!buf)
		return -ENOMEM;
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EIO;
		}
		got += (size_t)n;
	}
	buf[size] = '\0';
	*ret = buf;
	return 0;
}

static int add_file(struct cde_ui_files *ui, int dirfd, const char *name, const char *rel, const char *type)
{
	struct cde_ui_file *f;
	struct stat st;
	char *body = NULL;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno == ELOOP ? 0 : -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	if ((size_t)st.st_size > CDE_UI_FILE_MAX || ui->total + (size_t)st.st_size > CDE_UI_TOTAL_MAX ||
	    ui->n == CDE_UI_FILES_MAX) {
		close(fd);
		return -EFBIG;
	}
	r = read_all(fd, (size_t)st.st_size, &body);
	close(fd);
	if (r < 0)
		return r;
	/* Replies are strings: a NUL would cut one short. */
	if (strlen(body) != (size_t)st.st_size) {
		free(body);
		return 0;
	}
	if (ui->n == ui->cap) {
		size_t cap = ui->cap ? ui->cap * 2 : 16;
		struct cde_ui_file *grown = realloc(ui->files, cap * sizeof(*grown));

		if (!grown) {
			free(body);
			return -ENOMEM;
		}
		ui->files = grown;
		ui->cap = cap;
	}
	f = &ui->files[ui->n];
	f->name = strdup(rel);
	if (!f->name) {
		free(body);
		return -ENOMEM;
	}
	f->body = body;
	f->len = (size_t)st.st_size;
	f->type = type;
	ui->n++;
	ui->total += f->len;
	return 0;
}

/* Reads the directory @dirfd (taken: closed here), whose files are named
 * @prefix + name, @depth levels below the root. */
static int add_dir(struct cde_ui_files *ui, int dirfd, const char *prefix, unsigned depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	int r = 0;

	if (!d) {
		close(dirfd);
		return -errno;
	}
	while (r == 0 && (de = readdir(d))) {
		char rel[512];
		struct stat st;
		const char *type;
		int sub;

		if (!name_ok(de->d_name) || fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (snprintf(rel, sizeof(rel), "%s%s", prefix, de->d_name) >= (int)sizeof(rel) - 1)
			continue;
		if (S_ISDIR(st.st_mode) && depth < CDE_UI_DEPTH_MAX) {
			sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			strcat(rel, "/");
			r = add_dir(ui, sub, rel, depth + 1);
		} else if (S_ISREG(st.st_mode) && (type = type_of(de->d_name))) {
			r = add_file(ui, dirfd, de->d_name, rel, type);
		}
	}
	closedir(d);
	return r;
}

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct cde_ui_file *)a)->name, ((const struct cde_ui_file *)b)->name);
}

int cde_ui_files_load(const char *dir, struct cde_ui_files **ret)
{
	struct cde_ui_files *ui;
	int fd, r;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ui = calloc(1, sizeof(*ui));
	if (!ui) {
		close(fd);
		return -ENOMEM;
	}
	r = add_dir(ui, fd, "", 0);
	if (r < 0) {
		cde_ui_files_free(ui);
		return r;
	}
	if (ui->n)
		qsort(ui->files, ui->n, sizeof(ui->files[0]), cmp_files);
	*ret = ui;
	return 0;
}

const struct cde_ui_file *cde_ui_files_find(const struct cde_ui_files *ui, const char *name)
{
	struct cde_ui_file key = { .name = (char *)(*name ? name : "index.html") };

	if (!ui || !ui->n)
		return NULL;
	return bsearch(&key, ui->files, ui->n, sizeof(ui->files[0]), cmp_files);
}

size_t cde_ui_files_count(const struct cde_ui_files *ui)
{
	return ui ? ui->n : 0;
}

struct cde_ui_files *cde_ui_files_free(struct cde_ui_files *ui)
{
	if (ui) {
		for (size_t i = 0; i < ui->n; i++) {
			free(ui->files[i].name);
			free(ui->files[i].body);
		}
		free(ui->files);
		free(ui);
	}
	return NULL;
}

const char *cde_ui_files_default_dir(void)
{
	const char *env = getenv("CDEVENTSD_UI");
	struct stat st;

	if (env && *env)
		return env;
	if (stat(CDE_UI_INSTALL_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		return CDE_UI_INSTALL_DIR;
	return CDE_UI_SOURCE_DIR;
}
