/* cdevctl audit verify --checkpoint --url: asks a running daemon for its
 * current checkpoint (GET /v1/log/checkpoint) and the consistency proof
 * from the kept one (GET /v1/log/proof/consistency), and checks both with
 * the public key: nothing the daemon says is taken on trust. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cli/audit_remote.h"
#include "cli/tlog_cli.h"
#include "schemas/base/read_file.h"
#include "sinks/audit/audit_proof.h"
#include "sinks/audit/audit_tree_verify.h"

/* GET @url into *@ret (malloc'd); -EIO with the reason on stderr. */
static int get(const char *url, const char *token, char **ret)
{
	struct curl_slist *headers = NULL;
	char auth[4200], err[512];
	CURL *curl = curl_easy_init();
	int r = -EIO;

	if (!curl) {
		fprintf(stderr, "cdevctl audit verify: cannot start libcurl\n");
		return -EIO;
	}
	if (token) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
	r = cde_cli_http_get(curl, url, headers, ret, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "cdevctl audit verify: %s\n", err);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return r;
}

/* The daemon's checkpoint, opened with @v: the body is the note, or a
 * JSON object whose "checkpoint" is. Returns the exit status, -1 to go on. */
static int remote_checkpoint(const char *base, const char *token, struct cde_note_verifier *v, uint64_t *size,
			     uint8_t root[32])
{
	char url[2048], *body = NULL, why[256];
	cJSON *doc;
	const cJSON *note;
	int r;

	snprintf(url, sizeof(url), "%s/v1/log/checkpoint", base);
	if (get(url, token, &body) < 0)
		return 2;
	doc = cJSON_Parse(body);
	note = cJSON_GetObjectItemCaseSensitive(doc, "checkpoint");
	r = cde_audit_checkpoint_open(cJSON_IsString(note) ? note->valuestring : body,
				      (struct cde_note_verifier *const[]){ v }, 1, size, root, NULL, 0, why, sizeof(why));
	cJSON_Delete(doc);
	free(body);
	if (r < 0) {
		printf("%s: the daemon's checkpoint does not verify with the key: %s\n", base, why);
		return 1;
	}
	return -1;
}

static char *token_of(const char *file)
{
	char *token = NULL;
	size_t len;

	if (file) {
		int r = cde_read_secret(file, 4096, &token, &len);

		if (r < 0)
			fprintf(stderr, "cdevctl audit verify: --token-file %s: %s\n", file, cde_read_secret_strerror(r));
		return token;
	}
	return getenv("CDEVENTSD_TOKEN") ? strdup(getenv("CDEVENTSD_TOKEN")) : NULL;
}

static int check_remote(const char *base, const char *token, struct cde_note_verifier *v, uint64_t size,
			const uint8_t root[32])
{
	uint8_t now_root[32];
	uint64_t now = 0;
	char url[2048], *body = NULL, why[256];
	cJSON *proof;
	int r = remote_checkpoint(base, token, v, &now, now_root);

	if (r >= 0)
		return r;
	if (now < size) {
		printf("%s: truncated: the log has %llu entries, the checkpoint %llu\nfirst bad index: %llu\n", base,
		       (unsigned long long)now, (unsigned long long)size, (unsigned long long)now);
		return 1;
	}
	snprintf(url, sizeof(url), "%s/v1/log/proof/consistency?from=%llu&to=%llu", base, (unsigned long long)size,
		 (unsigned long long)now);
	if (get(url, token, &body) < 0)
		return 2;
	proof = cJSON_Parse(body);
	free(body);
	r = cde_audit_consistency_verify(proof, size, root, now, now_root, why, sizeof(why));
	cJSON_Delete(proof);
	if (r == -ENOMEM)
		return 2;
	if (r < 0) {
		/* A proof that fails says the trees part somewhere in the
		 * first @size entries; which one, only the file can tell. */
		printf("%s: forked: %s\nfirst bad index: in [0, %llu)\n", base, why, (unsigned long long)size);
		return 1;
	}
	printf("%s: holds: its signed tree of %llu entries extends the checkpoint of %llu (consistency proof "
	       "verified)\n", base, (unsigned long long)now, (unsigned long long)size);
	return 0;
}

int cde_cli_verify_remote(const char *url, const char *token_file, struct cde_note_verifier *v, uint64_t size,
			  const uint8_t root[32])
{
	char *token = token_of(token_file);
	int r;

	if (token_file && !token)
		return 2;
	r = check_remote(url, token, v, size, root);
	if (token)
		explicit_bzero(token, strlen(token));
	free(token);
	return r;
}
