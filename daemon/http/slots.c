/* The HTTP server's caps on what clients hold: connections per address
 * and in all, and the bytes of request bodies in flight.
 *
 * Connection caps are fair: a connection that holds a slot without using
 * it (connected and silent, or kept alive between requests) is closed to
 * make room for a new one, so idle connections can lock no address out,
 * neither their own nor, by filling the global cap, everyone else's. A
 * connection in the middle of a request is never closed for another: a
 * slow one is bounded by its deadlines instead. Per address the longest
 * idle connection goes first; for the global cap, one of the address
 * holding the most connections.
 *
 * Invariant: a connection is on its address's idle list exactly when
 * c->idle, and every address entry has n >= 1 (it is freed with its last
 * connection).
 *
 * At the global cap with nothing idle, a half-sent head of the address
 * holding the most connections goes, when that address holds more than
 * the newcomer's would: a slowloris spread over a few addresses cannot
 * keep everyone else out. */

#include "daemon/http/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

/* FNV-1a: the table is small and the keys are short. */
static size_t bucket_of(const char *addr)
{
	uint32_t h = 2166136261u;

	for (; *addr; addr++)
		h = (h ^ (unsigned char)*addr) * 16777619u;
	return h % CDE_HTTP_ADDR_BUCKETS;
}

static struct cde_http_addr *find(struct cde_http_server *s, const char *addr)
{
	struct cde_http_addr *a = s->addrs[bucket_of(addr)];

	while (a && strcmp(a->addr, addr) != 0)
		a = a->next;
	return a;
}

/* An idle connection whose client has sent bytes we have not read yet
 * (say, one accepted in the same burst as the newcomer) is about to start
 * a request: closing it would lose that request. */
static bool has_unread_bytes(struct cde_http_conn *c)
{
	int n = 0;

	/* Read already (a pipelined request waiting for the loop), or not. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
		return true;
	return ioctl(bufferevent_getfd(c->bev), FIONREAD, &n) == 0 && n > 0;
}

/* The longest idle connection of @a that can be closed, or NULL. */
static struct cde_http_conn *evictable(struct cde_http_addr *a)
{
	struct cde_http_conn *c = a->idle_first;

	while (c && has_unread_bytes(c))
		c = c->idle_next;
	return c;
}

/* An idle connection of the address with the most connections, or NULL
 * when none can be closed. */
static struct cde_http_conn *busiest_idle(struct cde_http_server *s)
{
	struct cde_http_conn *best = NULL, *c;
	unsigned best_n = 0;

	for (size_t b = 0; b < CDE_HTTP_ADDR_BUCKETS; b++) {
		for (struct cde_http_addr *a = s->addrs[b]; a; a = a->next) {
			if (a->n > best_n && (c = evictable(a))) {
				best = c;
				best_n = a->n;
			}
		}
	}
	return best;
}

/* With nothing idle at the global cap: the connection that has been
 * sending its head the longest, of the address holding the most
 * connections, provided that address holds more than the newcomer's would
 * (@newcomer_n + 1). Half-sent heads are what a slowloris holds slots
 * with, and a head that takes long is never a request anybody was told
 * anything about; the proviso moves slots towards equal shares, so a few
 * addresses cannot keep the rest out, and equal shares are kept. */
static struct cde_http_conn *slowest_head_of_the_busiest(struct cde_http_server *s, unsigned newcomer_n)
{
	struct cde_http_addr *busiest = NULL;
	struct cde_http_conn *victim = NULL;

	for (size_t b = 0; b < CDE_HTTP_ADDR_BUCKETS; b++)
		for (struct cde_http_addr *a = s->addrs[b]; a; a = a->next)
			if (!busiest || a->n > busiest->n)
				busiest = a;
	if (!busiest || busiest->n <= newcomer_n + 1)
		return NULL;
	for (struct cde_http_conn *c = s->conns; c; c = c->next)
		if (c->slot == busiest && c->state == CDE_CONN_HEAD &&
		    (!victim || c->started.tv_sec < victim->started.tv_sec ||
		     (c->started.tv_sec == victim->started.tv_sec && c->started.tv_nsec < victim->started.tv_nsec)))
			victim = c;
	return victim;
}

const char *cde_http_slots_admit(struct cde_http_server *s, const char *addr)
{
	struct cde_http_addr *a;

	/* Loops, not ifs: limits lowered by a reload may leave more than one
	 * connection over a cap. */
	while ((a = find(s, addr)) && a->n >= s->limits.max_connections_per_address) {
		struct cde_http_conn *victim = evictable(a);

		if (!victim)
			return "too many connections from this address";
		cde_http_conn_free(victim);
	}
	while (s->n_conns >= s->limits.max_connections) {
		struct cde_http_conn *victim = busiest_idle(s);

		if (!victim) {
			/* Looked up again: an eviction may have freed it. */
			a = find(s, addr);
			victim = slowest_head_of_the_busiest(s, a ? a->n : 0);
		}
		if (!victim)
			return "too many connections";
		cde_http_conn_free(victim);
	}
	return NULL;
}

int cde_http_slots_add(struct cde_http_server *s, struct cde_http_conn *c)
{
	struct cde_http_addr *a = find(s, c->addr);

	if (!a) {
		size_t b = bucket_of(c->addr);

		a = calloc(1, sizeof(*a));
		if (!a)
			return -ENOMEM;
		memcpy(a->addr, c->addr, sizeof(a->addr));
		a->next = s->addrs[b];
		s->addrs[b] = a;
	}
	a->n++;
	c->slot = a;
	return 0;
}

void cde_http_slots_remove(struct cde_http_server *s, struct cde_http_conn *c)
{
	struct cde_http_addr *a = c->slot, **p;

	if (!a)
		return;
	cde_http_slots_set_idle(c, false);
	c->slot = NULL;
	if (--a->n > 0)
		return;
	for (p = &s->addrs[bucket_of(a->addr)]; *p != a; p = &(*p)->next)
		;
	*p = a->next;
	free(a);
}

void cde_http_slots_set_idle(struct cde_http_conn *c, bool idle)
{
	struct cde_http_addr *a = c->slot;

	if (!a || c->idle == idle)
		return;
	c->idle = idle;
	if (idle) {
		c->idle_prev = a->idle_last;
		c->idle_next = NULL;
		if (a->idle_last)
			a->idle_last->idle_next = c;
		else
			a->idle_first = c;
		a->idle_last = c;
		return;
	}
	if (c->idle_prev)
		c->idle_prev->idle_next = c->idle_next;
	else
		a->idle_first = c->idle_next;
	if (c->idle_next)
		c->idle_next->idle_prev = c->idle_prev;
	else
		a->idle_last = c->idle_prev;
	c->idle_prev = c->idle_next = NULL;
}

int cde_http_slots_count_body(struct cde_http_request *req, uint64_t n, uint64_t cap)
{
	struct cde_http_server *s = req->srv;
	struct cde_http_addr *a = req->conn ? req->conn->slot : NULL;
	uint64_t share;

	if (!s)
		return 0;
	/* One address may hold an eighth of the cap (a body_max at least):
	 * a request whose signature can only be checked on its body passes
	 * the head on its headers alone, so a single client could otherwise
	 * reserve the whole cap with heads and no bodies. */
	share = cap / 8 > s->limits.body_max ? cap / 8 : s->limits.body_max;
	if (n > cap || s->body_bytes > cap - n || (a && (n > share || a->body_bytes > share - n)))
		return -ENOBUFS;
	s->body_bytes += n;
	if (a) {
		a->body_bytes += n;
		req->addr_counted += n;
	}
	req->body_counted += n;
	return 0;
}

void cde_http_slots_uncount_address(struct cde_http_request *req)
{
	struct cde_http_addr *a = req->conn ? req->conn->slot : NULL;

	if (a)
		a->body_bytes -= req->addr_counted < a->body_bytes ? req->addr_counted : a->body_bytes;
	req->addr_counted = 0;
}
