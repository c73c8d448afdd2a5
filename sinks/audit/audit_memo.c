/* The writer's memo of correlation answers (see audit_memo.h): two
 * direct-mapped tables of fixed slots, subject -> (chain, seq) and
 * chain -> latest id, a slot per hash of the key, a newer key replacing
 * an older one in its slot. No allocation after the first. */

#include "sinks/audit/audit_memo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 512
/* Keys and values longer than this are not kept (ids are UUIDs). */
#define TEXT_MAX 96

struct slot {
	char key[TEXT_MAX];
	char value[TEXT_MAX];
	uint64_t seq;
};

struct cde_audit_memo {
	struct slot subjects[SLOTS], chains[SLOTS];
};

struct cde_audit_memo *cde_audit_memo_new(void)
{
	return calloc(1, sizeof(struct cde_audit_memo));
}

void cde_audit_memo_free(struct cde_audit_memo *m)
{
	free(m);
}

static struct slot *slot_of(struct slot *table, const char *key)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return &table[h % SLOTS];
}

/* @key's slot now says @value (and @seq); a value too long to keep
 * empties the slot if it held @key, which it no longer answers. */
static void put(struct slot *table, const char *key, const char *value, uint64_t seq)
{
	struct slot *s;

	if (strlen(key) >= TEXT_MAX)
		return;	/* never kept, so never stale */
	s = slot_of(table, key);
	if (strlen(value) >= TEXT_MAX) {
		if (strcmp(s->key, key) == 0)
			s->key[0] = '\0';
		return;
	}
	memcpy(s->key, key, strlen(key) + 1);
	memcpy(s->value, value, strlen(value) + 1);
	s->seq = seq;
}

static bool get(const struct slot *table, const char *key, char *out, size_t size, uint64_t *seq)
{
	const struct slot *s;

	if (!key[0] || strlen(key) >= TEXT_MAX)
		return false;
	s = slot_of((struct slot *)table, key);
	if (strcmp(s->key, key) != 0)
		return false;
	snprintf(out, size, "%s", s->value);
	if (seq)
		*seq = s->seq;
	return true;
}

void cde_audit_memo_row(struct cde_audit_memo *m, const char *subject, const char *chain, bool own,
			const char *id, uint64_t seq)
{
	if (!m || !chain)
		return;
	if (subject && subject[0] && !own)
		put(m->subjects, subject, chain, seq);
	if (chain[0])
		put(m->chains, chain, id ? id : "", seq);
}

bool cde_audit_memo_subject(const struct cde_audit_memo *m, const char *subject, char *out, size_t size,
			    uint64_t *seq)
{
	return m && get(m->subjects, subject, out, size, seq);
}

bool cde_audit_memo_chain(const struct cde_audit_memo *m, const char *chain, char *out, size_t size)
{
	return m && get(m->chains, chain, out, size, NULL);
}

void cde_audit_memo_subject_read(struct cde_audit_memo *m, const char *subject, const char *chain,
				 size_t out_size, uint64_t seq)
{
	if (m && subject[0] && strlen(chain) + 1 < out_size)
		put(m->subjects, subject, chain, seq);
}

void cde_audit_memo_chain_read(struct cde_audit_memo *m, const char *chain, const char *id, size_t out_size)
{
	if (m && chain[0] && strlen(id) + 1 < out_size)
		put(m->chains, chain, id, 0);
}

void cde_audit_memo_forget(struct cde_audit_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < SLOTS; i++)
		m->subjects[i].key[0] = m->chains[i].key[0] = '\0';
}
