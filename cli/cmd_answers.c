/* cdevctl env and cdevctl dora: the daemon's answers over its audit log
 * (GET /v1/environments/{environment}, GET /v1/dora) printed as tables,
 * or as the daemon's JSON with --json. They ask a running daemon only:
 * the answers are the daemon's analyses, and one place computes them. */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cli/audit_remote.h"
#include "cli/commands.h"
#include "schemas/base/read_file.h"

#define DEFAULT_URL "http://127.0.0.1:9720"

static const char env_usage[] =
	"usage: cdevctl env ENVIRONMENT [--url URL] [--token-file FILE] [--json]\n"
	"  what runs in ENVIRONMENT: each service's artifact, since when, by which\n"
	"  chain and principal, and the one before it (the rollback target)\n";

static const char dora_usage[] =
	"usage: cdevctl dora [--service ID] [--env ENVIRONMENT] [--window 30d] [--until TIME]\n"
	"                    [--url URL] [--token-file FILE] [--json]\n"
	"  the four DORA keys per service and environment over the window (7d, 30d,\n"
	"  90d, 12h...), each with its band (elite, high, medium, low); --until\n"
	"  2026-11-01T00:00:00Z ends the window then instead of now\n"
	"  --url defaults to " DEFAULT_URL "; the token is read from --token-file or\n"
	"  $CDEVENTSD_TOKEN, never from the command line\n";

struct remote {
	const char *url, *token_file;
	bool json;
};

/* cdevctl dora's filters, each NULL when not given. */
struct dora_filters {
	const char *service, *env, *window, *until;
};

/* GET @path of the daemon into *@ret (parsed). Returns the exit status:
 * 0, or 2 with the reason on stderr. */
static int get(const char *cmd, const struct remote *rm, const char *path, cJSON **ret, char **ret_text)
{
	struct curl_slist *headers = NULL;
	char *token = NULL, *body = NULL, err[512], *url, *auth = NULL;
	CURL *curl = curl_easy_init();
	size_t len;
	int r = 0;

	if (rm->token_file && (r = cde_read_secret(rm->token_file, 4096, &token, &len)) < 0) {
		fprintf(stderr, "cdevctl %s: --token-file %s: %s\n", cmd, rm->token_file, cde_read_secret_strerror(r));
		curl_easy_cleanup(curl);
		return 2;
	}
	if (!token && getenv("CDEVENTSD_TOKEN"))
		token = strdup(getenv("CDEVENTSD_TOKEN"));
	url = malloc(strlen(rm->url) + strlen(path) + 1);
	if (token && (auth = malloc(strlen(token) + 32)))
		sprintf(auth, "Authorization: Bearer %s", token);
	if (!curl || !url || (token && !auth)) {
		fprintf(stderr, "cdevctl %s: out of memory\n", cmd);
		r = -ENOMEM;
	} else {
		sprintf(url, "%s%s", rm->url, path);
		headers = auth ? curl_slist_append(NULL, auth) : NULL;
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
		r = cde_cli_http_get(curl, url, headers, &body, err, sizeof(err));
		if (r < 0)
			fprintf(stderr, "cdevctl %s: %s\n", cmd, err);
	}
	if (token)
		explicit_bzero(token, strlen(token));
	if (auth)
		explicit_bzero(auth, strlen(auth));
	free(token);
	free(auth);
	free(url);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	if (r < 0)
		return 2;
	*ret = cJSON_Parse(body);
	if (!*ret) {
		fprintf(stderr, "cdevctl %s: the daemon's answer is not JSON\n", cmd);
		free(body);
		return 2;
	}
	*ret_text = body;
	return 0;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : "-";
}

static double num(const cJSON *o, const char *name, bool *has)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	*has = cJSON_IsNumber(v);
	return *has ? v->valuedouble : 0;
}

static void print_env(const cJSON *doc)
{
	const cJSON *s;

	printf("%-24s %-48s %-27s %8s %-12s %-10s %s\n", "SERVICE", "ARTIFACT", "SINCE", "SEQ", "PRINCIPAL",
	       "CHANGE", "PREVIOUS");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "services")) {
		const cJSON *prev = cJSON_GetObjectItemCaseSensitive(s, "previous");
		bool has;
		double seq = num(s, "seq", &has);

		printf("%-24s %-48s %-27s %8.0f %-12s %-10s %s\n", str(s, "service"), str(s, "artifactId"),
		       str(s, "since"), seq, *str(s, "principal") ? str(s, "principal") : "-", str(s, "change"),
		       cJSON_IsObject(prev) ? str(prev, "artifactId") : "-");
	}
}

/* Asks for @path and prints the answer: the daemon's JSON with --json,
 * else through @print. Returns the exit status. */
static int show(const char *cmd, const struct remote *rm, const char *path, void (*print)(const cJSON *doc))
{
	char *text = NULL;
	cJSON *doc = NULL;
	int r = get(cmd, rm, path, &doc, &text);

	if (r == 0 && rm->json)
		puts(text);
	else if (r == 0)
		print(doc);
	cJSON_Delete(doc);
	free(text);
	return r;
}

/* Parses the common options; returns -1 to go on, else an exit status. */
static int options(int argc, char **argv, const char *usage, struct remote *rm, struct dora_filters *f)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },   { "token-file", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },	    { "service", required_argument, NULL, 's' },
		{ "env", required_argument, NULL, 'e' },   { "window", required_argument, NULL, 'w' },
		{ "until", required_argument, NULL, 'U' }, { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	rm->url = DEFAULT_URL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u': rm->url = optarg; break;
		case 't': rm->token_file = optarg; break;
		case 'j': rm->json = true; break;
		case 's':
		case 'e':
		case 'w':
		case 'U':
			/* the filters are cdevctl dora's only */
			if (!f)
				goto bad;
			*(c == 's' ? &f->service : c == 'e' ? &f->env : c == 'w' ? &f->window : &f->until) = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			goto bad;
		}
	}
	return -1;
bad:
	fputs(usage, stderr);
	return 2;
}

int cde_cmd_env(int argc, char **argv)
{
	struct remote rm = { 0 };
	char path[1024], *esc;
	int r = options(argc, argv, env_usage, &rm, NULL);

	if (r >= 0)
		return r;
	if (optind != argc - 1) {
		fputs(env_usage, stderr);
		return 2;
	}
	esc = curl_easy_escape(NULL, argv[optind], 0);
	if (!esc)
		return 2;
	snprintf(path, sizeof(path), "/v1/environments/%s", esc);
	curl_free(esc);
	return show("env", &rm, path, print_env);
}

/* Seconds as "1d 02:03:04" (whole seconds, rounded), or "-". */
static void duration(const cJSON *key, char *out, size_t size)
{
	bool has;
	double v = num(key, "medianSeconds", &has);
	long long t = (long long)(v + 0.5);

	if (!has)
		snprintf(out, size, "-");
	else if (t >= 86400)
		snprintf(out, size, "%lldd %02lld:%02lld:%02lld", t / 86400, t % 86400 / 3600, t % 3600 / 60, t % 60);
	else
		snprintf(out, size, "%02lld:%02lld:%02lld", t / 3600, t % 3600 / 60, t % 60);
}

static void print_dora(const cJSON *doc)
{
	const cJSON *s;

	printf("window %s (%s to %s)\n", str(doc, "window"), str(doc, "since"), str(doc, "until"));
	printf("%-24s %-12s %7s %9s %-7s %14s %-7s %9s %-7s %14s %-7s\n", "SERVICE", "ENVIRONMENT", "DEPLOYS",
	       "PER DAY", "BAND", "LEAD TIME", "BAND", "FAILURES", "BAND", "RESTORE", "BAND");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "services")) {
		const cJSON *df = cJSON_GetObjectItemCaseSensitive(s, "deploymentFrequency");
		const cJSON *lt = cJSON_GetObjectItemCaseSensitive(s, "leadTime");
		const cJSON *cfr = cJSON_GetObjectItemCaseSensitive(s, "changeFailureRate");
		const cJSON *ttr = cJSON_GetObjectItemCaseSensitive(s, "timeToRestore");
		char lead[32], restore[32], failures[32];
		bool has;
		double ratio = num(cfr, "ratio", &has);

		duration(lt, lead, sizeof(lead));
		duration(ttr, restore, sizeof(restore));
		if (has)
			snprintf(failures, sizeof(failures), "%.1f%%", ratio * 100);
		else
			snprintf(failures, sizeof(failures), "-");
		printf("%-24s %-12s %7.0f %9.3f %-7s %14s %-7s %9s %-7s %14s %-7s\n", str(s, "service"),
		       str(s, "environment"), num(df, "deployments", &has), num(df, "perDay", &has), str(df, "band"),
		       lead, str(lt, "band"), failures, str(cfr, "band"), restore, str(ttr, "band"));
	}
}

/* "&name=value", the value percent-encoded, after @path. */
static int add_param(char *path, size_t size, const char *name, const char *value)
{
	char *esc;
	size_t n = strlen(path);

	if (!value)
		return 0;
	esc = curl_easy_escape(NULL, value, 0);
	if (!esc)
		return -ENOMEM;
	snprintf(path + n, size - n, "%s%s=%s", strchr(path, '?') ? "&" : "?", name, esc);
	curl_free(esc);
	return 0;
}

int cde_cmd_dora(int argc, char **argv)
{
	struct remote rm = { 0 };
	struct dora_filters f = { 0 };
	char path[2048] = "/v1/dora";
	int r = options(argc, argv, dora_usage, &rm, &f);

	if (r >= 0)
		return r;
	if (optind != argc) {
		fputs(dora_usage, stderr);
		return 2;
	}
	if (add_param(path, sizeof(path), "service", f.service) < 0 ||
	    add_param(path, sizeof(path), "environment", f.env) < 0 ||
	    add_param(path, sizeof(path), "window", f.window) < 0 || add_param(path, sizeof(path), "until", f.until) < 0)
		return 2;
	return show("dora", &rm, path, print_dora);
}
