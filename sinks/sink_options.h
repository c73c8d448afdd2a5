#pragma once
/* What the delivery engine and its sinks are told: plain option structs
 * that sinks/ owns, so that it depends on no configuration format. The
 * daemon builds them from its configuration (daemon/config_load.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CDE_SINK_NAME_MAX 64
#define CDE_SINK_URL_MAX 1024
#define CDE_SINK_PATH_MAX 256
#define CDE_SINK_HEADERS_MAX 16

/* One sink. Delivery limits apply to every type; url and the HTTP
 * settings to tekton and webhook, path and rotation to file. */
struct cde_sink_options {
	char name[CDE_SINK_NAME_MAX];
	char type[CDE_SINK_NAME_MAX];		/* a registered type's name (sinks/sink.h) */
	char url[CDE_SINK_URL_MAX];
	bool structured;			/* structured mode (webhook, nats) */
	size_t n_headers;
	char headers[CDE_SINK_HEADERS_MAX][CDE_SINK_PATH_MAX];	/* "Name: value" */
	char token_file[CDE_SINK_PATH_MAX];	/* bearer token, "" = none */
	char secret_file[CDE_SINK_PATH_MAX];	/* Standard Webhooks secret, "" = unsigned */
	bool tls_verify;
	unsigned timeout_ms;			/* per request */
	unsigned max_in_flight;			/* 0: CDE_DELIVERY_WINDOW_DEFAULT */
	unsigned max_attempts;
	uint64_t max_age_s;			/* 0: no limit */
	unsigned max_backoff_ms;		/* 0: CDE_DELIVERY_MAX_BACKOFF_MS */
	unsigned max_retry_after_ms;		/* cap on a receiver's Retry-After */
	char path[CDE_SINK_PATH_MAX];		/* file */
	size_t rotate_size;			/* file: rotate past this, 0: never */
	unsigned rotate_keep;			/* file: rotated files kept */
	char upgrade_to[16];			/* "0.5.1": older events upgraded first (events/upgrade.h); "" none */
	bool checkpoints;			/* also the log's signed checkpoints (delivery_checkpoints.c) */
	char subject[CDE_SINK_PATH_MAX];	/* nats: the subject template, "" = the default */
	char stream[CDE_SINK_NAME_MAX];		/* nats: the stream expected (for messages) */
	char user_file[CDE_SINK_PATH_MAX];	/* nats: secrets read from files */
	char password_file[CDE_SINK_PATH_MAX];
	char creds_file[CDE_SINK_PATH_MAX];
	char ca_file[CDE_SINK_PATH_MAX];	/* nats: TLS trusting these CAs */
};

/* Which events go to which sinks. Borrowed: the engine compiles the
 * filter and keeps neither pointer past cde_delivery_new. */
struct cde_route_options {
	size_t n_sinks;
	const unsigned *sinks;	/* indexes into cde_delivery_options.sinks */
	const char *filter;	/* the filter as JSON text (sinks/filter.h); "" = every event */
};

/* Everything cde_delivery_new takes; the sinks are copied. */
struct cde_delivery_options {
	size_t n_sinks;
	const struct cde_sink_options *sinks;
	size_t n_routes;
	const struct cde_route_options *routes;
	/* The catalog upgrade_to checks against (borrowed; NULL: the
	 * default); read only when a sink has upgrade_to. */
	const char *catalog_dir;
};
