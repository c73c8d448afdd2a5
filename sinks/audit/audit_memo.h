#pragma once
/* The writer's memo of two correlation answers (issue 15): the latest
 * chain a subject's events joined, and a chain's latest event. A hook
 * without a chainId asked both of SQLite (an index, then the row), a
 * sixth of the writer's time per hook, though the writer itself had just
 * stored the row that answers: each row it stores is noted here, so the
 * next event of the subject finds its chain without a query.
 *
 * Only what the log would answer is kept: a row the writer stores is the
 * latest of its subject and chain (seqs only grow, and this process is
 * the only writer: the store refuses to append when another moved the
 * head); an answer read from SQLite is kept as read. What could make one
 * stale drops the memo: a rollback (of a batch or a group) and rows
 * deleted (retention). A subject or chain that is not in it, or too long
 * for it, is asked of SQLite as before. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cde_audit_memo;

/* NULL when out of memory (the caller then asks SQLite every time). */
struct cde_audit_memo *cde_audit_memo_new(void);
void cde_audit_memo_free(struct cde_audit_memo *m);

/* A row stored, its columns as stored (@subject and @chain may be NULL);
 * @own: one of the daemon's own events, which correlation does not
 * follow by subject. Accepts a NULL @m. */
void cde_audit_memo_row(struct cde_audit_memo *m, const char *subject, const char *chain, bool own,
			const char *id, uint64_t seq);

/* The latest chain of @subject (and the seq of its row) into @out, or the
 * latest event id of @chain: true when the memo knows, else false. The
 * copy is cut to @size, as the SQL lookups cut theirs. */
bool cde_audit_memo_subject(const struct cde_audit_memo *m, const char *subject, char *out, size_t size,
			    uint64_t *seq);
bool cde_audit_memo_chain(const struct cde_audit_memo *m, const char *chain, char *out, size_t size);

/* An answer SQLite gave (kept only when it was not cut to fit @out). */
void cde_audit_memo_subject_read(struct cde_audit_memo *m, const char *subject, const char *chain,
				 size_t out_size, uint64_t seq);
void cde_audit_memo_chain_read(struct cde_audit_memo *m, const char *chain, const char *id, size_t out_size);

/* Drops everything (a rollback, deleted rows). Accepts NULL. */
void cde_audit_memo_forget(struct cde_audit_memo *m);
