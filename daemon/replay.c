/* Replay memory. Each principal has its own open-addressing table of
 * 32-byte keys (digests: a principal's flood fills only its own table),
 * each with the time it expires. A remembered key is never evicted before
 * it expires; a full table refuses new keys instead (-ENOSPC).
 *
 * A key is remembered in two steps: when its request is authenticated
 * (pending, in RAM: a copy that comes meanwhile is told to retry), and
 * when that request was answered with success (confirmed: written to the
 * file, and a later copy is answered as a re-send). A request refused or
 * lost to a crash before its answer was never acknowledged, so its key is
 * forgotten or never reaches the file, and the sender's retry goes through.
 *
 * The file is a log of fixed-size records, "remember key until T" or
 * "forget key", appended with plain write() on the loop thread and never
 * fsync'ed there: a crash of the daemon keeps the page cache, so only a
 * power loss of the machine can lose the newest records (and reopen their
 * replays until they would have expired). At open the log is read, and rewritten with only the keys that
 * have not expired; it is rewritten the same way when it grows past twice
 * what is remembered. A write that fails stops the file (the memory goes
 * on in RAM) rather than leave a record half written. */

#include "daemon/replay.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"

#define NAME_MAX_ CDE_CONFIG_NAME_MAX
#define RECORD_SIZE 112
#define RECORDS_PER_READ 128
#define SLOTS_MIN 8
#define EMPTY 0
#define FORGOTTEN (-1)

static const char record_magic[4] = { 'C', 'D', 'R', '1' };

struct slot {
	uint8_t key[32];
	int64_t expires;	/* EMPTY, FORGOTTEN, or when it may be forgotten */
	bool pending;		/* its request is not answered yet: in RAM only */
};

struct table {
	char name[NAME_MAX_];
	size_t mask;		/* slots - 1, a power of two minus one */
	size_t used;		/* slots not EMPTY */
	time_t swept;		/* the last rebuild that found it full */
	struct slot *slots;
};

struct cde_replay {
	size_t per_principal;
	size_t n_tables;
	struct table *tables;
	char path[CDE_CONFIG_STR_MAX + 32];
	int fd;			/* -1: RAM only */
	uint64_t records;	/* in the file */
	uint64_t compact_after;	/* rewrite the file past this many records */
};

static uint64_t hash_of(const uint8_t key[32])
{
	uint64_t h;

	memcpy(&h, key, sizeof(h)); /* the keys are digests: any 8 bytes spread well */
	return h;
}

static bool live(const struct slot *s, time_t now)
{
	return s->expires != EMPTY && s->expires != FORGOTTEN && s->expires >= (int64_t)now;
}

/* The slot holding @key, else the empty slot that ends its probe. */
static struct slot *probe(const struct table *t, const uint8_t key[32])
{
	for (size_t i = hash_of(key) & t->mask;; i = (i + 1) & t->mask) {
		struct slot *s = &t->slots[i];

		if (s->expires == EMPTY || memcmp(s->key, key, 32) == 0)
			return s;
	}
}

/* Moves the live keys of @t into @slots new slots (a power of two). */
static int rebuild(struct table *t, size_t slots, time_t now)
{
	struct slot *n = calloc(slots, sizeof(*n));
	struct table old = *t;

	if (!n)
		return -ENOMEM;
	t->slots = n;
	t->mask = slots - 1;
	t->used = 0;
	for (size_t i = 0; old.slots && i <= old.mask; i++) {
		if (!live(&old.slots[i], now))
			continue;
		*probe(t, old.slots[i].key) = old.slots[i];
		t->used++;
	}
	free(old.slots);
	return 0;
}

static struct table *table_of(struct cde_replay *r, const char *name, bool create)
{
	struct table *t;

	for (size_t i = 0; i < r->n_tables; i++)
		if (strcmp(r->tables[i].name, name) == 0)
			return &r->tables[i];
	if (!create)
		return NULL;
	t = realloc(r->tables, (r->n_tables + 1) * sizeof(*t));
	if (!t)
		return NULL;
	r->tables = t;
	t = &r->tables[r->n_tables];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	if (rebuild(t, SLOTS_MIN, 0) < 0)
		return NULL;
	r->n_tables++;
	return t;
}

/* Makes room for one more key: a table is kept at most half full, so
 * probes stay short and always end. */
static int make_room(struct cde_replay *r, struct table *t, time_t now)
{
	size_t slots = t->mask + 1;

	if (t->used + 1 <= slots / 2)
		return 0;
	/* Full of live keys and swept this second: do not sweep again for
	 * every refused request. */
	if (slots >= 2 * r->per_principal && t->swept == now)
		return -ENOSPC;
	if (rebuild(t, slots, now) < 0)
		return -ENOMEM;
	while (t->used + 1 > slots / 4 && slots < 2 * r->per_principal)
		slots *= 2;
	if (slots != t->mask + 1 && rebuild(t, slots, now) < 0)
		return -ENOMEM;
	if (t->used + 1 <= (t->mask + 1) / 2 && t->used < r->per_principal)
		return 0;
	t->swept = now;
	return -ENOSPC;
}

/* Applies one remember (@expires > 0) or forget (@expires 0) to RAM. A
 * key remembered already is -EEXIST, or -EBUSY while it is @pending. */
static int apply(struct cde_replay *r, const char *name, const uint8_t key[32], int64_t expires,
		 bool pending, time_t now)
{
	struct table *t = table_of(r, name, expires != 0);
	struct slot *s;
	int e;

	if (!t)
		return expires ? -ENOMEM : 0;
	s = probe(t, key);
	if (expires == 0) {
		if (s->expires != EMPTY)
			s->expires = FORGOTTEN;
		return 0;
	}
	if (live(s, now))
		return s->pending ? -EBUSY : -EEXIST;
	if (s->expires == EMPTY) {
		e = make_room(r, t, now);
		if (e < 0)
			return e;
		s = probe(t, key); /* the table may have been rebuilt */
		t->used++;
	}
	memcpy(s->key, key, 32);
	s->expires = expires;
	s->pending = pending;
	return 0;
}

static void encode(uint8_t rec[RECORD_SIZE], const char *name, const uint8_t key[32], int64_t expires)
{
	uint64_t v = (uint64_t)expires;

	memset(rec, 0, RECORD_SIZE);
	memcpy(rec, record_magic, 4);
	snprintf((char *)rec + 8, NAME_MAX_, "%s", name);
	memcpy(rec + 8 + NAME_MAX_, key, 32);
	for (int i = 0; i < 8; i++)
		rec[8 + NAME_MAX_ + 32 + i] = (uint8_t)(v >> (8 * i));
}

/* Returns false when @rec is not a record (a foreign or damaged file). */
static bool decode(const uint8_t rec[RECORD_SIZE], char name[NAME_MAX_], uint8_t key[32], int64_t *expires)
{
	uint64_t v = 0;

	if (memcmp(rec, record_magic, 4) != 0 || rec[8 + NAME_MAX_ - 1] != 0)
		return false;
	memcpy(name, rec + 8, NAME_MAX_);
	memcpy(key, rec + 8 + NAME_MAX_, 32);
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)rec[8 + NAME_MAX_ + 32 + i] << (8 * i);
	*expires = (int64_t)v;
	return *expires >= 0;
}

/* Appends one record; on a failed or short write, cuts the file back to
 * its last whole record and stops writing to it. */
static void append(struct cde_replay *r, const char *name, const uint8_t key[32], int64_t expires)
{
	uint8_t rec[RECORD_SIZE];
	ssize_t n;

	if (r->fd < 0)
		return;
	encode(rec, name, key, expires);
	do
		n = write(r->fd, rec, sizeof(rec));
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(rec)) {
		r->records++;
		return;
	}
	if (n > 0 && ftruncate(r->fd, (off_t)(r->records * RECORD_SIZE)) < 0) {
		/* The torn record stays; the next open stops reading there. */
	}
	close(r->fd);
	r->fd = -1;
}

/* Reads the log at r->path into RAM. A missing file is an empty memory;
 * a damaged tail (a torn last write) is ignored. */
static int load(struct cde_replay *r, time_t now, char *err, size_t err_size)
{
	uint8_t buf[RECORDS_PER_READ * RECORD_SIZE];
	size_t have = 0, seen = 0;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, err_size, "%s: %s", r->path, strerror(errno));
		return -errno;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		size_t i;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = -errno;
			snprintf(err, err_size, "%s: %s", r->path, strerror(errno));
			break;
		}
		have += (size_t)n;
		for (i = 0; i + RECORD_SIZE <= have; i += RECORD_SIZE, seen++) {
			char name[NAME_MAX_];
			uint8_t key[32];
			int64_t expires;

			if (!decode(buf + i, name, key, &expires)) {
				if (seen == 0) {
					snprintf(err, err_size, "%s: not a cdeventsd replay file (remove it to start "
						 "with an empty memory)", r->path);
					e = -EINVAL;
				}
				goto out;
			}
			if (expires != 0 && expires < (int64_t)now)
				continue;
			e = apply(r, name, key, expires, false, now);
			if (e == -ENOMEM) {
				snprintf(err, err_size, "%s: out of memory", r->path);
				goto out;
			}
			e = 0; /* a key over a smaller cap, or twice: nothing to keep */
		}
		memmove(buf, buf + i, have - i);
		have -= i;
		if (n == 0)
			break;
	}
out:
	close(fd);
	return e;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n < 0 ? errno : EIO;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes the live keys to a new file and puts it in place of the log,
 * then appends to it. @sync: at open, where waiting for the disk costs
 * nothing; never on the loop. */
static int compact(struct cde_replay *r, time_t now, bool sync, char *err, size_t err_size)
{
	char tmp[sizeof(r->path) + 4];
	uint8_t buf[RECORDS_PER_READ * RECORD_SIZE];
	uint64_t records = 0;
	size_t have = 0;
	int fd, e = 0;

	snprintf(tmp, sizeof(tmp), "%s.new", r->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	for (size_t i = 0; i < r->n_tables; i++) {
		const struct table *t = &r->tables[i];

		for (size_t k = 0; k <= t->mask; k++) {
			if (!live(&t->slots[k], now) || t->slots[k].pending)
				continue;
			if (have == sizeof(buf)) {
				if (write_all(fd, buf, have) < 0)
					goto fail_close;
				have = 0;
			}
			encode(buf + have, t->name, t->slots[k].key, t->slots[k].expires);
			have += RECORD_SIZE;
			records++;
		}
	}
	if (write_all(fd, buf, have) < 0)
		goto fail_close;
	if (sync && fsync(fd) < 0)
		goto fail_close;
	if (close(fd) < 0 || rename(tmp, r->path) < 0) {
		fd = -1;
		goto fail_close;
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fd = open(r->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (r->fd < 0)
		goto fail;
	r->records = records;
	return 0;
fail_close:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = e;
fail:
	e = errno;
	snprintf(err, err_size, "%s: %s", r->path, strerror(e));
	return -e;
}

/* Rewriting is linear in what is remembered, so it waits until the log
 * holds twice that: amortized, each record is written about twice. */
static void plan_compaction(struct cde_replay *r)
{
	uint64_t remembered = 0;

	for (size_t i = 0; i < r->n_tables; i++)
		remembered += r->tables[i].used;
	r->compact_after = r->records + 2 * remembered + 4096;
}

int cde_replay_open(const char *dir, size_t per_principal, time_t now, struct cde_replay **ret,
		    char *err, size_t err_size)
{
	struct cde_replay *r = calloc(1, sizeof(*r));
	int e;

	if (!r) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	r->fd = -1;
	r->per_principal = SLOTS_MIN / 2;	/* a power of two, like the tables */
	while (r->per_principal < per_principal)
		r->per_principal *= 2;
	if (dir) {
		snprintf(r->path, sizeof(r->path), "%s/%s", dir, CDE_REPLAY_FILE);
		e = load(r, now, err, err_size);
		if (e == 0)
			e = compact(r, now, true, err, err_size);
		if (e < 0) {
			cde_replay_free(r);
			return e;
		}
		plan_compaction(r);
	}
	*ret = r;
	return 0;
}

struct cde_replay *cde_replay_free(struct cde_replay *r)
{
	if (!r)
		return NULL;
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->n_tables; i++)
		free(r->tables[i].slots);
	free(r->tables);
	free(r);
	return NULL;
}

bool cde_replay_seen(struct cde_replay *r, const char *principal, const uint8_t key[32], time_t now)
{
	const struct table *t = table_of(r, principal, false);

	return t && live(probe(t, key), now);
}

int cde_replay_remember(struct cde_replay *r, const char *principal, const uint8_t key[32],
			time_t expires, time_t now)
{
	return apply(r, principal, key, expires, true, now);
}

void cde_replay_confirm(struct cde_replay *r, const char *principal, const uint8_t key[32], time_t now)
{
	struct table *t = table_of(r, principal, false);
	struct slot *s = t ? probe(t, key) : NULL;
	char err[8];

	if (!s || !s->pending || s->expires == EMPTY || s->expires == FORGOTTEN)
		return;
	s->pending = false;
	append(r, principal, key, s->expires);
	/* A failed rewrite leaves the log as it was, still appended to. */
	if (r->fd >= 0 && r->records > r->compact_after) {
		compact(r, now, false, err, sizeof(err));
		plan_compaction(r);
	}
}

void cde_replay_forget(struct cde_replay *r, const char *principal, const uint8_t key[32])
{
	struct table *t = table_of(r, principal, false);
	struct slot *s = t ? probe(t, key) : NULL;
	bool written = s && s->expires != EMPTY && s->expires != FORGOTTEN && !s->pending;

	apply(r, principal, key, 0, false, 0);
	/* A pending key never reached the file. */
	if (written)
		append(r, principal, key, 0);
}
