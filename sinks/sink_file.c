/* The file sink: one CDEvent per line (JSON Lines) appended to a file,
 * for log shippers (Fluent Bit, Vector, Filebeat) that tail it. Past
 * rotate_size the file is renamed PATH.1 (older ones shift up to
 * rotate_keep) and a new one started, the way logrotate's copytruncate-free
 * "create" mode works, which every one of those shippers follows. A line
 * is written with one write(2) on an O_APPEND descriptor, so a reader
 * never sees half a line from us. With `checkpoints: true` the log's signed
 * checkpoints are lines of the same file (file_submit_checkpoint). */

#include "sinks/sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

struct file_sink {
	const struct cde_sink_options *cfg;
	int fd;
	size_t size;
	size_t rotate_at;	/* after a failed rotation: try again past this size */
};

static int open_file(struct file_sink *s)
{
	struct stat st;

	s->fd = open(s->cfg->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (s->fd < 0)
		return -errno;
	s->size = fstat(s->fd, &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

static void file_release(void *impl)
{
	struct file_sink *s = impl;

	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

static int file_init(const struct cde_sink_options *cfg, const struct cde_sink_env *env, void **ret_impl,
		     char *err, size_t err_size)
{
	struct file_sink *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	r = open_file(s);
	if (r < 0) {
		snprintf(err, err_size, "%s: %s", cfg->path, strerror(-r));
		free(s);
		return r;
	}
	*ret_impl = s;
	return 0;
}

static int rotate(struct file_sink *s)
{
	char from[CDE_SINK_PATH_MAX + 16], to[CDE_SINK_PATH_MAX + 16];

	for (unsigned i = s->cfg->rotate_keep; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", s->cfg->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", s->cfg->path, i);
		rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", s->cfg->path);
	if (s->cfg->rotate_keep == 0 ? unlink(s->cfg->path) < 0 : rename(s->cfg->path, to) < 0)
		return -errno;
	close(s->fd);
	s->rotate_at = 0;
	return open_file(s);
}

/* Appends @line (@len bytes, ending in a newline) and reports. */
static void append_line(struct file_sink *s, const char *line, size_t len, cde_sink_done_fn done, void *ctx)
{
	struct cde_sink_result res = { .retry_after_s = -1 };
	ssize_t n;
	int r = 0;

	if (s->cfg->rotate_size && s->size > 0 && s->size + len > s->cfg->rotate_size && s->size >= s->rotate_at &&
	    rotate(s) < 0) {
		/* A directory we cannot rename in must not stop the events:
		 * keep appending, and try again one rotate_size later. */
		s->rotate_at = s->size + s->cfg->rotate_size;
	}
	if (s->fd < 0)
		r = open_file(s);
	n = r == 0 ? write(s->fd, line, len) : -1;
	if (n == (ssize_t)len) {
		res.outcome = CDE_SINK_DELIVERED;
		s->size += len;
	} else {
		/* A full disk or a short write: try again later. A short write
		 * leaves a partial line, which the next full line follows on
		 * its own line; readers skip what does not parse. */
		if (n > 0 && write(s->fd, "\n", 1) == 1)
			s->size += (size_t)n + 1;
		res.outcome = CDE_SINK_RETRY;
		snprintf(res.detail, sizeof(res.detail), "%.120s: %s", s->cfg->path,
			 n < 0 ? strerror(r < 0 ? -r : errno) : "short write");
	}
	done(ctx, &res);
}

/* @json, which the call takes, as one line. */
static int submit_json(struct file_sink *s, char *json, cde_sink_done_fn done, void *ctx)
{
	size_t len;
	char *line;

	if (!json)
		return -ENOMEM;
	len = strlen(json);
	line = realloc(json, len + 2);
	if (!line) {
		free(json);
		return -ENOMEM;
	}
	line[len++] = '\n';
	line[len] = '\0';
	append_line(s, line, len, done, ctx);
	free(line);
	return 0;
}

static int file_submit(void *impl, const struct cde_event *ev, uint64_t seq, cde_sink_done_fn done, void *ctx)
{
	return submit_json(impl, cde_event_to_json(ev), done, ctx);
}

/* A checkpoint is one line {"size": N, "checkpoint": NOTE}: the note
 * spans lines and ends with its signatures, so it travels as a JSON
 * string and a reader splits the file by lines as it does for events. */
static int file_submit_checkpoint(void *impl, uint64_t size, const char *note, cde_sink_done_fn done, void *ctx)
{
	cJSON *o = cJSON_CreateObject();
	char *json = NULL;

	if (o && cJSON_AddNumberToObject(o, "size", (double)size) && cJSON_AddStringToObject(o, "checkpoint", note))
		json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return submit_json(impl, json, done, ctx);
}

const struct cde_sink_ops cde_sink_file = {
	.name = "file",
	.config_keys = (const char *const[]){ "path", "rotate_size", "rotate_keep", "checkpoints", NULL },
	.init = file_init,
	.submit = file_submit,
	.submit_checkpoint = file_submit_checkpoint,
	.release = file_release,
};
