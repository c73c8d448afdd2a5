/* cdevctl gate: asks a running daemon's promotion gate whether an
 * artifact may go to an environment (GET /v1/gates/{environment}), and
 * prints each requirement as a table. The exit status is the answer, so
 * a Tekton step or a Jenkins `sh` step stops a release on deny:
 * 0 allow, 1 deny, 2 the question could not be asked. */

#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cli/audit_remote.h"
#include "cli/commands.h"
#include "schemas/base/read_file.h"

static const char usage[] =
	"usage: cdevctl gate --env ENVIRONMENT --artifact PURL [--url URL] [--token-file FILE] [--json]\n"
	"  asks the daemon (default http://127.0.0.1:9720) whether PURL may be deployed to ENVIRONMENT;\n"
	"  the decision is written to the audit log as an event of the artifact's chain (the same\n"
	"  answer to the same principal within 15 minutes names the decision already logged).\n"
	"  --json  print the daemon's answer as it is instead of a table\n"
	"  exit status: 0 allow, 1 deny, 2 error. The token is read from --token-file or\n"
	"  $CDEVENTSD_TOKEN, never from the command line.\n";

/* "tests data-contract success": the requirement in the file's words. */
static void describe(const cJSON *row, char *out, size_t size)
{
	static const char *const params[] = { "suite", "type", "state", "environment", "outcome",
					      "notRolledBackFor", NULL };
	size_t used = (size_t)snprintf(out, size, "%s",
				       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "requirement")));

	for (size_t i = 0; params[i] && used < size; i++) {
		const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, params[i]));

		if (v)
			used += (size_t)snprintf(out + used, size - used, " %s", v);
	}
}

/* Prints @answer as a table unless @quiet; 0 allow, 1 deny, -EINVAL. */
static int print_table(const cJSON *answer, bool quiet)
{
	const char *decision = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "decision"));
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(answer, "requirements"), *row;
	const cJSON *event = cJSON_GetObjectItemCaseSensitive(answer, "event");

	if (!decision || !cJSON_IsArray(rows))
		return -EINVAL;
	if (quiet)
		return strcmp(decision, "allow") == 0 ? 0 : 1;
	printf("gate %s for %s: %s (decision %s at seq %.0f)\n",
	       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "environment")),
	       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "artifact")), decision,
	       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(event, "reused")) ? "already logged" : "logged",
	       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(event, "seq")));
	printf("%-40s %-4s %8s  %s\n", "REQUIREMENT", "MET", "SEQ", "REASON");
	cJSON_ArrayForEach(row, rows) {
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(row, "seq");
		const char *reason = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(row, "reason"));
		char what[256], seq_text[24] = "-";

		describe(row, what, sizeof(what));
		if (cJSON_IsNumber(seq))
			snprintf(seq_text, sizeof(seq_text), "%.0f", seq->valuedouble);
		printf("%-40s %-4s %8s  %s\n", what,
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "met")) ? "yes" : "no", seq_text,
		       reason ? reason : "");
	}
	return strcmp(decision, "allow") == 0 ? 0 : 1;
}

/* GET the gate's answer into *@ret. Returns 0 or -EIO/-ENOMEM with @err. */
static int ask(const char *base, const char *env, const char *artifact, const char *token, char **ret,
	       char *err, size_t err_size)
{
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	char *e_env = NULL, *e_art = NULL, *url = NULL, *auth = NULL;
	int r = -ENOMEM;

	if (!curl)
		goto out;
	e_env = curl_easy_escape(curl, env, 0);
	e_art = curl_easy_escape(curl, artifact, 0);
	if (!e_env || !e_art || asprintf(&url, "%s/v1/gates/%s?artifact=%s", base, e_env, e_art) < 0) {
		url = NULL;
		goto out;
	}
	if (token) {
		struct curl_slist *h;

		if (asprintf(&auth, "Authorization: Bearer %s", token) < 0) {
			auth = NULL;
			goto out;
		}
		h = curl_slist_append(headers, auth);
		if (!h)
			goto out;
		headers = h;
	}
	r = cde_cli_http_get(curl, url, headers, ret, err, err_size);
out:
	if (r == -ENOMEM)
		snprintf(err, err_size, "out of memory");
	curl_slist_free_all(headers);
	free(auth);
	free(url);
	curl_free(e_art);
	curl_free(e_env);
	curl_easy_cleanup(curl);
	return r;
}

int cde_cmd_gate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "env", required_argument, NULL, 'e' },	  { "artifact", required_argument, NULL, 'a' },
		{ "url", required_argument, NULL, 'u' },	  { "token-file", required_argument, NULL, 'K' },
		{ "json", no_argument, NULL, 'j' },		  { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *env = NULL, *artifact = NULL, *url = "http://127.0.0.1:9720", *token_file = NULL;
	char *token = NULL, *body = NULL, err[1024];
	bool json = false;
	cJSON *answer;
	size_t len;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e': env = optarg; break;
		case 'a': artifact = optarg; break;
		case 'u': url = optarg; break;
		case 'K': token_file = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (!env || !artifact || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (token_file) {
		r = cde_read_secret(token_file, 4096, &token, &len);
		if (r < 0) {
			fprintf(stderr, "cdevctl gate: --token-file %s: %s\n", token_file, cde_read_secret_strerror(r));
			return 2;
		}
	} else if (getenv("CDEVENTSD_TOKEN")) {
		token = strdup(getenv("CDEVENTSD_TOKEN"));
	}
	r = ask(url, env, artifact, token, &body, err, sizeof(err));
	free(token);
	if (r < 0) {
		fprintf(stderr, "cdevctl gate: %s\n", err);
		return 2;
	}
	answer = cJSON_Parse(body);
	if (json && answer)
		puts(body);
	r = answer ? print_table(answer, json) : -EINVAL;
	free(body);
	cJSON_Delete(answer);
	if (r < 0) {
		fprintf(stderr, "cdevctl gate: %s: not an answer of cdeventsd\n", url);
		return 2;
	}
	return r;
}
