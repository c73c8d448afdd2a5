/* The registry of sink types: one line per type, mapping the
 * configuration's enum to the type's table. Adding a sink type is its own
 * file (a static const struct cde_sink_ops with its name and config keys)
 * plus one line here; the engine finds the table through this and never
 * names a type. The tables are const and complete, so the hot path never
 * checks a slot. */

#include "sinks/sink.h"

#include <string.h>

static const struct registration {
	enum cde_sink_type type;
	const struct cde_sink_ops *ops;
} registry[] = {
	{ CDE_SINK_TEKTON, &cde_sink_tekton },
	{ CDE_SINK_WEBHOOK, &cde_sink_webhook },
	{ CDE_SINK_FILE, &cde_sink_file },
};

#define N_TYPES (sizeof(registry) / sizeof(registry[0]))

const char *const cde_sink_engine_keys[] = { "max_in_flight", "max_attempts", "max_age", "max_backoff", NULL };

const struct cde_sink_ops *cde_sink_ops_of(enum cde_sink_type type)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (registry[i].type == type)
			return registry[i].ops;
	return NULL;
}

const struct cde_sink_ops *cde_sink_ops_find(const char *name, enum cde_sink_type *ret_type)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (strcmp(registry[i].ops->name, name) == 0)
			return cde_sink_ops_at(i, ret_type);
	return NULL;
}

size_t cde_sink_types_count(void)
{
	return N_TYPES;
}

const struct cde_sink_ops *cde_sink_ops_at(size_t i, enum cde_sink_type *ret_type)
{
	if (i >= N_TYPES)
		return NULL;
	if (ret_type)
		*ret_type = registry[i].type;
	return registry[i].ops;
}

static bool listed(const char *const *keys, const char *key)
{
	for (; keys && *keys; keys++)
		if (strcmp(*keys, key) == 0)
			return true;
	return false;
}

bool cde_sink_ops_takes_key(const struct cde_sink_ops *ops, const char *key)
{
	return listed(cde_sink_engine_keys, key) || listed(ops->config_keys, key);
}
