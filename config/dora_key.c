/* The `dora:` map: {failure_window: 24h, window: 30d, interval: 60s}.
 * failure_window: how soon after a deployment a rollback or an incident
 * makes it a failed one; window: the window of the DORA gauges in
 * /metrics (GET /v1/dora takes its own); interval: how often the gauges
 * are computed (off the loop, on the audit reader's thread). */

#include <errno.h>
#include <string.h>

#include "config/config_internal.h"
#include "schemas/base/json_read.h"

static int read_age(const cJSON *item, uint64_t *dst, uint64_t min, struct cde_json_reader *rd)
{
	uint64_t v;

	if (!cJSON_IsString(item) || cde_config_parse_age(item->valuestring, &v) < 0 || v < min ||
	    v > 3650ull * 86400)
		return cde_json_reader_fail(rd, item->string, "must be a duration with its unit, from %s to 3650d "
					    "(24h, 30d, 2w)", min >= 3600 ? "1h" : "1s");
	*dst = v;
	return 0;
}

static int read_interval(const cJSON *item, unsigned *dst, struct cde_json_reader *rd)
{
	unsigned ms;

	if (!cJSON_IsString(item) || cde_config_parse_duration(item->valuestring, &ms) < 0 || ms < 1000 ||
	    ms > 24u * 3600 * 1000)
		return cde_json_reader_fail(rd, item->string, "must be a duration from 1s to 24h (60s, 5m)");
	*dst = ms;
	return 0;
}

int cde_config_apply_dora(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	const cJSON *dora = cJSON_GetObjectItemCaseSensitive(doc, "dora"), *item;
	struct cde_json_reader rd;
	int r = 0;

	if (!dora || cJSON_IsNull(dora))
		return 0;
	cde_config_reader_init(&rd, "/dora", path, errs);
	if (!cde_json_read_value(&rd, dora, cJSON_Object, 0, " ({failure_window, window, interval})"))
		return -EINVAL;
	cJSON_ArrayForEach(item, dora) {
		if (strcmp(item->string, "failure_window") == 0)
			r |= read_age(item, &cfg->dora.failure_window_s, 1, &rd);
		else if (strcmp(item->string, "window") == 0)
			r |= read_age(item, &cfg->dora.window_s, 3600, &rd);
		else if (strcmp(item->string, "interval") == 0)
			r |= read_interval(item, &cfg->dora.interval_ms, &rd);
		else
			r |= cde_json_reader_fail(&rd, item->string,
						  "unknown key for dora (failure_window, window, interval)");
	}
	return r ? -EINVAL : 0;
}
