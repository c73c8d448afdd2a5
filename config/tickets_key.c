/* The `tickets:` map: {environments: [ENV...]}, the environments whose
 * accepted deployments get a change ticket (ticket.created, closed when
 * the release's pipeline finishes: daemon/api_tickets.c). */

#include <errno.h>
#include <string.h>

#include "config/config_internal.h"
#include "schemas/base/json_read.h"

static int apply_environments(const cJSON *envs, struct cde_config *cfg, struct cde_json_reader *rd)
{
	size_t mark = cde_ptr_push(&rd->p, "environments");
	int r = 0;

	if (!cde_json_read_value(rd, envs, cJSON_Array, CDE_JSON_REQUIRED | CDE_JSON_NON_EMPTY,
				 " of environment ids")) {
		r = -EINVAL;
	} else if (cJSON_GetArraySize(envs) > CDE_CONFIG_TICKET_ENVS_MAX) {
		r = cde_json_reader_fail(rd, NULL, "more than %d environments", CDE_CONFIG_TICKET_ENVS_MAX);
	} else {
		for (int i = 0; i < cJSON_GetArraySize(envs); i++) {
			size_t at = cde_ptr_push_index(&rd->p, (size_t)i);
			const cJSON *e = cde_json_read_value(rd, cJSON_GetArrayItem(envs, i), cJSON_String,
							     CDE_JSON_REQUIRED | CDE_JSON_NON_EMPTY, " (an environment's id)");

			if (!e || cde_config_copy_bounded(cfg->ticket_envs[i], sizeof(cfg->ticket_envs[i]), e->valuestring,
							  rd->file, cde_ptr_str(&rd->p), rd->errs) < 0)
				r = -EINVAL;
			else
				cfg->n_ticket_envs = (size_t)i + 1;
			cde_ptr_pop(&rd->p, at);
		}
	}
	cde_ptr_pop(&rd->p, mark);
	return r;
}

int cde_config_apply_tickets(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	const cJSON *tickets = cJSON_GetObjectItemCaseSensitive(doc, "tickets"), *item;
	struct cde_json_reader rd;
	int r = 0;

	if (!tickets)
		return 0;
	/* A file that names tickets: replaces the setting as a whole. */
	cfg->n_ticket_envs = 0;
	if (cJSON_IsNull(tickets))
		return 0;
	cde_config_reader_init(&rd, "/tickets", path, errs);
	if (!cde_json_read_value(&rd, tickets, cJSON_Object, 0, " ({environments: [ENV...]})"))
		return -EINVAL;
	cJSON_ArrayForEach(item, tickets) {
		if (strcmp(item->string, "environments") == 0)
			r |= apply_environments(item, cfg, &rd);
		else
			r = cde_json_reader_fail(&rd, item->string, "unknown key (known: environments)");
	}
	if (!cJSON_GetObjectItemCaseSensitive(tickets, "environments"))
		r = cde_json_reader_fail(&rd, "environments", "required: the environments whose deployments get a "
					 "change ticket");
	return r ? -EINVAL : 0;
}
