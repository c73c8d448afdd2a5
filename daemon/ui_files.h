#pragma once
/* The web interface's files (daemon/ui/ in the source tree, installed
 * under the data directory), read once at start into memory. */

#include <stddef.h>

/* The caps of one set: a file past them is refused, not truncated. */
#define CDE_UI_FILE_MAX (1u << 20)
#define CDE_UI_TOTAL_MAX (8u << 20)
#define CDE_UI_FILES_MAX 256
#define CDE_UI_DEPTH_MAX 4

struct cde_ui_file {
	char *name;		/* relative to the directory: "js/app.js" */
	char *body;		/* NUL-terminated: text only */
	size_t len;
	const char *type;	/* its Content-Type */
};

struct cde_ui_files;

/* Reads every file of @dir whose name says what it is (.html, .css, .js,
 * .svg, .json, .txt) into *@ret. Only regular files and directories are
 * read, each opened without following a symbolic link: a link is
 * skipped, so nothing outside @dir is ever served; so are names starting
 * with '.', names with other bytes than [A-Za-z0-9._-], and files holding
 * a NUL byte. Returns 0, -ENOENT or -ENOTDIR for @dir, -EFBIG past a cap,
 * -ENOMEM, or another -errno from reading. */
int cde_ui_files_load(const char *dir, struct cde_ui_files **ret);

/* The file named @name (a request's path below /ui/, decoded; "" is
 * index.html), or NULL. Only a name read at load matches: "..", "//" or
 * a '%' never do. */
const struct cde_ui_file *cde_ui_files_find(const struct cde_ui_files *ui, const char *name);

/* Number of files read. */
size_t cde_ui_files_count(const struct cde_ui_files *ui);

/* Frees @ui; accepts NULL; returns NULL. */
struct cde_ui_files *cde_ui_files_free(struct cde_ui_files *ui);

/* The directory the daemon reads: $CDEVENTSD_UI when set, else the
 * installed one when it exists, else the source tree's (a build run in
 * place, like the catalog's). */
const char *cde_ui_files_default_dir(void);
