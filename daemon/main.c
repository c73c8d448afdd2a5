/* cdeventsd: process life. Parses the command line, loads the catalog,
 * runs the libevent loop with the HTTP server and the journal, and on
 * SIGTERM/SIGINT stops accepting, finishes what is in flight and exits 0.
 * The audit log and fan-out plug in here as their issues land. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cde_build_config.h"
#include "daemon/api.h"
#include "daemon/http_server.h"
#include "daemon/log.h"
#include "schemas/catalog.h"
#include "sinks/journal.h"

#define DEFAULT_LISTEN "127.0.0.1:9720"
#define DEDUPE_WINDOW 100000
#define DRAIN_TIMEOUT_S 30

struct daemon {
	struct event_base *base;
	struct cde_http_server *http;
	struct cde_catalog *catalog;
	struct cde_journal journal;
	struct cde_api api;
	struct event *sigterm, *sigint, *drain_timer;
};

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
	event_add(d->drain_timer, &tv);
	cde_http_server_shutdown(d->http, on_drained, d);
}

/* Splits "HOST:PORT" ("[::1]:PORT" for IPv6). Returns 0 or -EINVAL. */
static int split_listen(const char *spec, char *host, size_t size, unsigned short *port)
{
	const char *colon = strrchr(spec, ':');
	char *end;
	unsigned long p;
	size_t hl;

	if (!colon || colon == spec)
		return -EINVAL;
	p = strtoul(colon + 1, &end, 10);
	if (*end || colon[1] == '\0' || p > 65535)
		return -EINVAL;
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && colon[-1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl == 0 || hl >= size)
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	*port = (unsigned short)p;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cdeventsd [--listen HOST:PORT] [--catalog DIR] [--version] [--help]\n"
		   "  --listen   address to serve HTTP on (default %s)\n"
		   "  --catalog  event catalog directory (default: $CDEVENTSD_CATALOG or the installed one)\n",
		DEFAULT_LISTEN);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "catalog", required_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct daemon d = { 0 };
	struct cde_http_limits limits;
	const char *listen = DEFAULT_LISTEN, *catalog_dir = NULL;
	struct cde_errors errs;
	char host[256], bound[80];
	unsigned short port;
	int c, r, status = 1;

	while ((c = getopt_long(argc, argv, "l:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 'C':
			catalog_dir = optarg;
			break;
		case 'V':
			printf("cdeventsd %s\n", CDE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (split_listen(listen, host, sizeof(host), &port) < 0) {
		fprintf(stderr, "cdeventsd: --listen %s: expected HOST:PORT\n", listen);
		return 2;
	}
	/* A write to a client that went away must be an error, not a kill. */
	signal(SIGPIPE, SIG_IGN);

	cde_errors_reset(&errs);
	if (!catalog_dir)
		catalog_dir = cde_catalog_default_dir();
	if (cde_catalog_load_dir(catalog_dir, &d.catalog, &errs) < 0) {
		for (size_t i = 0; i < errs.count; i++)
			cde_log(CDE_LOG_ERROR, "catalog %s: %s %s", catalog_dir,
				errs.items[i].pointer, errs.items[i].reason);
		return 1;
	}
	d.base = event_base_new();
	if (!d.base || cde_journal_memory_new(d.base, DEDUPE_WINDOW, &d.journal) < 0) {
		cde_log(CDE_LOG_ERROR, "cannot create the event loop");
		goto out;
	}
	d.api.catalog = d.catalog;
	d.api.journal = &d.journal;
	cde_http_limits_default(&limits);
	if (cde_http_server_new(d.base, &limits, cde_api_handle, &d.api, &d.http) < 0) {
		cde_log(CDE_LOG_ERROR, "out of memory");
		goto out;
	}
	r = cde_http_server_listen(d.http, host, port, bound, sizeof(bound));
	if (r < 0) {
		cde_log(CDE_LOG_ERROR, "cannot listen on %s: %s", listen, strerror(-r));
		goto out;
	}
	d.sigterm = evsignal_new(d.base, SIGTERM, on_stop_signal, &d);
	d.sigint = evsignal_new(d.base, SIGINT, on_stop_signal, &d);
	d.drain_timer = evtimer_new(d.base, on_drain_timeout, &d);
	if (!d.sigterm || !d.sigint || !d.drain_timer || event_add(d.sigterm, NULL) < 0 ||
	    event_add(d.sigint, NULL) < 0) {
		cde_log(CDE_LOG_ERROR, "cannot install signal handlers");
		goto out;
	}
	cde_log(CDE_LOG_INFO, "cdeventsd %s listening on %s (catalog %s: %zu spec versions)",
		CDE_VERSION, bound, catalog_dir, cde_catalog_spec_count(d.catalog));
	if (!d.journal.ops->durable)
		cde_log(CDE_LOG_WARN, "journal %s is not durable: accepted events are not stored "
				      "and are lost at exit (the audit log is not built yet)",
			d.journal.ops->name);
	if (event_base_dispatch(d.base) < 0)
		cde_log(CDE_LOG_ERROR, "event loop failed");
	else
		status = 0;
	cde_log(CDE_LOG_INFO, "stopped");
out:
	if (d.sigterm)
		event_free(d.sigterm);
	if (d.sigint)
		event_free(d.sigint);
	if (d.drain_timer)
		event_free(d.drain_timer);
	cde_http_server_free(d.http);
	cde_journal_release(&d.journal);
	if (d.base)
		event_base_free(d.base);
	cde_catalog_free(d.catalog);
	return status;
}
