/* The in-memory journal: gives accepted events their sequence numbers and
 * recognizes re-sent ones, within a bounded window, and keeps nothing
 * else. Completions are delivered from the loop, never from inside
 * append, so callers see the same asynchrony the audit log's writer
 * thread will give them. */

#include "sinks/journal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pending {
	struct pending *next;
	struct cde_journal_entry *entries;
	size_t n;
	cde_journal_done_fn done;
	void *ctx;
};

struct memory_journal {
	struct event_base *base;
	struct event *flush;
	struct pending *head, **tail;
	uint64_t next_seq;
	/* An open-addressing set of key hashes plus a ring that ages them out:
	 * the window bounds memory however long the daemon runs. */
	size_t window, ring_pos, ring_len;
	uint64_t *ring;
	uint64_t *set;		/* 0 = empty, 1 = deleted, else a hash */
	size_t set_cap;		/* a power of two, at least twice the window */
	size_t tombstones;
};

/* FNV-1a over "source\0id", never 0 or 1. */
static uint64_t key_hash(const char *source, const char *id)
{
	uint64_t h = 1469598103934665603ull;

	for (const char *p = source; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *p = id; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h < 2 ? h + 2 : h;
}

/* The slot holding @h (*found), or the slot to put it in. */
static size_t find_slot(const struct memory_journal *m, uint64_t h, bool *found)
{
	size_t i = h & (m->set_cap - 1), first_free = (size_t)-1;

	*found = false;
	for (;;) {
		if (m->set[i] == h) {
			*found = true;
			return i;
		}
		if (m->set[i] == 1 && first_free == (size_t)-1)
			first_free = i;
		if (m->set[i] == 0)
			return first_free != (size_t)-1 ? first_free : i;
		i = (i + 1) & (m->set_cap - 1);
	}
}

/* Drops every tombstone by re-inserting the live hashes (those in the
 * ring); keeps probe sequences short however long the daemon runs. */
static void rebuild(struct memory_journal *m)
{
	memset(m->set, 0, m->set_cap * sizeof(*m->set));
	for (size_t k = 0; k < m->ring_len; k++) {
		uint64_t h = m->ring[(m->ring_pos + m->window - m->ring_len + k) % m->window];
		bool found;

		m->set[find_slot(m, h, &found)] = h;
	}
	m->tombstones = 0;
}

/* Returns true when (source, id) was seen within the window; remembers it
 * otherwise. A hash collision (1 in 2^64) would read as a duplicate. */
static bool seen_or_remember(struct memory_journal *m, const char *source, const char *id)
{
	uint64_t h = key_hash(source, id);
	bool found;

	find_slot(m, h, &found);
	if (found)
		return true;
	if (m->ring_len == m->window) {
		size_t old = find_slot(m, m->ring[m->ring_pos], &found);

		if (found) {
			m->set[old] = 1;
			m->tombstones++;
		}
		m->ring_len--;
	}
	if (m->tombstones > m->set_cap / 4)
		rebuild(m);
	m->set[find_slot(m, h, &found)] = h;
	m->ring[m->ring_pos] = h;
	m->ring_pos = (m->ring_pos + 1) % m->window;
	m->ring_len++;
	return false;
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	struct memory_journal *m = arg;
	struct pending *p = m->head;

	m->head = NULL;
	m->tail = &m->head;
	while (p) {
		struct pending *next = p->next;

		for (size_t i = 0; i < p->n; i++) {
			struct cde_journal_entry *e = &p->entries[i];
			const char *src = cde_event_source(e->event), *id = cde_event_id(e->event);

			e->duplicate = src && id && seen_or_remember(m, src, id);
			e->seq = e->duplicate ? 0 : ++m->next_seq;
		}
		p->done(p->ctx, p->entries, p->n, 0);
		free(p);
		p = next;
	}
}

static int memory_append(void *impl, struct cde_journal_entry *entries, size_t n,
			 cde_journal_done_fn done, void *ctx)
{
	struct memory_journal *m = impl;
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->entries = entries;
	p->n = n;
	p->done = done;
	p->ctx = ctx;
	*m->tail = p;
	m->tail = &p->next;
	event_active(m->flush, EV_TIMEOUT, 0);
	return 0;
}

static bool memory_ready(void *impl)
{
	return true;
}

static void memory_free(void *impl)
{
	struct memory_journal *m = impl;

	while (m->head) {
		struct pending *next = m->head->next;

		free(m->head);
		m->head = next;
	}
	if (m->flush)
		event_free(m->flush);
	free(m->ring);
	free(m->set);
	free(m);
}

static const struct cde_journal_ops memory_ops = {
	.name = "memory",
	.append = memory_append,
	.ready = memory_ready,
	.durable = false,
	.free = memory_free,
};

int cde_journal_memory_new(struct event_base *base, size_t window, struct cde_journal *ret)
{
	struct memory_journal *m = calloc(1, sizeof(*m));
	size_t cap = 16;

	if (!m)
		return -ENOMEM;
	if (window == 0)
		window = 1;
	while (cap < window * 2)
		cap *= 2;
	m->base = base;
	m->window = window;
	m->set_cap = cap;
	m->tail = &m->head;
	m->ring = calloc(window, sizeof(*m->ring));
	m->set = calloc(cap, sizeof(*m->set));
	m->flush = event_new(base, -1, 0, on_flush, m);
	if (!m->ring || !m->set || !m->flush) {
		memory_free(m);
		return -ENOMEM;
	}
	ret->ops = &memory_ops;
	ret->impl = m;
	return 0;
}

void cde_journal_release(struct cde_journal *j)
{
	if (j->ops)
		j->ops->free(j->impl);
	j->ops = NULL;
	j->impl = NULL;
}
