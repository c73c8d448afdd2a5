#pragma once
/* The decisions GET /v1/gates wrote lately, so that a step polling a
 * gate (a soak of 24 h, asked every 10 s) does not add one decision
 * event per question: the same principal asking about the same artifact
 * and environment, answered the same on the same evidence within
 * CDE_GATE_MEMO_SECONDS of the decision on record, is answered with that
 * decision. A fixed table indexed by the question: a collision only
 * evicts, which costs one more event, never a wrong answer. */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "events/ids.h"
#include "sinks/audit/answers/gate_rules.h"

#define CDE_GATE_MEMO_SLOTS 128
#define CDE_GATE_MEMO_SECONDS 900

struct cde_gate_memo_slot {
	uint8_t question[32];		/* SHA-256 of principal, environment, artifact */
	uint8_t answer[32];		/* SHA-256 of the answer but its reasons' words */
	time_t at;			/* when its event was committed (0: empty) */
	uint64_t seq;			/* its event's */
	char id[CDE_UUID_STR_LEN];	/* the daemon's own: a UUIDv7 */
};

struct cde_gate_memo {
	struct cde_gate_memo_slot slots[CDE_GATE_MEMO_SLOTS];
};

/* The decision on record for @result (as cde_gate_evaluate made it of
 * @gate, whose `from` is part of the question) asked by @principal, when
 * one was committed at most CDE_GATE_MEMO_SECONDS before @now with the
 * same decision and the same requirements, each met or not on the same
 * evidence (the reasons' words, which count seconds, are left out); else
 * NULL. */
const struct cde_gate_memo_slot *cde_gate_memo_find(const struct cde_gate_memo *m, const char *principal,
						     const struct cde_gate *gate, const cJSON *result, time_t now);

/* Keeps the decision @result of @gate for @principal, committed at @now
 * as event @id with @seq. Returns 0, -EINVAL (@result names no environment or
 * artifact) or -ENOMEM; then nothing is kept. */
int cde_gate_memo_keep(struct cde_gate_memo *m, const char *principal, const struct cde_gate *gate,
		       const cJSON *result, time_t now, const char *id, uint64_t seq);
