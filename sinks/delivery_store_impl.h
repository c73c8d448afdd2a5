#pragma once
/* The delivery store's backends (delivery_store_sqlite.c,
 * delivery_store_pg.c) behind one table of functions, and what the
 * generic part (delivery_store.c: the queue of delivery records and
 * cursors) hands them at a flush. Seen only by those three files. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/ids.h"
#include "sinks/audit/pg/pg_conn.h"

/* A sink with queued writes: its latest cursor, if not written yet. */
struct cde_pending_sink {
	char *name;
	uint64_t cursor;
	bool dirty;
};

struct cde_pending_delivery {
	size_t sink;		/* in the batch's sinks[] */
	uint64_t seq;
	long status;
	char *receipt;		/* NULL: none */
	char at[CDE_TIMESTAMP_STR_LEN];
};

/* What one flush writes, in one transaction. */
struct cde_delivery_batch {
	const struct cde_pending_delivery *deliveries;
	size_t n_deliveries;
	const struct cde_pending_sink *sinks;	/* cursors of the dirty ones */
	size_t n_sinks;
};

/* The two cursor tables: seqs of the log, tree sizes of witnessing. */
enum cde_cursor_kind { CDE_CURSOR_SINK, CDE_CURSOR_WITNESS };

/* A row of the log as scan hands it on. */
struct cde_scan_row {
	uint64_t seq;
	char *event;
	char received_at[CDE_TIMESTAMP_STR_LEN];
};

/* Every slot is filled; @impl is the backend's handle. Functions that
 * return int return 0 or -errno as the public ones document. */
struct cde_delivery_store_ops {
	const char *name;
	void (*close)(void *impl);
	uint64_t (*head)(void *impl);
	void (*received_at)(void *impl, uint64_t seq, char *out, size_t size);
	/* -ENOENT when @sink has no row yet. */
	int (*get_cursor)(void *impl, enum cde_cursor_kind kind, const char *sink, uint64_t *ret);
	/* Writes @value unless @sink has a row (another replica may have
	 * written one since get_cursor said there was none). */
	int (*init_cursor)(void *impl, enum cde_cursor_kind kind, const char *sink, uint64_t value);
	int (*set_witness_cursor)(void *impl, const char *sink, uint64_t size);
	/* The largest signed checkpoint's tree size, 0 none. */
	uint64_t (*latest_checkpoint)(void *impl);
	int (*forget_others)(void *impl, const char *const *sinks, size_t n);
	/* Up to @limit rows after @after into @rows (their events the
	 * caller's to free); how many in *@ret_n. */
	int (*scan)(void *impl, uint64_t after, unsigned limit, struct cde_scan_row *rows, unsigned *ret_n);
	int (*write)(void *impl, const struct cde_delivery_batch *b);
	int (*dead)(void *impl, const char *sink, uint64_t seq, unsigned attempts, const char *error,
		    const char *at);
	uint64_t (*dead_count)(void *impl, const char *sink);
	int (*replays)(void *impl, const char *sink, size_t max, uint64_t *seqs, size_t *ret_n);
	int (*replay_done)(void *impl, const char *sink, uint64_t seq);
	int (*event)(void *impl, uint64_t seq, char **ret_json);
	int (*checkpoint_after)(void *impl, uint64_t after, uint64_t *ret_size, char **ret_note);
	int (*lease)(void *impl, const char *sink, bool *held);
	void (*watch)(void *impl, void (*fn)(void *ctx, int fd), void *ctx);
	bool (*news)(void *impl);
	int (*check)(void *impl);
};

extern const struct cde_delivery_store_ops cde_delivery_store_sqlite_ops;
extern const struct cde_delivery_store_ops cde_delivery_store_pg_ops;

/* Open a backend's handle: 0, or -errno with the reason in @err. */
/* @checkpoints_aside: the journal's thread copies the WAL back (see
 * cde_store_location). */
int cde_delivery_store_sqlite_open(const char *path, bool checkpoints_aside, void **ret, char *err,
				   size_t err_size);
int cde_delivery_store_pg_open(const struct cde_pg_options *o, void **ret, char *err, size_t err_size);
