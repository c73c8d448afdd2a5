/* The chains of the log, newest first (chain_list.h). The log has no
 * table of chains: a page is found by reading events newest first and
 * keeping each chain the first time it appears, until the page is full.
 * A later page starts below the last chain's event, so a chain met again
 * there (an older event of a chain already listed) is recognised by its
 * latest matching event, at or after the page's start, and left out.
 * The log grows while a client pages: the first page says its head, and
 * later pages read nothing above it, so a chain that gets a new event
 * meanwhile is still judged by where it stood (else it would count as
 * shown and be on no page). Reads are in batches, never one inside
 * another: a source may hold one result at a time (PostgreSQL). */

#include "sinks/audit/answers/chain_list.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/audit/answers/answer_index.h"
#include "sinks/audit/answers/answer_list.h"

#define BATCH 1000
#define TIME_MAX 40

struct chain_row {
	char *id;
	uint64_t matched;	/* its latest matching event: the first met */
	bool checked;		/* known to start on this page or not */
	bool earlier;		/* listed on an earlier page */
};

struct scan {
	const struct cde_chain_list_params *p;
	uint64_t head;		/* the last event placing chains: p->head, a first page's first
				 * event, or 0 (no bound) */
	struct cde_answer_index seen;
	struct chain_row *rows;
	size_t n, cap;
	size_t unchecked;	/* rows met in this batch, not yet checked */
	size_t wanted;		/* rows to find in this batch before stopping */
	uint64_t cursor;	/* the last event read */
	uint64_t scanned, in_batch;
	int error;
};

/* The chain of a record, NULL for none: the column the stores give, so
 * a row is neither read whole nor parsed (no_event: 300 events of 900
 * KiB took 860 ms); the event's context.chainId from a source that does
 * not say, parsed into *@doc. */
static const char *chain_of(const struct cde_audit_record *rec, cJSON **doc)
{
	const cJSON *id;

	*doc = NULL;
	if (rec->chain_id)
		return rec->chain_id[0] ? rec->chain_id : NULL;
	*doc = cJSON_Parse(rec->event);
	id = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(*doc, "context"), "chainId");
	return cJSON_IsString(id) && id->valuestring[0] ? id->valuestring : NULL;
}

static int on_event(void *ctx, const struct cde_audit_record *rec)
{
	struct scan *s = ctx;
	struct chain_row *grown;
	cJSON *doc;
	const char *chain;
	size_t at;
	char *id;

	s->cursor = rec->seq;
	/* A first page's head: its first event, the latest placing a chain
	 * (a later one without a head is not bounded: as before heads). */
	if (!s->p->after && !s->head)
		s->head = rec->seq;
	s->scanned++;
	s->in_batch++;
	chain = chain_of(rec, &doc);
	if (!chain || cde_answer_index_find(&s->seen, chain, &at)) {
		cJSON_Delete(doc);
		return 0;
	}
	id = strdup(chain);
	cJSON_Delete(doc);
	grown = id ? cde_answer_grow(s->rows, &s->cap, s->n, sizeof(*s->rows)) : NULL;
	if (!grown || cde_answer_index_add(&s->seen, id, s->n) < 0) {
		free(id);
		if (grown)
			s->rows = grown;
		return s->error = -ENOMEM;
	}
	s->rows = grown;
	s->rows[s->n++] = (struct chain_row){ .id = id, .matched = rec->seq, .checked = !s->p->after };
	s->unchecked += !!s->p->after;
	/* Enough for the page: stop reading (1 is no error). */
	return --s->wanted == 0 ? 1 : 0;
}

/* The first seq above the head: where reading starts below it (0: no
 * bound; a head of INT64_MAX bounds nothing a store can hold). */
static uint64_t above_head(const struct scan *s)
{
	return s->head && s->head < INT64_MAX ? s->head + 1 : 0;
}

struct latest {
	uint64_t seq;
	uint64_t *scanned;
};

static int on_latest(void *ctx, const struct cde_audit_record *rec)
{
	struct latest *l = ctx;

	l->seq = rec->seq;
	(*l->scanned)++;
	return 1;
}

/* Which of the rows met in the last batch were listed on an earlier
 * page: their latest matching event up to the head is at or after the
 * page's start. One read per chain, its row counted against scan_max
 * (the stores read it on the chain's index). */
static int check_earlier(struct scan *s, const struct cde_audit_source *src)
{
	for (size_t i = 0; i < s->n; i++) {
		struct chain_row *row = &s->rows[i];
		struct cde_audit_filter f = s->p->filter;
		struct latest latest = { .scanned = &s->scanned };
		int r;

		if (row->checked)
			continue;
		f.chain_id = row->id;
		f.no_event = true;
		f.after = above_head(s);
		f.descending = true;
		f.limit = 1;
		r = src->query(src->ctx, &f, on_latest, &latest);
		if (r < 0)
			return r;
		row->checked = true;
		row->earlier = latest.seq >= s->p->after;
	}
	s->unchecked = 0;
	return 0;
}

static size_t listed(const struct scan *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->rows[i].checked && !s->rows[i].earlier;
	return n;
}

/* Reads until the page is full, the log is read, or scan_max is reached;
 * *@ret_more says whether the log may hold more below the cursor. */
static int find(struct scan *s, const struct cde_audit_source *src, bool *ret_more)
{
	uint64_t scan_max = s->p->scan_max ? s->p->scan_max : CDE_CHAIN_LIST_SCAN_MAX;
	int r = 0;

	s->cursor = s->p->after ? s->p->after : above_head(s);
	*ret_more = true;
	while (r == 0 && listed(s) < s->p->limit && s->scanned < scan_max) {
		struct cde_audit_filter f = s->p->filter;
		uint64_t room = scan_max - s->scanned;

		f.chain_id = NULL;
		f.no_event = true;
		f.after = s->cursor;
		f.descending = true;
		f.limit = room < BATCH ? room : BATCH;
		s->wanted = s->p->limit - listed(s);
		s->in_batch = 0;
		r = src->query(src->ctx, &f, on_event, s);
		if (r == 1)
			r = 0;
		else if (r == 0 && s->in_batch < f.limit)
			*ret_more = false;
		if (r == 0)
			r = s->error;
		if (r == 0 && s->unchecked)
			r = check_earlier(s, src);
		if (!*ret_more)
			break;
	}
	return r;
}

/* The first or last event of a chain: its seq and when the log took it. */
struct edge {
	uint64_t seq;
	char at[TIME_MAX];
};

static int on_edge(void *ctx, const struct cde_audit_record *rec)
{
	struct edge *e = ctx;

	e->seq = rec->seq;
	snprintf(e->at, sizeof(e->at), "%s", rec->received_at ? rec->received_at : "");
	return 1;
}

static int edge_of(const struct cde_audit_source *src, const char *chain, bool last, struct edge *e)
{
	struct cde_audit_filter f = { .chain_id = chain, .descending = last, .limit = 1, .no_event = true };
	int r;

	*e = (struct edge){ 0 };
	r = src->query(src->ctx, &f, on_edge, e);
	return r == 1 ? 0 : r;
}

static int add_row(cJSON *list, const struct cde_audit_source *src, const struct chain_row *row)
{
	struct edge first, last;
	cJSON *o;
	int r = edge_of(src, row->id, false, &first);

	if (r == 0)
		r = edge_of(src, row->id, true, &last);
	if (r < 0)
		return r;
	o = cJSON_CreateObject();
	if (!o || !cJSON_AddItemToArray(list, o)) {
		cJSON_Delete(o);
		return -ENOMEM;
	}
	return cJSON_AddStringToObject(o, "chainId", row->id) &&
	       cJSON_AddNumberToObject(o, "matchedSeq", (double)row->matched) &&
	       cJSON_AddNumberToObject(o, "firstSeq", (double)first.seq) &&
	       cJSON_AddStringToObject(o, "firstReceivedAt", first.at) &&
	       cJSON_AddNumberToObject(o, "lastSeq", (double)last.seq) &&
	       cJSON_AddStringToObject(o, "lastReceivedAt", last.at) ? 0 : -ENOMEM;
}

/* @seq as @name, null for 0. */
static bool add_seq(cJSON *o, const char *name, uint64_t seq)
{
	return seq ? cJSON_AddNumberToObject(o, name, (double)seq) != NULL : cJSON_AddNullToObject(o, name) != NULL;
}

/* The page: the rows found, newest first, and where the next one starts:
 * below the last chain listed when the page is full, else below the last
 * event read when reading stopped short of the log's start. */
static int page(const struct scan *s, const struct cde_audit_source *src, bool more, cJSON **ret)
{
	cJSON *o = cJSON_CreateObject(), *list = o ? cJSON_AddArrayToObject(o, "chains") : NULL;
	uint64_t next = 0, shown = 0;
	int r = list ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < s->n && shown < s->p->limit; i++) {
		if (s->rows[i].earlier)
			continue;
		r = add_row(list, src, &s->rows[i]);
		next = s->rows[i].matched;
		shown++;
	}
	if (r == 0 && shown < s->p->limit)
		next = more ? s->cursor : 0;
	if (r == 0 && !(add_seq(o, "nextAfter", next) && add_seq(o, "head", s->head) &&
			cJSON_AddNumberToObject(o, "scanned", (double)s->scanned)))
		r = -ENOMEM;
	if (r < 0) {
		cJSON_Delete(o);
		return r;
	}
	*ret = o;
	return 0;
}

int cde_chain_list(const struct cde_audit_source *src, const struct cde_chain_list_params *p, cJSON **ret)
{
	struct scan s = { .p = p, .head = p->head };
	bool more = false;
	int r;

	/* A head below after is no head a first page answered. */
	if (!p->limit || p->limit > CDE_CHAIN_LIST_MAX || (p->head && p->after > p->head))
		return -EINVAL;
	cde_answer_index_init(&s.seen);
	r = find(&s, src, &more);
	if (r == 0)
		r = page(&s, src, more, ret);
	cde_answer_index_release(&s.seen);
	for (size_t i = 0; i < s.n; i++)
		free(s.rows[i].id);
	free(s.rows);
	return r;
}
