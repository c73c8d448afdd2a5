/* Error lists: what every library folder returns when input is wrong.
 * The daemon turns them into a 400 body, cdevctl into a line per event. */

#include "schemas/base/errors.h"

#include <stdio.h>
#include <string.h>

void cde_errors_reset(struct cde_errors *errs)
{
	errs->count = 0;
	errs->dropped = 0;
}

void cde_errors_addv(struct cde_errors *errs, const char *pointer, const char *fmt, va_list ap)
{
	if (errs->count >= CDE_ERRORS_MAX) {
		errs->dropped++;
		return;
	}
	struct cde_error *e = &errs->items[errs->count++];
	snprintf(e->pointer, sizeof(e->pointer), "%s", pointer ? pointer : "");
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
}

void cde_errors_add(struct cde_errors *errs, const char *pointer, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cde_errors_addv(errs, pointer, fmt, ap);
	va_end(ap);
}

bool cde_errors_empty(const struct cde_errors *errs)
{
	return errs->count == 0 && errs->dropped == 0;
}

cJSON *cde_errors_to_json(const struct cde_errors *errs)
{
	cJSON *arr = cJSON_CreateArray();

	if (!arr)
		return NULL;
	for (size_t i = 0; i < errs->count; i++) {
		cJSON *o = cJSON_CreateObject();

		if (!o)
			goto err_free_arr;
		if (!cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			goto err_free_arr;
		}
		if (!cJSON_AddStringToObject(o, "pointer", errs->items[i].pointer) ||
		    !cJSON_AddStringToObject(o, "reason", errs->items[i].reason))
			goto err_free_arr;
	}
	return arr;

err_free_arr:
	cJSON_Delete(arr);
	return NULL;
}

void cde_errors_format(const struct cde_errors *errs, char *buf, size_t size)
{
	size_t off = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < errs->count && off < size; i++) {
		int n = snprintf(buf + off, size - off, "%s%s: %s", i ? "; " : "",
				 errs->items[i].pointer[0] ? errs->items[i].pointer : "/",
				 errs->items[i].reason);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (errs->dropped && off < size)
		snprintf(buf + off, size - off, "; (%zu more)", errs->dropped);
}
