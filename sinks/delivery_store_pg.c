/* The delivery store on PostgreSQL, which N replicas share. Each replica's
 * delivery thread has its own connection, on which:
 *
 * - a sink's lease is a session advisory lock (CDE_PG_LOCK_SINKS,
 *   hashtext(sink)): the server lets go of it when the connection ends,
 *   so a replica that dies loses its leases at once and another, asking
 *   once a second, takes over from the stored cursor;
 * - LISTEN cde_log hears of rows other replicas commit (their journal
 *   notifies in each commit);
 * - statements are prepared once per connection, parameters go as text,
 *   and every result is checked and cleared.
 *
 * A lost connection (the database restarted) is made again by the next
 * call, at most every few seconds (backoff); meanwhile calls fail, the
 * queue of delivery records and cursors stays queued, and the leases are
 * gone until taken again, since the server dropped them with the session.
 * Cursors only move forward (GREATEST): a replica that lost a lease may
 * still write its queued cursor once reconnected, which covers only rows
 * it settled, so at worst another replica delivers some rows twice. */

#include "sinks/delivery_store_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sinks/audit/pg/pg_schema.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

struct pg_store {
	PGconn *c;
	bool ready;		/* statements prepared, LISTEN on */
	bool news;		/* a notification was read with a result */
	bool in_tx;		/* a flush's transaction is open: no reconnecting under it */
	int64_t next_try_ms;	/* no reconnection before (monotonic) */
	int backoff_ms;
	size_t n_leases;
	char **leases;		/* the sinks whose lock this session holds */
	void (*watch)(void *ctx, int fd);
	void *watch_ctx;
	int fd;			/* as last told to watch */
};

static const struct cde_pg_statement statements[] = {
	{ "head", "SELECT seq FROM log_head", 0 },
	{ "received_at", "SELECT received_at FROM events WHERE seq = $1", 1 },
	{ "cursor", "SELECT seq FROM sink_cursors WHERE sink = $1", 1 },
	{ "witness", "SELECT size FROM witness_cursors WHERE sink = $1", 1 },
	{ "init_cursor", "INSERT INTO sink_cursors(sink, seq) VALUES ($1, $2) ON CONFLICT (sink) DO NOTHING", 2 },
	{ "init_witness", "INSERT INTO witness_cursors(sink, size) VALUES ($1, $2) ON CONFLICT (sink) DO NOTHING", 2 },
	{ "set_cursor", "INSERT INTO sink_cursors(sink, seq) VALUES ($1, $2) ON CONFLICT (sink)"
			" DO UPDATE SET seq = GREATEST(sink_cursors.seq, excluded.seq)", 2 },
	{ "set_witness", "INSERT INTO witness_cursors(sink, size) VALUES ($1, $2) ON CONFLICT (sink)"
			 " DO UPDATE SET size = GREATEST(witness_cursors.size, excluded.size)", 2 },
	{ "latest_checkpoint", "SELECT coalesce(max(size), 0) FROM tree_checkpoints", 0 },
	/* Sink names cannot hold a newline (config/ checks them). */
	{ "forget", "DELETE FROM sink_cursors WHERE NOT (sink = ANY (string_to_array($1, E'\\n')))", 1 },
	{ "scan", "SELECT seq, event, received_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2", 2 },
	{ "delivered", "INSERT INTO deliveries(sink, seq, delivered_at, status, receipt) VALUES ($1, $2, $3, $4, $5)"
		       " ON CONFLICT (sink, seq) DO UPDATE SET delivered_at = excluded.delivered_at,"
		       " status = excluded.status, receipt = excluded.receipt", 5 },
	{ "dead", "INSERT INTO dead_letters(sink, seq, attempts, error, dead_at) VALUES ($1, $2, $3, $4, $5)"
		  " ON CONFLICT (sink, seq) DO UPDATE SET attempts = excluded.attempts, error = excluded.error,"
		  " dead_at = excluded.dead_at", 5 },
	{ "dead_count", "SELECT count(*) FROM dead_letters WHERE sink = $1", 1 },
	{ "replays", "SELECT seq FROM replays WHERE sink = $1 ORDER BY seq LIMIT $2", 2 },
	{ "replay_done", "DELETE FROM replays WHERE sink = $1 AND seq = $2", 2 },
	{ "event", "SELECT event FROM events WHERE seq = $1", 1 },
	{ "checkpoint_after", "SELECT note, size FROM tree_checkpoints WHERE size > $1 ORDER BY size LIMIT 1", 1 },
	/* key1 is the constant; PostgreSQL 15 reads no hex literal. */
	{ "lease", "SELECT pg_try_advisory_lock($1::integer, hashtext($2))", 2 },
	{ "unlease", "SELECT pg_advisory_unlock($1::integer, hashtext($2))", 2 },
};

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void tell_watch(struct pg_store *s, int fd)
{
	if (s->fd == fd)
		return;
	if (s->watch && s->fd >= 0)
		s->watch(s->watch_ctx, -1);
	s->fd = fd;
	if (s->watch && fd >= 0)
		s->watch(s->watch_ctx, fd);
}

static void forget_leases(struct pg_store *s)
{
	for (size_t i = 0; i < s->n_leases; i++)
		free(s->leases[i]);
	s->n_leases = 0;
}

/* The session ended: its leases and statements went with it. */
static void drop_if_lost(struct pg_store *s)
{
	if (!s->c || !cde_pg_lost(s->c))
		return;
	tell_watch(s, -1);
	forget_leases(s);
	s->ready = false;
}

/* Statements and LISTEN, on a new session. */
static int set_up_session(struct pg_store *s, char *err, size_t err_size)
{
	if (cde_pg_prepare(s->c, statements, sizeof(statements) / sizeof(statements[0]), err, err_size,
			   "preparing the delivery store's statements") < 0 ||
	    cde_pg_exec(s->c, "LISTEN cde_log", err, err_size, "listening for new rows") < 0)
		return -EIO;
	s->ready = true;
	tell_watch(s, PQsocket(s->c));
	return 0;
}

/* Makes sure the session is up, reconnecting a lost one unless the last
 * try was too recent. 0 or -EIO. */
static int ensure(struct pg_store *s)
{
	char err[256];

	drop_if_lost(s);
	if (s->ready)
		return 0;
	if (s->in_tx || now_ms() < s->next_try_ms)
		return -EIO;
	if (cde_pg_lost(s->c))
		PQreset(s->c);
	if (!cde_pg_lost(s->c) && set_up_session(s, err, sizeof(err)) == 0) {
		s->backoff_ms = 0;
		/* Rows committed while away were not announced. */
		s->news = true;
		return 0;
	}
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (s->backoff_ms > BACKOFF_MAX_MS)
		s->backoff_ms = BACKOFF_MAX_MS;
	s->next_try_ms = now_ms() + s->backoff_ms;
	drop_if_lost(s);
	return -EIO;
}

static void take_notifications(struct pg_store *s)
{
	PGnotify *n;

	while ((n = PQnotifies(s->c))) {
		s->news = true;
		PQfreemem(n);
	}
}

/* Runs prepared statement @name with text parameters (NULL: SQL NULL):
 * its result (rows when @rows), or NULL on failure, after noting a lost
 * connection. */
static PGresult *run(struct pg_store *s, const char *name, int n, const char *const *values, bool rows)
{
	PGresult *res;

	if (ensure(s) < 0)
		return NULL;
	res = PQexecPrepared(s->c, name, n, values, NULL, NULL, 0);
	if (!cde_pg_ok(res, rows)) {
		drop_if_lost(s);
		return NULL;
	}
	take_notifications(s);
	return res;
}

/* A command: 0 or -EIO. */
static int command(struct pg_store *s, const char *name, int n, const char *const *values)
{
	PGresult *res = run(s, name, n, values, false);

	PQclear(res);
	return res ? 0 : -EIO;
}

/* The number in the first column of the one row @name selects: 0,
 * -ENOENT (no row) or -EIO. */
static int number(struct pg_store *s, const char *name, int n, const char *const *values, uint64_t *ret)
{
	PGresult *res = run(s, name, n, values, true);
	int r = -EIO;

	if (!res)
		return r;
	r = PQntuples(res) == 0 ? -ENOENT : 0;
	if (r == 0)
		*ret = (uint64_t)cde_pg_int(res, 0, 0);
	PQclear(res);
	return r;
}

static void pg_close(void *impl)
{
	struct pg_store *s = impl;

	/* Ending the session releases its leases. */
	PQfinish(s->c);
	forget_leases(s);
	free(s->leases);
	free(s);
}

int cde_delivery_store_pg_open(const struct cde_pg_options *o, void **ret, char *err, size_t err_size)
{
	struct pg_store *s = calloc(1, sizeof(*s));
	int r;

	if (!s) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	s->fd = -1;
	r = cde_pg_connect(o, "cdeventsd delivery", &s->c, err, err_size);
	if (r == 0)
		r = set_up_session(s, err, err_size);
	if (r < 0) {
		pg_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

static uint64_t pg_head(void *impl)
{
	uint64_t v = 0;

	number(impl, "head", 0, NULL, &v);
	return v;
}

static void pg_received_at(void *impl, uint64_t seq, char *out, size_t size)
{
	char key[24];
	const char *values[] = { cde_pg_u64(seq, key) };
	PGresult *res = run(impl, "received_at", 1, values, true);

	if (!res)
		return;
	if (PQntuples(res) == 1)
		snprintf(out, size, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

static int pg_get_cursor(void *impl, enum cde_cursor_kind kind, const char *sink, uint64_t *ret)
{
	return number(impl, kind == CDE_CURSOR_SINK ? "cursor" : "witness", 1, &sink, ret);
}

static int pg_init_cursor(void *impl, enum cde_cursor_kind kind, const char *sink, uint64_t value)
{
	char v[24];
	const char *values[] = { sink, cde_pg_u64(value, v) };

	return command(impl, kind == CDE_CURSOR_SINK ? "init_cursor" : "init_witness", 2, values);
}

static int pg_set_witness_cursor(void *impl, const char *sink, uint64_t size)
{
	char v[24];
	const char *values[] = { sink, cde_pg_u64(size, v) };

	return command(impl, "set_witness", 2, values);
}

static uint64_t pg_latest_checkpoint(void *impl)
{
	uint64_t v = 0;

	number(impl, "latest_checkpoint", 0, NULL, &v);
	return v;
}

static int pg_forget_others(void *impl, const char *const *sinks, size_t n)
{
	size_t len = 1;
	char *list, *p;
	int r;

	for (size_t i = 0; i < n; i++)
		len += strlen(sinks[i]) + 1;
	list = p = malloc(len);
	if (!list)
		return -ENOMEM;
	*p = '\0';
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? "\n" : "", sinks[i]);
	r = command(impl, "forget", 1, (const char *const *)&list);
	free(list);
	return r;
}

static int pg_scan(void *impl, uint64_t after, unsigned limit, struct cde_scan_row *rows, unsigned *ret_n)
{
	char a[24], l[24];
	const char *values[] = { cde_pg_u64(after, a), cde_pg_u64(limit, l) };
	PGresult *res = run(impl, "scan", 2, values, true);
	unsigned n = 0, got;
	int r = 0;

	*ret_n = 0;
	if (!res)
		return -EIO;
	got = (unsigned)PQntuples(res);
	for (; n < got && n < limit; n++) {
		rows[n].seq = (uint64_t)cde_pg_int(res, (int)n, 0);
		snprintf(rows[n].received_at, sizeof(rows[n].received_at), "%s", PQgetvalue(res, (int)n, 2));
		rows[n].event = strdup(PQgetvalue(res, (int)n, 1));
		if (!rows[n].event) {
			r = -ENOMEM;
			break;
		}
	}
	PQclear(res);
	*ret_n = n;
	return r;
}

static int write_delivery(struct pg_store *s, const char *sink, const struct cde_pending_delivery *p)
{
	char seq[24], status[24];
	const char *values[] = { sink, cde_pg_u64(p->seq, seq), p->at, status, p->receipt };

	snprintf(status, sizeof(status), "%ld", p->status);
	return command(s, "delivered", 5, values);
}

static int pg_write(void *impl, const struct cde_delivery_batch *b)
{
	struct pg_store *s = impl;
	char err[256], v[24];
	int r;

	if (ensure(s) < 0)
		return -EIO;
	r = cde_pg_exec(s->c, "BEGIN", err, sizeof(err), "begin");
	s->in_tx = true;
	for (size_t i = 0; i < b->n_deliveries && r == 0; i++)
		r = write_delivery(s, b->sinks[b->deliveries[i].sink].name, &b->deliveries[i]);
	for (size_t i = 0; i < b->n_sinks && r == 0; i++) {
		const char *values[] = { b->sinks[i].name, cde_pg_u64(b->sinks[i].cursor, v) };

		if (b->sinks[i].dirty)
			r = command(s, "set_cursor", 2, values);
	}
	if (r == 0)
		r = cde_pg_exec(s->c, "COMMIT", err, sizeof(err), "commit");
	if (r < 0 && !cde_pg_lost(s->c))
		cde_pg_exec(s->c, "ROLLBACK", err, sizeof(err), "rollback");
	s->in_tx = false;
	drop_if_lost(s);
	return r < 0 ? -EIO : 0;
}

static int pg_dead(void *impl, const char *sink, uint64_t seq, unsigned attempts, const char *error, const char *at)
{
	char sq[24], n[24];
	const char *values[] = { sink, cde_pg_u64(seq, sq), cde_pg_u64(attempts, n), error, at };

	return command(impl, "dead", 5, values);
}

static uint64_t pg_dead_count(void *impl, const char *sink)
{
	uint64_t v = 0;

	number(impl, "dead_count", 1, &sink, &v);
	return v;
}

static int pg_replays(void *impl, const char *sink, size_t max, uint64_t *seqs, size_t *ret_n)
{
	char m[24];
	const char *values[] = { sink, cde_pg_u64(max, m) };
	PGresult *res = run(impl, "replays", 2, values, true);
	size_t n = 0;

	*ret_n = 0;
	if (!res)
		return -EIO;
	for (; n < max && n < (size_t)PQntuples(res); n++)
		seqs[n] = (uint64_t)cde_pg_int(res, (int)n, 0);
	PQclear(res);
	*ret_n = n;
	return 0;
}

static int pg_replay_done(void *impl, const char *sink, uint64_t seq)
{
	char sq[24];
	const char *values[] = { sink, cde_pg_u64(seq, sq) };

	return command(impl, "replay_done", 2, values);
}

/* The first column of the row @name selects for @key, into *@ret_a (the
 * caller frees it), and the second, if asked, into *@ret_b. Returns 0,
 * -ENOENT, -ENOMEM or -EIO. */
static int one_row(struct pg_store *s, const char *name, uint64_t key, char **ret_a, uint64_t *ret_b)
{
	char k[24];
	const char *values[] = { cde_pg_u64(key, k) };
	PGresult *res = run(s, name, 1, values, true);
	int r = -ENOENT;

	if (!res)
		return -EIO;
	if (PQntuples(res) == 1) {
		*ret_a = strdup(PQgetvalue(res, 0, 0));
		if (ret_b)
			*ret_b = (uint64_t)cde_pg_int(res, 0, 1);
		r = *ret_a ? 0 : -ENOMEM;
	}
	PQclear(res);
	return r;
}

static int pg_event(void *impl, uint64_t seq, char **ret_json)
{
	return one_row(impl, "event", seq, ret_json, NULL);
}

static int pg_checkpoint_after(void *impl, uint64_t after, uint64_t *ret_size, char **ret_note)
{
	return one_row(impl, "checkpoint_after", after, ret_note, ret_size);
}

static bool holds(const struct pg_store *s, const char *sink)
{
	for (size_t i = 0; i < s->n_leases; i++)
		if (strcmp(s->leases[i], sink) == 0)
			return true;
	return false;
}

/* Session locks nest: one already held is not asked for again, or each
 * ask would need its own unlock. */
static int pg_lease(void *impl, const char *sink, bool *held)
{
	struct pg_store *s = impl;
	char key[24];
	const char *values[] = { cde_pg_u64(CDE_PG_LOCK_SINKS, key), sink };
	char **more, *name;
	PGresult *res;
	bool got;

	*held = false;
	if (ensure(s) < 0)
		return -EIO;
	if (holds(s, sink)) {
		*held = true;
		return 0;
	}
	res = run(s, "lease", 2, values, true);
	if (!res)
		return -EIO;
	got = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!got)
		return 0;
	name = strdup(sink);
	more = name ? realloc(s->leases, (s->n_leases + 1) * sizeof(*more)) : NULL;
	if (!more) {
		/* Not kept, so not held: let it go for another replica. */
		PQclear(run(s, "unlease", 2, values, true));
		free(name);
		return -ENOMEM;
	}
	s->leases = more;
	s->leases[s->n_leases++] = name;
	*held = true;
	return 0;
}

static void pg_watch(void *impl, void (*fn)(void *ctx, int fd), void *ctx)
{
	struct pg_store *s = impl;

	s->watch = fn;
	s->watch_ctx = ctx;
	if (fn && s->fd >= 0)
		fn(ctx, s->fd);
}

static bool pg_news(void *impl)
{
	struct pg_store *s = impl;
	bool news;

	if (s->ready) {
		if (PQconsumeInput(s->c))
			take_notifications(s);
		else
			drop_if_lost(s);
	}
	news = s->news;
	s->news = false;
	return news;
}

static int pg_check(void *impl)
{
	uint64_t head;

	/* A query, since a session whose server went away only says so
	 * when used. */
	return number(impl, "head", 0, NULL, &head) == 0 ? 0 : -EIO;
}

const struct cde_delivery_store_ops cde_delivery_store_pg_ops = {
	.name = "postgres",
	.close = pg_close,
	.head = pg_head,
	.received_at = pg_received_at,
	.get_cursor = pg_get_cursor,
	.init_cursor = pg_init_cursor,
	.set_witness_cursor = pg_set_witness_cursor,
	.latest_checkpoint = pg_latest_checkpoint,
	.forget_others = pg_forget_others,
	.scan = pg_scan,
	.write = pg_write,
	.dead = pg_dead,
	.dead_count = pg_dead_count,
	.replays = pg_replays,
	.replay_done = pg_replay_done,
	.event = pg_event,
	.checkpoint_after = pg_checkpoint_after,
	.lease = pg_lease,
	.watch = pg_watch,
	.news = pg_news,
	.check = pg_check,
};
