#pragma once
/* cdevctl's client of GET /v1/events. */

#include <stddef.h>

#include <curl/curl.h>

#include "sinks/audit/audit_query.h"

/* Asks the daemon at @url (http://host:port) for the records matching @f,
 * page after page, and calls @fn for each (at most @f->limit in all, when
 * set). @token, when not NULL, is sent as a bearer token. Returns 0, what
 * @fn returned, or -EIO with the reason in @err. */
int cde_cli_audit_remote(const char *url, const char *token, const struct cde_audit_filter *f,
			 int (*fn)(void *ctx, const struct cde_audit_record *rec), void *ctx, char *err,
			 size_t err_size);

/* GET @url with @headers on @curl: the body of a 200 answer in *@ret
 * (malloc'd, NUL-terminated, at most 64 MiB). 0, or -EIO with the reason
 * (the error, or the answer's status body) in @err. */
int cde_cli_http_get(CURL *curl, const char *url, struct curl_slist *headers, char **ret, char *err,
		     size_t err_size);
