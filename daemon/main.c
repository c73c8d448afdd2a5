/* cdeventsd: process life. Parses the command line, loads the catalog,
 * runs the libevent loop with the HTTP listener, and stops cleanly on
 * SIGTERM/SIGINT. Ingest, the audit log and fan-out plug in here as their
 * issues land; until then the daemon answers health checks only. */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "cde_build_config.h"
#include "daemon/log.h"
#include "schemas/catalog.h"

#define DEFAULT_LISTEN "127.0.0.1:9720"

struct daemon {
	struct event_base *base;
	struct evhttp *http;
	struct cde_catalog *catalog;
	struct event *sigterm, *sigint;
};

static void reply_json(struct evhttp_request *req, int code, const char *reason, const char *json)
{
	struct evbuffer *out = evhttp_request_get_output_buffer(req);

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	evbuffer_add_printf(out, "%s\n", json);
	evhttp_send_reply(req, code, reason, NULL);
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	if (!path)
		path = "/";
	if (strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
			evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
			reply_json(req, 405, "Method Not Allowed",
				   "{\"error\":\"method not allowed\",\"details\":[]}");
			return;
		}
		reply_json(req, 200, "OK", d->catalog ? "{\"status\":\"ok\"}" : "{\"status\":\"starting\"}");
		return;
	}
	reply_json(req, 404, "Not Found", "{\"error\":\"not found\",\"details\":[]}");
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	cde_log(CDE_LOG_INFO, "signal %d: stopping", (int)sig);
	event_base_loopexit(d->base, NULL);
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
	const char *listen = DEFAULT_LISTEN, *catalog_dir = NULL;
	struct cde_errors errs;
	char host[256];
	unsigned short port;
	int c, status = 1;

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
	d.http = d.base ? evhttp_new(d.base) : NULL;
	if (!d.http) {
		cde_log(CDE_LOG_ERROR, "cannot create the event loop");
		goto out;
	}
	evhttp_set_gencb(d.http, on_request, &d);
	if (evhttp_bind_socket(d.http, host, port) < 0) {
		cde_log(CDE_LOG_ERROR, "cannot listen on %s: %s", listen, strerror(errno));
		goto out;
	}
	d.sigterm = evsignal_new(d.base, SIGTERM, on_stop_signal, &d);
	d.sigint = evsignal_new(d.base, SIGINT, on_stop_signal, &d);
	if (!d.sigterm || !d.sigint || event_add(d.sigterm, NULL) < 0 ||
	    event_add(d.sigint, NULL) < 0) {
		cde_log(CDE_LOG_ERROR, "cannot install signal handlers");
		goto out;
	}
	cde_log(CDE_LOG_INFO, "cdeventsd %s listening on %s (catalog %s: %zu spec versions)",
		CDE_VERSION, listen, catalog_dir, cde_catalog_spec_count(d.catalog));
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
	if (d.http)
		evhttp_free(d.http);
	if (d.base)
		event_base_free(d.base);
	cde_catalog_free(d.catalog);
	return status;
}
