/* Length limits on ids, names, sources and chain ids. Without them a
 * 100 KB id is stored, indexed and copied into every link that points at
 * it, and fixed buffers further down (chain correlation) would cut it
 * and make it name something else. The limits go by member name, so that
 * every version of the spec and every subject type get the same ones. */

#include "events/limits.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "schemas/base/json_pointer.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* The limit of a member named @name, or 0 for none. */
static size_t limit_of(const char *name)
{
	if (!name)
		return 0;
	if (strcmp(name, "source") == 0 || ends_with(name, "Source"))
		return CDE_EVENT_SOURCE_MAX;
	if (strcmp(name, "id") == 0 || strcmp(name, "name") == 0 || ends_with(name, "Id") ||
	    ends_with(name, "Name"))
		return CDE_EVENT_ID_MAX;
	return 0;
}

static void check(const cJSON *node, struct cde_ptr *ptr, struct cde_errors *errs)
{
	size_t index = 0, max = cJSON_IsString(node) ? limit_of(node->string) : 0;
	const cJSON *c;

	if (max && strlen(node->valuestring) > max)
		cde_errors_add(errs, cde_ptr_str(ptr), "too long: at most %zu bytes", max);
	cJSON_ArrayForEach(c, node) {
		size_t m = cJSON_IsObject(node) ? cde_ptr_push(ptr, c->string)
						: cde_ptr_push_index(ptr, index);

		check(c, ptr, errs);
		cde_ptr_pop(ptr, m);
		index++;
	}
}

int cde_event_check_lengths(const cJSON *doc, struct cde_errors *errs)
{
	static const char *const parts[] = { "context", "subject" };
	size_t before = errs->count + errs->dropped;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		const cJSON *part = cJSON_GetObjectItemCaseSensitive(doc, parts[i]);
		struct cde_ptr ptr;

		if (!part)
			continue;
		cde_ptr_init(&ptr);
		cde_ptr_push(&ptr, parts[i]);
		check(part, &ptr, errs);
	}
	return errs->count + errs->dropped > before ? -EINVAL : 0;
}
