/* Recent gate decisions (gate_memo.h): two SHA-256 digests per question,
 * one naming it, one of its answer, in a table the question's digest
 * indexes. Digests rather than copies: a slot is a fixed size whatever
 * the purl or the number of requirements. */

#include "daemon/gate_memo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "schemas/base/sha256.h"

/* Whose evidence the gate took: a reload that changes `from` changes
 * the question, though the answer may read the same. */
static bool digest_from(EVP_MD_CTX *ctx, const struct cde_gate *gate)
{
	for (size_t i = 0; gate && i < gate->n_from; i++)
		if (!EVP_DigestUpdate(ctx, gate->from[i], strlen(gate->from[i]) + 1))
			return false;
	return EVP_DigestUpdate(ctx, "", 1);
}

static bool digest_question(const char *principal, const struct cde_gate *gate, const cJSON *result,
			    uint8_t out[32])
{
	const char *env = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "environment"));
	const char *artifact = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "artifact"));
	EVP_MD_CTX *ctx;
	bool ok;

	if (!env || !artifact || !(ctx = EVP_MD_CTX_new()))
		return false;
	/* NUL-terminated fields: none holds a NUL, so no two questions
	 * make the same bytes. */
	ok = EVP_DigestInit_ex(ctx, cde_sha256_md(), NULL) && EVP_DigestUpdate(ctx, principal, strlen(principal) + 1) &&
	     EVP_DigestUpdate(ctx, env, strlen(env) + 1) && EVP_DigestUpdate(ctx, artifact, strlen(artifact) + 1) &&
	     digest_from(ctx, gate) && EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* The answer as cJSON prints it, without the reasons and the event. */
static bool digest_answer(const cJSON *result, uint8_t out[32])
{
	cJSON *copy = cJSON_Duplicate(result, true), *row;
	char *text = NULL;
	bool ok = false;

	if (!copy)
		return false;
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "event");
	cJSON_ArrayForEach(row, cJSON_GetObjectItemCaseSensitive(copy, "requirements"))
		cJSON_DeleteItemFromObjectCaseSensitive(row, "reason");
	text = cJSON_PrintUnformatted(copy);
	if (text)
		ok = cde_sha256(text, strlen(text), out) == 0;
	cJSON_free(text);
	cJSON_Delete(copy);
	return ok;
}

static size_t slot_of(const uint8_t question[32])
{
	return ((size_t)question[0] << 8 | question[1]) % CDE_GATE_MEMO_SLOTS;
}

const struct cde_gate_memo_slot *cde_gate_memo_find(const struct cde_gate_memo *m, const char *principal,
						     const struct cde_gate *gate, const cJSON *result, time_t now)
{
	uint8_t question[32], answer[32];
	const struct cde_gate_memo_slot *s;

	if (!digest_question(principal, gate, result, question))
		return NULL;
	s = &m->slots[slot_of(question)];
	/* A clock set back makes now < at: not taken as recent. */
	if (!s->at || now < s->at || now - s->at > CDE_GATE_MEMO_SECONDS ||
	    memcmp(s->question, question, sizeof(question)) != 0 || !digest_answer(result, answer) ||
	    memcmp(s->answer, answer, sizeof(answer)) != 0)
		return NULL;
	return s;
}

int cde_gate_memo_keep(struct cde_gate_memo *m, const char *principal, const struct cde_gate *gate,
		       const cJSON *result, time_t now, const char *id, uint64_t seq)
{
	uint8_t question[32], answer[32];
	struct cde_gate_memo_slot *s;

	if (!cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "environment")) ||
	    !cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(result, "artifact")))
		return -EINVAL;
	if (!digest_question(principal, gate, result, question) || !digest_answer(result, answer))
		return -ENOMEM;
	s = &m->slots[slot_of(question)];
	memcpy(s->question, question, sizeof(question));
	memcpy(s->answer, answer, sizeof(answer));
	s->at = now;
	s->seq = seq;
	snprintf(s->id, sizeof(s->id), "%s", id);
	return 0;
}
