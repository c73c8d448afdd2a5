/* cdeventsd: process life. Assembles the configuration (embedded default,
 * then the file, then flags), loads the catalog, runs the libevent loop
 * with the HTTP server and the journal. SIGHUP re-reads the file and
 * applies it to new requests (a bad file keeps the old configuration);
 * SIGTERM/SIGINT stop accepting, finish what is in flight, exit 0. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/event.h>
#include <curl/curl.h>
#include <event2/thread.h>
#include <openssl/crypto.h>

#include "cde_build_config.h"
#include "config/config.h"
#include "daemon/api.h"
#include "daemon/config_load.h"
#include "daemon/flags.h"
#include "daemon/http/server.h"
#include "daemon/http_report.h"
#include "daemon/dora_gauges.h"
#include "daemon/housekeeping.h"
#include "daemon/log.h"
#include "daemon/notify.h"
#include "daemon/reload.h"
#include "daemon/startup.h"
#include "daemon/state_dir.h"
#include "daemon/ui_files.h"
#include "sinks/audit/pg/pg_store.h"
#include "sinks/audit/store_location.h"
#include "schemas/catalog.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/journal.h"
#include "sinks/audit/tlog/note.h"

#define DRAIN_TIMEOUT_S 30

struct daemon {
	struct cde_daemon_flags flags;
	struct cde_config cfg;
	size_t n_clusters;	/* cfg's clusters as sizing/ reads them, for the API */
	struct cde_sizing_named_cluster clusters[CDE_CONFIG_CLUSTERS_MAX];
	struct cde_gate_set gates;	/* cfg's gates as the answers layer reads them */
	struct event_base *base;
	struct cde_http_server *http;
	struct cde_catalog *catalog;
	struct cde_schema_set *schemas;	/* schemas: dirs (NULL: none) */
	struct cde_auth *auth;
	struct cde_journal journal;
	struct cde_audit_reader *reader;
	struct cde_housekeeping *housekeeping;
	struct cde_delivery *delivery;
	struct cde_observe *observe;
	struct cde_dora_gauges *dora;	/* after the reader, before observe */
	struct cde_ui_files *ui;	/* /ui/ (NULL: not found) */
	struct cde_api api;
	char db_path[CDE_CONFIG_STR_MAX + 16];	/* the API's db_path points here */
	struct cde_store_location store;	/* where the log lives: audit.db or PostgreSQL */
	struct event *sigterm, *sigint, *sighup, *drain_timer, *watchdog;
};

/* The delivery engine's lines (a sink failing, recovered), written from
 * its thread: cde_log_fields is safe there. */
static void log_delivery(void *ctx, enum cde_delivery_log_level level, const char *msg,
			 const struct cde_delivery_log_field *fields, size_t n)
{
	struct cde_log_field f[16];

	for (size_t i = 0; i < n && i < 16; i++)
		f[i] = (struct cde_log_field){ fields[i].key, fields[i].value };
	cde_log_fields(level == CDE_DELIVERY_LOG_ERROR	  ? CDE_LOG_ERROR
		       : level == CDE_DELIVERY_LOG_WARN ? CDE_LOG_WARN
							: CDE_LOG_INFO,
		       NULL, msg, f, n < 16 ? n : 16);
}


/* Applies what can change while running to @d. */
static void apply_runtime(struct daemon *d)
{
	struct cde_errors errs;

	struct cde_http_limits limits;

	cde_log_set_level((enum cde_log_level)d->cfg.log_level);
	cde_log_set_format(d->cfg.log_format == CDE_CONFIG_LOG_JSON ? CDE_LOG_JSON : CDE_LOG_LOGFMT);
	d->api.default_source = d->cfg.source[0] ? d->cfg.source : NULL;
	d->api.schemas = d->schemas;
	d->api.accept_unknown_schema_uri = d->cfg.schemas_accept_unknown;
	cde_errors_reset(&errs);
	/* cde_daemon_config_load read them once already: this cannot
	 * fail but for memory, and then the hooks know no cluster names. */
	d->n_clusters = cde_daemon_clusters_read(&d->cfg, NULL, d->clusters, &errs) == 0 ? d->cfg.n_clusters : 0;
	if (d->cfg.n_clusters && !d->n_clusters)
		cde_log(CDE_LOG_ERROR, "clusters: out of memory: named clusters are unknown until the next reload");
	d->api.clusters = d->clusters;
	d->api.n_clusters = d->n_clusters;
	/* Read once already too; out of memory, no gate answers until the
	 * next reload (404), rather than a gate with requirements missing. */
	if (cde_daemon_gates_read(&d->cfg, NULL, &d->gates, &errs) < 0)
		cde_log(CDE_LOG_ERROR, "gates: out of memory: no gate answers until the next reload");
	d->api.gates = &d->gates;
	d->api.ticket_envs = (const char (*)[CDE_CONFIG_NAME_MAX])d->cfg.ticket_envs;
	d->api.n_ticket_envs = d->cfg.n_ticket_envs;
	d->api.queue_max = d->cfg.limits.queue_max;
	d->api.dora_failure_window_s = d->cfg.dora.failure_window_s;
	cde_daemon_fit_fd_limit(&d->cfg.limits);
	cde_daemon_http_limits(&d->cfg.limits, &limits);
	if (d->http)
		cde_http_server_set_limits(d->http, &limits);
}

/* Re-reads the configuration; on any error the running one stays. */
static void reload(struct daemon *d)
{
	static struct cde_config next;	/* large: not on the signal handler's stack */
	struct cde_catalog *catalog = NULL;
	struct cde_schema_set *schemas = NULL;
	struct cde_auth *auth = NULL;
	struct cde_errors errs;

	cde_errors_reset(&errs);
	cde_log(CDE_LOG_INFO, "SIGHUP: reloading %s", d->flags.config_file ? d->flags.config_file
									 : "(no file: defaults and flags)");
	if (cde_daemon_config_assemble(&d->flags, &next, &errs) < 0 || cde_reload_check_bound_auth(&d->cfg, &next, &errs) < 0) {
		cde_daemon_log_errors("reload refused, keeping the running configuration", &errs);
		return;
	}
	if (cde_auth_new(&next, &auth, &errs) < 0) {
		cde_daemon_log_errors("reload refused, keeping the running configuration", &errs);
		return;
	}
	if (cde_daemon_catalog_load(&next, &catalog) < 0 || cde_daemon_schemas_load(&next, &schemas) < 0) {
		cde_log(CDE_LOG_ERROR, "reload refused, keeping the running configuration");
		cde_catalog_free(catalog);
		cde_auth_free(auth);
		return;
	}
	cde_reload_warn_restart_keys(&d->cfg, &next);
	snprintf(next.listen, sizeof(next.listen), "%s", d->cfg.listen);
	snprintf(next.state_dir, sizeof(next.state_dir), "%s", d->cfg.state_dir);
	/* Requests are validated synchronously, so no request holds the old
	 * catalog once this handler runs. */
	cde_catalog_free(d->catalog);
	d->catalog = catalog;
	d->api.catalog = catalog;
	cde_schema_set_free(d->schemas);
	d->schemas = schemas;
	cde_auth_keep_replays(auth, d->auth);
	cde_auth_free(d->auth);
	d->auth = auth;
	d->api.auth = auth;
	d->cfg = next;
	apply_runtime(d);
	cde_log(CDE_LOG_INFO, "configuration reloaded");
}

/* SIGHUP (systemctl reload: ExecReload sends it): the manager sees the
 * reload begin and end, whether it applied or was refused. */
static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	cde_notify_reloading();
	reload(arg);
	cde_notify("READY=1");
}

static void on_drained(void *arg)
{
	struct daemon *d = arg;

	cde_log(CDE_LOG_INFO, "all connections closed");
	event_base_loopexit(d->base, NULL);
}

static void on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	cde_log(CDE_LOG_WARN, "%zu connections still open after %d s: closing them",
		cde_http_server_connections(d->http), DRAIN_TIMEOUT_S);
	event_base_loopexit(d->base, NULL);
}

/* SIGTERM/SIGINT: stop accepting, let in-flight requests finish (their
 * events committed and answered), then leave the loop. A second signal
 * does not hurry it: the drain has its own deadline. */
static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	struct timeval tv = { .tv_sec = DRAIN_TIMEOUT_S };

	if (d->api.stopping)
		return;
	cde_log(CDE_LOG_INFO, "signal %d: stopping, draining %zu connections", (int)sig,
		cde_http_server_connections(d->http));
	d->api.stopping = true;
	cde_api_receipt_stop(&d->api, true);
	cde_notify("STOPPING=1");
	event_add(d->drain_timer, &tv);
	cde_http_server_shutdown(d->http, on_drained, d);
}

/* Held until exit: the kernel releases it however we end. */
static int lock_state_dir(const char *dir)
{
	pid_t holder;
	int r = cde_state_dir_lock(dir, &holder);

	if (r == -EBUSY)
		cde_log(CDE_LOG_ERROR, "state_dir %s is in use by another cdeventsd (pid %ld): "
			"two daemons cannot share one audit log", dir, (long)holder);
	else if (r < 0)
		cde_log(CDE_LOG_ERROR, "state_dir %s: cannot lock it: %s", dir, strerror(-r));
	return r;
}

/* A new signed checkpoint of the audit log's tree (on the loop). The
 * witnessing sinks read it from the table; the kick only wakes them. */
static void checkpoint_made(void *ctx, uint64_t size, const char *note)
{
	struct daemon *d = ctx;

	cde_delivery_kick(d->delivery);
	cde_log(CDE_LOG_DEBUG, "audit log: signed checkpoint of %llu entries", (unsigned long long)size);
	cde_api_receipt_checkpoint(&d->api, size);
}

/* Opens the journal on @db_path (its tail checked: see
 * cde_journal_audit_new) and says what it found. */
static int open_audit_log(struct daemon *d, const char *db_path, struct cde_journal_audit_opened *opened)
{
	struct cde_note_signer *signer = NULL;
	uint8_t key[CDE_AUDIT_KEY_MAX];
	char db_err[512];
	int key_len = 0, r;

	if (d->cfg.audit_hmac_key_file[0]) {
		key_len = cde_audit_key_load(d->cfg.audit_hmac_key_file, key);
		if (key_len < 0) {
			cde_log(CDE_LOG_ERROR, "audit.hmac_key_file %s: %s", d->cfg.audit_hmac_key_file,
				key_len == -EINVAL ? "a key is 32 to 256 bytes"
				: key_len == -EPERM ? "group or others may read it: chmod 600 it" : strerror(-key_len));
			return -1;
		}
	}
	if (d->cfg.audit_signing_key_file[0]) {
		char why[256];

		r = cde_note_signer_read(d->cfg.audit_signing_key_file, &signer, why, sizeof(why));
		if (r < 0) {
			cde_log(CDE_LOG_ERROR, "audit.signing_key_file %s", why); /* why names the file */
			OPENSSL_cleanse(key, sizeof(key));
			return -1;
		}
	}
	{
		struct cde_journal_audit_options o = {
			.path = db_path,
			.sync_full = d->cfg.audit_sync_full,
			.key = key_len > 0 ? key : NULL,
			.key_len = key_len > 0 ? (size_t)key_len : 0,
			.every = d->cfg.audit_checkpoint_every,
			.retention = { .max_age_s = d->cfg.audit_max_age_s, .max_bytes = d->cfg.audit_max_size },
			.retention_interval_ms = d->cfg.audit_retention_interval_ms,
			.accept_loss = d->flags.accept_log_loss,
			.signer = signer,
			.tree_every = d->cfg.audit_tree_checkpoint_every,
			.tree_interval_ms = d->cfg.audit_tree_checkpoint_interval_ms,
			.on_checkpoint = checkpoint_made,
			.checkpoint_ctx = d,
		};

		if (d->cfg.storage_driver == CDE_STORAGE_POSTGRES)
			r = cde_journal_pg_new(d->base, &d->store.pg, &o, &d->journal, opened, db_err, sizeof(db_err));
		else
			r = cde_journal_audit_new(d->base, &o, &d->journal, opened, db_err, sizeof(db_err));
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (r < 0) {
		cde_log(CDE_LOG_ERROR, "audit log: %s", db_err);
		return -1;
	}
	if (opened->lost_first)
		cde_log(CDE_LOG_WARN, "audit log: seqs %llu to %llu are lost (--accept-log-loss): the loss is recorded "
			"in the chain, and those seqs will not be used again", opened->lost_first, opened->lost_last);
	if (d->cfg.storage_driver != CDE_STORAGE_POSTGRES && !opened->checkpoints_aside)
		cde_log(CDE_LOG_WARN, "audit log: the WAL is copied back by the writer's commits, not by a thread of its "
			"own: %s", opened->checkpoints_why);
	d->store.sqlite_checkpoints_aside = opened->checkpoints_aside;
	if (opened->head_file_damaged)
		cde_log(CDE_LOG_WARN, "audit log: %s-head is damaged: the end of the log could not be checked "
			"against it (it is rewritten at the next commit)", db_path);
	return 0;
}

/* What the process needs before any thread or configuration. */
static int start_process(void)
{
	/* The journal's writer thread wakes the loop with event_active. */
	if (evthread_use_pthreads() < 0) {
		cde_log(CDE_LOG_ERROR, "libevent has no thread support");
		return -1;
	}
	/* Before any thread: curl_global_init is not thread-safe. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cde_log(CDE_LOG_ERROR, "libcurl cannot start");
		return -1;
	}
	/* A write to a client that went away must be an error, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	/* A file size limit (ulimit -f) must fail the write, which the
	 * journal handles like a full disk, not kill the daemon. */
	signal(SIGXFSZ, SIG_IGN);
	return 0;
}

/* The configuration, the state directory (made and locked), the
 * authentication and its replay memory, the catalog. On failure what
 * this made is freed (the lock goes with the process). */
static int load_startup(struct daemon *d)
{
	struct cde_errors errs;
	char db_err[512];
	int r;

	cde_errors_reset(&errs);
	if (cde_daemon_config_assemble(&d->flags, &d->cfg, &errs) < 0) {
		cde_daemon_log_errors("configuration", &errs);
		return -1;
	}
	apply_runtime(d);
	r = cde_state_dir_make(d->cfg.state_dir);
	if (r < 0) {
		cde_log(CDE_LOG_ERROR, "state_dir %s: %s", d->cfg.state_dir, strerror(-r));
		return -1;
	}
	if (lock_state_dir(d->cfg.state_dir) < 0)
		return -1;
	if (cde_auth_new(&d->cfg, &d->auth, &errs) < 0) {
		cde_daemon_log_errors("authentication", &errs);
		return -1;
	}
	r = cde_auth_open_replays(d->auth, d->cfg.state_dir, time(NULL), db_err, sizeof(db_err));
	if (r < 0) {
		cde_log(CDE_LOG_ERROR, "replay memory: %s", db_err);
		d->auth = cde_auth_free(d->auth);
		return -1;
	}
	if (cde_daemon_catalog_load(&d->cfg, &d->catalog) < 0 || cde_daemon_schemas_load(&d->cfg, &d->schemas) < 0) {
		d->catalog = cde_catalog_free(d->catalog);
		d->auth = cde_auth_free(d->auth);
		return -1;
	}
	return 0;
}

/* The delivery engine, on options built from the configuration. */
static int start_delivery(struct daemon *d)
{
	struct cde_delivery_options *opts = NULL;
	char db_err[512];
	int r = cde_daemon_delivery_options(&d->cfg, &opts);

	if (r == 0)
		r = cde_delivery_new_at(&d->store, opts, &(struct cde_delivery_log){ .fn = log_delivery }, &d->delivery,
				     db_err, sizeof(db_err));
	else
		snprintf(db_err, sizeof(db_err), "out of memory");
	cde_daemon_delivery_options_free(opts);
	if (r < 0)
		cde_log(CDE_LOG_ERROR, "delivery: %s", db_err);
	return r;
}

/* The loop and what runs on it or beside it: the journal, the reader,
 * delivery, housekeeping, the metrics; the API is wired to them. On
 * failure tear_down() frees what was made. */
static int start_subsystems(struct daemon *d, struct cde_journal_audit_opened *opened)
{
	struct cde_observe_config oc = {
		.max_series = d->cfg.metrics_max_series,
		.price_cpu_hour = d->cfg.metrics_price_cpu_hour,
		.price_gib_hour = d->cfg.metrics_price_gib_hour,
	};
	char db_err[512];
	int r;

	d->base = event_base_new();
	if (!d->base) {
		cde_log(CDE_LOG_ERROR, "cannot create the event loop");
		return -1;
	}
	snprintf(d->db_path, sizeof(d->db_path), "%s/audit.db", d->cfg.state_dir);
	d->store = (struct cde_store_location){
		.postgres = d->cfg.storage_driver == CDE_STORAGE_POSTGRES,
		.sqlite_path = d->db_path,
		.pg = { d->cfg.storage_url, d->cfg.storage_password_file },
	};
	if (open_audit_log(d, d->db_path, opened) < 0)
		return -1;
	r = cde_audit_reader_new_at(d->base, &d->store, &d->reader, db_err, sizeof(db_err));
	if (r < 0) {
		cde_log(CDE_LOG_ERROR, "audit log reader: %s", db_err);
		return -1;
	}
	if (start_delivery(d) < 0)
		return -1;
	if (cde_housekeeping_new(d->base, &d->journal, &d->housekeeping) < 0) {
		cde_log(CDE_LOG_ERROR, "out of memory");
		return -1;
	}
	d->api.catalog = d->catalog;
	d->api.schemas = d->schemas;
	d->api.journal = &d->journal;
	d->api.auth = d->auth;
	d->api.reader = d->reader;
	d->api.db_path = d->db_path;
	d->api.base = d->base;
	d->api.signs_checkpoints = d->cfg.audit_signing_key_file[0] != '\0';
	/* The checkpoint timer makes one within the interval: past it and a
	 * margin, something is wrong, and the client is answered anyway. */
	d->api.receipt_wait_ms = d->cfg.audit_tree_checkpoint_interval_ms + 30000;
	d->observe = cde_observe_new(&oc);
	if (!d->observe || cde_dora_gauges_new(d->base, d->reader, cde_observe_metrics(d->observe),
					       d->cfg.metrics_max_series, &d->cfg.dora, &d->dora) < 0) {
		cde_log(CDE_LOG_ERROR, "out of memory");
		return -1;
	}
	d->api.observe = d->observe;
	d->api.delivery = d->delivery;
	/* Without its files the daemon still does its job: /ui/ says why. */
	r = cde_ui_files_load(cde_ui_files_default_dir(), &d->ui);
	if (r < 0)
		cde_log(CDE_LOG_WARN, "web interface: %s: %s; /ui/ answers 404", cde_ui_files_default_dir(), strerror(-r));
	d->api.ui = d->ui;
	return 0;
}

/* The HTTP server, the API as its handler (at the head too), bound to
 * the configured address; the address bound goes to @bound. */
static int start_http(struct daemon *d, char *bound, size_t size)
{
	struct cde_http_limits limits;
	char host[256];
	unsigned short port;
	int r;

	cde_daemon_http_limits(&d->cfg.limits, &limits);	/* fitted by apply_runtime */
	if (cde_http_server_new(d->base, &limits, cde_api_handle, &d->api, &d->http) < 0) {
		cde_log(CDE_LOG_ERROR, "out of memory");
		return -1;
	}
	cde_http_server_set_head_handler(d->http, cde_api_handle, &d->api);
	cde_http_server_set_observer(d->http, cde_observe_request, d->observe);
	cde_http_report_attach(d->http);
	cde_config_split_listen(d->cfg.listen, host, sizeof(host), &port);
	r = cde_http_server_listen(d->http, host, port, bound, size);
	if (r < 0) {
		cde_log(CDE_LOG_ERROR, "cannot listen on %s: %s", d->cfg.listen, strerror(-r));
		return -1;
	}
	return 0;
}

static int install_signals(struct daemon *d)
{
	d->sigterm = evsignal_new(d->base, SIGTERM, on_stop_signal, d);
	d->sigint = evsignal_new(d->base, SIGINT, on_stop_signal, d);
	d->sighup = evsignal_new(d->base, SIGHUP, on_reload_signal, d);
	d->drain_timer = evtimer_new(d->base, on_drain_timeout, d);
	if (!d->sigterm || !d->sigint || !d->sighup || !d->drain_timer || event_add(d->sigterm, NULL) < 0 ||
	    event_add(d->sigint, NULL) < 0 || event_add(d->sighup, NULL) < 0) {
		cde_log(CDE_LOG_ERROR, "cannot install signal handlers");
		return -1;
	}
	return 0;
}

static void log_start(const struct daemon *d, const char *bound, const struct cde_journal_audit_opened *opened)
{
	cde_log(CDE_LOG_INFO, "cdeventsd %s listening on %s (config %s, state %s, catalog %s: %zu spec versions, %s)",
		CDE_VERSION, bound, d->flags.config_file ? d->flags.config_file : "embedded default",
		d->cfg.state_dir, cde_daemon_catalog_dir(&d->cfg), cde_catalog_spec_count(d->catalog),
		cde_auth_is_open(d->auth) ? "no authentication" : "authentication required");
	cde_log(CDE_LOG_INFO, "audit log %s: %llu events, head seq %llu, %s, %s, %s, Merkle tree of %llu entries, %s",
		cde_store_location_name(&d->store), opened->rows, opened->head_seq,
		d->store.postgres ? "on PostgreSQL" : d->cfg.audit_sync_full ? "sync full" : "sync normal",
		d->cfg.audit_hmac_key_file[0] ? "keyed checkpoints" : "no keyed checkpoints",
		d->cfg.audit_max_age_s || d->cfg.audit_max_size ? "retention on" : "kept forever", opened->tree_size,
		d->cfg.audit_signing_key_file[0] ? "signed checkpoints" : "no signed checkpoints");
	cde_log(CDE_LOG_INFO, "delivery: %zu sinks, %zu routes", d->cfg.n_sinks, d->cfg.n_routes);
}

/* Listening, journal open, signals handled: from here a request is
 * answered as soon as the loop runs, so tell the service manager, and
 * run until stopped. Returns the exit status. */
static int run(struct daemon *d, const char *bound)
{
	int status = 1;

	if (cde_notify_watchdog_start(d->base, &d->watchdog) < 0) {
		cde_log(CDE_LOG_ERROR, "out of memory");
		return 1;
	}
	if (d->watchdog)
		cde_log(CDE_LOG_INFO, "watchdog: WATCHDOG=1 every %llu ms",
			(unsigned long long)cde_notify_watchdog_usec() / 1000);
	cde_notifyf("READY=1\nSTATUS=listening on %s", bound);
	/* A failure here costs nothing but the batching. */
	(void)cde_log_batch_start(d->base);
	if (event_base_dispatch(d->base) < 0)
		cde_log(CDE_LOG_ERROR, "event loop failed");
	else
		status = 0;
	cde_log_batch_stop();
	cde_log(CDE_LOG_INFO, "stopped");
	return status;
}

static void tear_down(struct daemon *d)
{
	if (d->sigterm)
		event_free(d->sigterm);
	if (d->sigint)
		event_free(d->sigint);
	if (d->sighup)
		event_free(d->sighup);
	if (d->drain_timer)
		event_free(d->drain_timer);
	if (d->watchdog)
		event_free(d->watchdog);
	/* Their connections close with the server; what the journal still
	 * answers below is answered at once, without a receipt. */
	d->api.stopping = true;
	cde_api_receipt_stop(&d->api, false);
	cde_http_server_free(d->http);
	/* Gone before the journal below answers what it holds: nothing
	 * (change tickets) may submit to it then. */
	cde_audit_reader_free(d->reader);
	d->reader = NULL;
	d->api.reader = NULL;
	cde_dora_gauges_free(d->dora);
	cde_housekeeping_free(d->housekeeping);
	/* The journal first: releasing it answers what it still holds, and
	 * those answers kick the delivery engine. */
	cde_journal_release(&d->journal);
	d->api.delivery = NULL;
	cde_delivery_free(d->delivery);
	d->api.observe = NULL;
	cde_observe_free(d->observe);
	if (d->base)
		event_base_free(d->base);
	cde_catalog_free(d->catalog);
	cde_schema_set_free(d->schemas);
	cde_ui_files_free(d->ui);
	cde_auth_free(d->auth);
	curl_global_cleanup();
}

int main(int argc, char **argv)
{
	struct daemon d = { 0 };
	struct cde_journal_audit_opened opened = { 0 };
	char bound[80];
	int r, status = 1;

	r = cde_daemon_parse_flags(argc, argv, &d.flags);
	if (r >= 0)
		return r;
	if (d.flags.check_only)
		return cde_daemon_config_check(&d.flags);
	if (start_process() < 0 || load_startup(&d) < 0)
		return 1;
	if (start_subsystems(&d, &opened) == 0 && start_http(&d, bound, sizeof(bound)) == 0 &&
	    install_signals(&d) == 0) {
		log_start(&d, bound, &opened);
		status = run(&d, bound);
	}
	tear_down(&d);
	return status;
}
