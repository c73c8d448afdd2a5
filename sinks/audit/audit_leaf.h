#pragma once
/* A leaf of the audit log's Merkle tree hashed ahead of its seq.
 *
 * An entry's JCS text (audit_tree.h) ends with its seq, the only field the
 * writer thread decides: {"event": ..., "peer": ..., "principal": ...,
 * "receivedAt": ..., "seq": S}. So everything before S can be parsed,
 * canonicalised and hashed on the loop thread when the event is queued,
 * and the writer only feeds S and "}" to a copy of that SHA-256 state:
 * the same bytes, the same leaf, at a fraction of the writer's time. */

#include <stdint.h>

#include <cjson/cJSON.h>
#include <openssl/types.h>

#include "sinks/audit/audit_chain.h"
#include "sinks/audit/tlog/merkle.h"

struct cde_audit_leaf_ahead;

/* Hashes @row's entry up to its seq (row->seq is not read) into a new
 * *@ret. Returns 0, or what cde_audit_tree_entry returns (-EINVAL,
 * -ENOMEM): the writer then makes the leaf from the row itself. */
int cde_audit_leaf_ahead_new(const struct cde_audit_row *row, struct cde_audit_leaf_ahead **ret);

/* The leaf of that entry with seq @seq into @leaf, through @scratch (a
 * context the caller keeps, so the writer allocates nothing); @a is left
 * as it was, so a group rolled back can be finished again. 0, -ERANGE
 * (@seq past 2^53: make the leaf from the row), -EINVAL (@a is a
 * template: cde_audit_leaf_ahead_finish_doc) or -ENOMEM. */
int cde_audit_leaf_ahead_finish(const struct cde_audit_leaf_ahead *a, uint64_t seq, EVP_MD_CTX *scratch,
				uint8_t leaf[CDE_TLOG_HASH_LEN]);

/* For an entry the writer correlates (audit_correlate.h), whose event
 * gets a chainId and maybe one more context.links element before it is
 * printed: the entry of @row (row->event and row->seq are not read) with
 * @event as correlation will leave it, JCS'd with those two places left
 * open, hashed up to the first. 0; -EINVAL when @event has a chainId, no
 * context, links that are not an array, or what JCS refuses as printed
 * (cde_jcs_serialize_as_printed); -ENOMEM. *@ret is set on 0 only. */
int cde_audit_leaf_ahead_new_template(const struct cde_audit_row *row, const cJSON *event,
				      struct cde_audit_leaf_ahead **ret);

/* The leaf of @row's entry when its stored text is cde_json_print(@event),
 * @event being the template's event once correlated (seq @seq): the same
 * bytes as cde_audit_tree_leaf of that row. -EINVAL when @a is no
 * template or @event is not what it allows for (no chainId string, links
 * changed otherwise than by one element appended, a hole's value JCS
 * refuses), -ERANGE, -ENOMEM: make the leaf another way. @a is left as
 * it was. */
int cde_audit_leaf_ahead_finish_doc(const struct cde_audit_leaf_ahead *a, const cJSON *event, uint64_t seq,
				    EVP_MD_CTX *scratch, uint8_t leaf[CDE_TLOG_HASH_LEN]);

/* Frees @a; accepts NULL. */
void cde_audit_leaf_ahead_free(struct cde_audit_leaf_ahead *a);

struct cde_journal_entry;

/* The row the writer stores for entry @e as seq @seq, with @json the
 * event's text as stored (both stores build it here; the strings are
 * borrowed from @e and @json). */
void cde_audit_row_of_entry(const struct cde_journal_entry *e, uint64_t seq, const char *json,
			    struct cde_audit_row *row);

/* The leaf of the row @row that the writer stores for entry @e, whichever
 * way is cheapest: finished from what the loop thread hashed ahead (a
 * template for an event correlated in the store), else from the event in
 * memory, else from the row's text. 0, or what cde_audit_tree_leaf
 * returns: an entry without a leaf must not be stored. Both stores
 * (SQLite, PostgreSQL) make their leaves here. */
int cde_audit_entry_leaf(const struct cde_audit_row *row, const struct cde_journal_entry *e,
			 uint8_t leaf[CDE_TLOG_HASH_LEN]);
