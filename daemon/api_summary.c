/* The answer to an ingest once the journal has committed it: per event
 * its id, type and chain, then its seq and leaf (what a receipt proves)
 * or that it was a duplicate. Written as text straight away: building a
 * cJSON tree and printing it (each number printed twice to check it) was
 * in the ingest profile, once per accepted hook. */

#include "daemon/api_internal.h"

#include <stdlib.h>
#include <string.h>

#include "events/event.h"
#include "schemas/base/json_strict.h"
#include "sinks/audit/tlog/note_text.h"

struct text {
	char *data;
	size_t len, cap;
	bool failed;
};

static void put(struct text *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (n >= t->cap - t->len) {
		size_t cap = t->cap ? t->cap : 256;
		char *p;

		while (n >= cap - t->len)
			cap *= 2;
		p = realloc(t->data, cap);
		if (!p) {
			t->failed = true;
			return;
		}
		t->data = p;
		t->cap = cap;
	}
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = '\0';
}

/* ,"@key": and @s quoted with the escapes cJSON writes. */
static void put_member(struct text *t, const char *key, const char *s)
{
	size_t run = 0, i = 0;

	put(t, ",\"", 2);
	put(t, key, strlen(key));
	put(t, "\":\"", 3);
	for (; s[i]; i++) {
		char esc[6];
		size_t n = cde_json_escape((unsigned char)s[i], esc);

		if (!n)
			continue;
		put(t, s + run, i - run);
		put(t, esc, n);
		run = i + 1;
	}
	put(t, s + run, i - run);
	put(t, "\"", 1);
}

static void put_count(struct text *t, const char *key, unsigned long long v)
{
	char digits[24], *p = digits + sizeof(digits);

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put(t, ",\"", 2);
	put(t, key, strlen(key));
	put(t, "\":", 2);
	put(t, p, (size_t)(digits + sizeof(digits) - p));
}

static void put_event(struct text *t, const struct cde_journal_entry *e)
{
	const char *chain = cde_event_chain_id(e->event), *id = cde_event_id(e->event);
	const char *type = cde_event_type(e->event);
	char leaf[48];

	/* The first member's comma is cut below: '{' takes its place. */
	size_t open = t->len;

	put_member(t, "id", id ? id : "");
	if (!t->failed)
		t->data[open] = '{';
	put_member(t, "type", type ? type : "");
	if (chain && !e->duplicate)
		put_member(t, "chainId", chain);
	if (e->duplicate) {
		put(t, ",\"duplicate\":true}", 18);
		return;
	}
	put_count(t, "seq", e->seq);
	put_count(t, "leafIndex", e->leaf);
	cde_b64_encode(leaf, e->leaf_hash, sizeof(e->leaf_hash));
	put_member(t, "leafHash", leaf);
	put(t, "}", 1);
}

char *cde_api_summary_text(const struct cde_journal_entry *entries, size_t n)
{
	struct text t = { 0 };

	if (n != 1)
		put(&t, "{\"events\":[", 11);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			put(&t, ",", 1);
		put_event(&t, &entries[i]);
	}
	if (n != 1)
		put(&t, "]}", 2);
	if (t.failed) {
		free(t.data);
		return NULL;
	}
	return t.data;
}
