#pragma once
/* The daemon's HTTP API: routes and the ingest handlers. */

#include <stdint.h>

#include "daemon/auth.h"
#include "daemon/gate_memo.h"
#include "daemon/http/server.h"
#include "daemon/observe.h"
#include "daemon/schema_set.h"
#include "schemas/catalog.h"
#include "sinks/audit/answers/gate_rules.h"
#include "sinks/audit/audit_reader.h"
#include "sinks/delivery.h"
#include "sinks/audit/journal.h"
#include "sizing/sizing.h"

struct cde_ui_files;

struct cde_api {
	const struct cde_catalog *catalog;
	const struct cde_schema_set *schemas;	/* schemas: (NULL: none loaded) */
	bool accept_unknown_schema_uri;
	struct cde_journal *journal;
	struct cde_auth *auth;
	struct cde_audit_reader *reader;
	struct cde_delivery *delivery;	/* NULL: no sinks */
	struct cde_observe *observe;	/* GET /metrics */
	const char *db_path;
	const char *default_source;	/* for hooks that give none; NULL: "/<principal>" */
	const struct cde_sizing_named_cluster *clusters;	/* named clusters for sizing, */
	size_t n_clusters;				/* in the running config */
	const struct cde_gate_set *gates;	/* gates: (NULL or empty: none) */
	struct cde_gate_memo gate_memo;		/* GET /v1/gates' recent decisions */
	const char (*ticket_envs)[CDE_CONFIG_NAME_MAX];	/* tickets: environments, */
	size_t n_ticket_envs;				/* in the running config */
	bool stopping;			/* /readyz fails while draining */
	unsigned long long pending;	/* events waiting on the journal */
	unsigned queue_max;		/* 503 past it */
	/* receipts (api_receipt.c) */
	struct event_base *base;
	bool signs_checkpoints;		/* audit.signing_key_file is set */
	unsigned receipt_wait_ms;	/* how long a 202 waits for a checkpoint */
	uint64_t checkpoint_size;	/* the latest signed checkpoint's */
	struct cde_api_parked *parked;	/* 202s waiting for one */
	unsigned long long parked_events;
	uint64_t dora_failure_window_s;	/* dora.failure_window */
	const struct cde_ui_files *ui;	/* /ui/ (NULL: its files were not found) */
};

/* The HTTP handler, and its head handler too: pass with the cde_api as
 * its argument. At the head (cde_http_request_at_head) it answers what
 * the headers decide (unknown route or method, 401, 403) so that the body
 * of a refused request is never read, and leaves the rest for the
 * handler. */
void cde_api_handle(struct cde_http_request *req, void *api);

/* A new signed checkpoint of @size leaves (on the loop): the receipts it
 * covers are read and answered. */
void cde_api_receipt_checkpoint(struct cde_api *api, uint64_t size);

/* The daemon stops: every 202 still waiting for a checkpoint is answered
 * without its receipt (@answer), or, when its connection is gone,
 * forgotten (!@answer, once the loop has ended). */
void cde_api_receipt_stop(struct cde_api *api, bool answer);
