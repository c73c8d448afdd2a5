/* The `gates:` map: per environment, the evidence an artifact needs
 * before a deployment there. config/ keeps it as compact JSON; the
 * answers layer reads it (sinks/audit/answers/gate_rules.c, called from
 * daemon/config_load.c), so that the words a gate takes are defined once,
 * beside the code that looks for them in the log. */

#include <errno.h>
#include <string.h>

#include "config/config_internal.h"
#include "schemas/base/json_read.h"

int cde_config_apply_gates(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	const cJSON *gates = cJSON_GetObjectItemCaseSensitive(doc, "gates");
	struct cde_json_reader rd;
	char *text;
	int r = 0;

	if (!gates)
		return 0;
	/* A file that names gates: replaces them as a whole, like clusters. */
	cfg->gates[0] = '\0';
	if (cJSON_IsNull(gates))
		return 0;
	cde_config_reader_init(&rd, "/gates", path, errs);
	if (!cde_json_read_value(&rd, gates, cJSON_Object, 0, " from environments to gates ({enforce, require})"))
		return -EINVAL;
	text = cJSON_PrintUnformatted(gates);
	if (!text)
		return -ENOMEM;
	if (strlen(text) >= sizeof(cfg->gates))
		r = cde_json_reader_fail(&rd, NULL, "longer than %zu characters as JSON", sizeof(cfg->gates) - 1);
	else
		memcpy(cfg->gates, text, strlen(text) + 1);
	cJSON_free(text);
	return r;
}
