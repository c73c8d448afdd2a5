#pragma once
/* The string formats the CDEvents schemas use: date-time, uri, uri-reference.
 *
 * The official schemas are JSON Schema 2020-12 checked by ajv with
 * ajv-formats in its default "full" mode (the specification's own
 * tools/validate.js). These predicates accept exactly what that oracle
 * accepts, so that cdeventsd and the reference tooling never disagree on an
 * event; tests/js/agreement.mjs holds them to it. Where the oracle is more
 * lenient than the RFC, the comment at the predicate says so. */

#include <stdbool.h>
#include <stddef.h>

/* RFC 3339 date-time with a mandatory offset. */
bool cde_format_is_date_time(const char *s);

/* RFC 3986 URI: a scheme is required. */
bool cde_format_is_uri(const char *s);

/* RFC 3986 URI-reference: a URI or a relative reference. */
bool cde_format_is_uri_reference(const char *s);
