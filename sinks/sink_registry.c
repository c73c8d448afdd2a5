/* The registry of sink types: one line per type, its table, found by
 * the name a configuration gives as `type:`. Adding a sink type is its own
 * file (a static const struct cde_sink_ops with its name and config keys)
 * plus one line here; the engine finds the table through this and never
 * names a type. The tables are const and complete, so the hot path never
 * checks a slot. */

#include "sinks/sink.h"

#include <string.h>

static const struct cde_sink_ops *const registry[] = {
	&cde_sink_tekton,
	&cde_sink_webhook,
	&cde_sink_file,
	&cde_sink_nats,
};

#define N_TYPES (sizeof(registry) / sizeof(registry[0]))

const char *const cde_sink_engine_keys[] = { "max_in_flight", "max_attempts", "max_age", "max_backoff", "upgrade_to",
					     NULL };

const struct cde_sink_ops *cde_sink_ops_find(const char *name)
{
	for (size_t i = 0; i < N_TYPES; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

size_t cde_sink_types_count(void)
{
	return N_TYPES;
}

const struct cde_sink_ops *cde_sink_ops_at(size_t i)
{
	return i < N_TYPES ? registry[i] : NULL;
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
