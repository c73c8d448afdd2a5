/* Checking evidence bundles (written by audit_bundle_export.c). The
 * verifier recomputes each hash from the bundle's own bytes: the event is
 * the last member of its line, so its exact stored text is the rest of
 * the line after "event":, never a reprint that could differ in a byte.
 * Without the key a bundle only shows that it is internally consistent;
 * with it, the checkpoints tie it to the daemon that wrote the log. */

#include "sinks/audit/audit_bundle.h"
#include "sinks/audit/audit_bundle_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>

#define LINE_MAX_BYTES (4u << 20)

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static uint64_t num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	/* 2^64 and beyond do not fit (the cast would be undefined): a
	 * crafted bundle gets 0, which no check accepts. */
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 18446744073709551616.0
		       ? (uint64_t)v->valuedouble : 0;
}

static int broken(struct cde_audit_verify *out, uint64_t seq, const char *why)
{
	out->bad_seq = seq;
	snprintf(out->reason, sizeof(out->reason), "%s", why);
	return -EBADMSG;
}

/* The checkpoints of a bundle, and where the records say one is due
 * (seq | EXPECTED, with the chain's hash there). */
#define EXPECTED (1ull << 63)

struct checkpoint {
	uint64_t seq;
	uint8_t hash[CDE_HASH_LEN], mac[CDE_HASH_LEN];
};

static struct checkpoint *push(struct checkpoint **cps, size_t *n, size_t *cap)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct checkpoint *m = realloc(*cps, ncap * sizeof(**cps));

		if (!m)
			return NULL;
		*cps = m;
		*cap = ncap;
	}
	memset(&(*cps)[*n], 0, sizeof(**cps));
	return &(*cps)[(*n)++];
}

/* Steps over a loss record: it must start where the chain is, follow its
 * hash, and, with the key, carry the daemon's signature. */
static int step_gap(const cJSON *j, const uint8_t *key, size_t key_len, uint64_t *expect,
		    uint8_t prev[CDE_HASH_LEN], struct cde_audit_verify *out)
{
	struct cde_audit_gap g = { .first = num(j, "first"), .last = num(j, "last"), .at = str(j, "at"),
				   .reason = str(j, "reason") };
	uint8_t stored_prev[CDE_HASH_LEN], stored[CDE_HASH_LEN], hash[CDE_HASH_LEN], mac[CDE_HASH_LEN];

	if (!g.at || !g.reason || cde_hash_from_hex(str(j, "prev"), stored_prev) < 0 ||
	    cde_hash_from_hex(str(j, "hash"), stored) < 0 || g.last < g.first)
		return broken(out, g.first, "a loss record is incomplete");
	if (g.first != *expect || out->rows == 0 || memcmp(stored_prev, prev, CDE_HASH_LEN) != 0)
		return broken(out, g.first, "a loss record does not follow the record before");
	cde_audit_gap_hash(&g, prev, hash);
	if (memcmp(hash, stored, CDE_HASH_LEN) != 0)
		return broken(out, g.first, "a loss record's content does not match its hash");
	if (key && (cde_audit_gap_mac(key, key_len, hash, mac),
		    cde_hash_from_hex(str(j, "mac"), stored) < 0 || CRYPTO_memcmp(mac, stored, CDE_HASH_LEN) != 0))
		return broken(out, g.first, "a loss record is not signed with the key");
	if (out->n_lost < CDE_AUDIT_LOST_MAX) {
		out->lost_first[out->n_lost] = g.first;
		out->lost_last[out->n_lost] = g.last;
	}
	out->n_lost++;
	memcpy(prev, hash, CDE_HASH_LEN);
	*expect = g.last + 1;
	return 0;
}

/* Where a verification is, line after line. */
struct verify {
	const uint8_t *key;
	size_t key_len;
	unsigned every;
	const struct cde_audit_bundle_hooks *hooks;	/* NULL: proofs are passed over */
	struct cde_audit_verify *out;
	struct checkpoint *cps;
	size_t n_cps, cap_cps;
	uint8_t prev[CDE_HASH_LEN];	/* the chain's hash so far */
	uint64_t first, last, head_seq, expect;
	char head_hash[CDE_HASH_HEX_LEN];
	bool have_header;
};

static int read_header(struct verify *v, const cJSON *o)
{
	if (num(o, "cdeventsdAuditBundle") != 1 || !str(o, "headHash"))
		return -EINVAL;
	v->first = num(o, "firstSeq");
	v->last = num(o, "lastSeq");
	v->head_seq = num(o, "headSeq");
	snprintf(v->head_hash, sizeof(v->head_hash), "%s", str(o, "headHash"));
	v->expect = v->first;
	v->have_header = true;
	return 0;
}

static int read_checkpoint(struct verify *v, const cJSON *c)
{
	struct checkpoint *cp = push(&v->cps, &v->n_cps, &v->cap_cps);

	if (!cp)
		return -ENOMEM;
	cp->seq = num(c, "seq");
	if (cde_hash_from_hex(str(c, "hash"), cp->hash) < 0 || cde_hash_from_hex(str(c, "mac"), cp->mac) < 0)
		return broken(v->out, cp->seq, "a checkpoint is unreadable");
	return 0;
}

/* Checkpoints come after the records: remember the chain's hash where
 * one is due, as a placeholder. */
static int expect_checkpoint(struct verify *v, uint64_t seq, const uint8_t hash[CDE_HASH_LEN])
{
	struct checkpoint *c;

	if (!v->key || !v->every || seq % v->every != 0)
		return 0;
	c = push(&v->cps, &v->n_cps, &v->cap_cps);
	if (!c)
		return -ENOMEM;
	c->seq = seq | EXPECTED;
	memcpy(c->hash, hash, CDE_HASH_LEN);
	return 0;
}

/* Steps over a record: the next seq, following the chain, its hash
 * recomputed from the line's own bytes (@line, @len long, is cut). */
static int step_record(struct verify *v, const cJSON *o, char *line, size_t len)
{
	const char *at = strstr(line, ",\"event\":");
	struct cde_audit_row row = {
		.seq = num(o, "seq"), .id = str(o, "id"), .source = str(o, "source"),
		.type = str(o, "type"), .subject = str(o, "subject"), .chain_id = str(o, "chainId"),
		.artifact_id = str(o, "artifactId"), .timestamp = str(o, "timestamp"),
		.received_at = str(o, "receivedAt"), .spec_version = str(o, "specVersion"),
		.principal = str(o, "principal"), .peer = str(o, "peer"),
	};
	uint8_t stored[CDE_HASH_LEN], stored_prev[CDE_HASH_LEN], hash[CDE_HASH_LEN];
	int r = 0;

	/* The event as stored: everything after the last "event": up to
	 * the line's closing brace. */
	for (const char *p = at; p; p = strstr(p + 1, ",\"event\":"))
		at = p;
	if (!at || line[len - 1] != '}' || cde_hash_from_hex(str(o, "hash"), stored) < 0 ||
	    cde_hash_from_hex(str(o, "prevHash"), stored_prev) < 0)
		return broken(v->out, row.seq, "a record is incomplete");
	if (row.seq != v->expect)
		return broken(v->out, v->expect, "records are missing or out of order");
	line[len - 1] = '\0';
	row.event = at + 9;
	if (row.seq == v->first)
		memcpy(v->prev, stored_prev, CDE_HASH_LEN);
	if (memcmp(stored_prev, v->prev, CDE_HASH_LEN) != 0)
		r = broken(v->out, row.seq, "prevHash is not the hash of the record before");
	cde_audit_row_hash(&row, v->prev, hash);
	if (r == 0 && memcmp(hash, stored, CDE_HASH_LEN) != 0)
		r = broken(v->out, row.seq, "the record's content does not match its hash");
	if (r == 0 && v->hooks)
		r = v->hooks->record(v->hooks->ctx, &row);
	memcpy(v->prev, hash, CDE_HASH_LEN);
	v->out->rows++;
	v->out->head_seq = row.seq;
	v->expect++;
	return r == 0 ? expect_checkpoint(v, row.seq, hash) : r;
}

/* One line of the bundle (@len long, without its newline). */
static int verify_line(struct verify *v, char *line, size_t len)
{
	cJSON *o = cJSON_Parse(line);
	const cJSON *gap, *checkpoint;
	int r;

	if (!o)
		return broken(v->out, 0, "a line is not JSON");
	gap = cJSON_GetObjectItemCaseSensitive(o, "gap");
	checkpoint = cJSON_GetObjectItemCaseSensitive(o, "checkpoint");
	if (!v->have_header)
		r = read_header(v, o);
	else if (gap)
		r = step_gap(gap, v->key, v->key_len, &v->expect, v->prev, v->out);
	else if (checkpoint)
		r = read_checkpoint(v, checkpoint);
	else if (cde_audit_bundle_is_proof(o))
		r = v->hooks ? v->hooks->proof(v->hooks->ctx, o) : 0;
	else
		r = step_record(v, o, line, len);
	cJSON_Delete(o);
	return r;
}

/* After the last line: the records reach the header's last seq and, when
 * that is the head, its hash. */
static int check_end(struct verify *v)
{
	struct cde_audit_verify *out = v->out;

	if (!v->have_header)
		return -EINVAL;
	if (v->first && out->head_seq != v->last)
		return broken(out, out->head_seq + 1, "records are missing at the end");
	if (v->first)
		cde_hash_to_hex(v->prev, out->head_hash);
	if (v->last && v->last == v->head_seq && strcmp(out->head_hash, v->head_hash) != 0)
		return broken(out, v->last, "the last record is not the head the header names");
	return 0;
}

/* Each expected checkpoint (placeholder) needs a real one with the same
 * seq, the same chain hash and a MAC made with the key. */
static int check_checkpoints(struct verify *v)
{
	for (size_t i = 0; v->key && i < v->n_cps; i++) {
		uint64_t seq;
		bool found = false;

		if (!(v->cps[i].seq & EXPECTED))
			continue;
		seq = v->cps[i].seq & ~EXPECTED;
		for (size_t k = 0; k < v->n_cps && !found; k++) {
			const struct checkpoint *cp = &v->cps[k];
			uint8_t mac[CDE_HASH_LEN];

			if (cp->seq != seq)
				continue;
			found = true;
			cde_audit_checkpoint_mac(v->key, v->key_len, seq, cp->hash, mac);
			if (CRYPTO_memcmp(mac, cp->mac, CDE_HASH_LEN) != 0)
				return broken(v->out, seq, "the checkpoint's HMAC is wrong: forged, or another key");
			if (memcmp(cp->hash, v->cps[i].hash, CDE_HASH_LEN) != 0)
				return broken(v->out, seq, "the records up to here do not match their checkpoint");
			v->out->checkpoints++;
		}
		if (!found)
			return broken(v->out, seq, "the checkpoint after this record is missing");
	}
	return 0;
}

int cde_audit_bundle_walk(FILE *in, const uint8_t *key, size_t key_len, unsigned every,
			  const struct cde_audit_bundle_hooks *hooks, struct cde_audit_verify *out)
{
	struct verify v = { .key = key, .key_len = key_len, .every = every, .hooks = hooks, .out = out };
	char *line = malloc(LINE_MAX_BYTES);
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!line)
		return -ENOMEM;
	while (r == 0 && fgets(line, LINE_MAX_BYTES, in)) {
		size_t len = strlen(line);

		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len)
			r = verify_line(&v, line, len);
	}
	free(line);
	if (r == 0)
		r = check_end(&v);
	if (r == 0)
		r = check_checkpoints(&v);
	free(v.cps);
	return r;
}

int cde_audit_bundle_verify(FILE *in, const uint8_t *key, size_t key_len, unsigned every,
			    struct cde_audit_verify *out)
{
	return cde_audit_bundle_walk(in, key, key_len, every, NULL, out);
}
