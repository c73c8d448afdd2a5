#pragma once
/* A bounded list of validation errors, each a JSON pointer and a reason. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define CDE_ERRORS_MAX 32
#define CDE_ERROR_POINTER_MAX 256
#define CDE_ERROR_REASON_MAX 192

struct cde_error {
	char pointer[CDE_ERROR_POINTER_MAX];
	char reason[CDE_ERROR_REASON_MAX];
};

/* Fixed capacity on purpose: reporting an error must never need an
 * allocation, and a hostile document must not make the list grow without
 * bound. Errors past the capacity are only counted. */
struct cde_errors {
	size_t count;
	size_t dropped;
	struct cde_error items[CDE_ERRORS_MAX];
};

/* Empties @errs. */
void cde_errors_reset(struct cde_errors *errs);

/* Appends an error at @pointer ("" is the document root) with a printf-style
 * reason. Over-long pointers and reasons are truncated; past CDE_ERRORS_MAX
 * the error is counted in @errs->dropped. */
void cde_errors_add(struct cde_errors *errs, const char *pointer, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cde_errors_addv(struct cde_errors *errs, const char *pointer, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* True when no error was added since the last reset. */
bool cde_errors_empty(const struct cde_errors *errs);

/* Returns a new cJSON array [{"pointer":..., "reason":...}] (caller frees),
 * or NULL when out of memory. */
cJSON *cde_errors_to_json(const struct cde_errors *errs);

/* Writes "pointer: reason; pointer: reason" into @buf (always terminated). */
void cde_errors_format(const struct cde_errors *errs, char *buf, size_t size);
