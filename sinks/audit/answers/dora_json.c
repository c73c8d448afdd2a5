/* The DORA keys as GET /v1/dora answers them, their bands, and the
 * windows they are asked over.
 *
 * Bands are the cut points of the 2023 Accelerate State of DevOps
 * report's performance clusters, read as: deployment frequency elite at
 * one a day or more (the report's "on demand"), high at one a week,
 * medium at one a month; lead time elite under a day, high under a week,
 * medium under a month; change failure rate elite up to 5 %, high up to
 * 10 %, medium up to 15 %; time to restore elite under an hour, high
 * under a day, medium under a week; anything else low. The report's
 * ranges overlap or leave gaps between clusters; a cut point closes them. */

#include "sinks/audit/answers/dora.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/ids.h"

#define DAY 86400.0

enum cde_dora_band cde_dora_band_of(enum cde_dora_key k, double v)
{
	switch (k) {
	case CDE_DORA_FREQUENCY:
		return v >= 1 ? CDE_DORA_ELITE : v >= 1 / 7.0 ? CDE_DORA_HIGH : v >= 1 / 30.0 ? CDE_DORA_MEDIUM
												 : CDE_DORA_LOW;
	case CDE_DORA_LEAD_TIME:
		return v < DAY ? CDE_DORA_ELITE : v < 7 * DAY ? CDE_DORA_HIGH : v < 30 * DAY ? CDE_DORA_MEDIUM
											      : CDE_DORA_LOW;
	case CDE_DORA_FAILURE_RATE:
		return v <= 0.05 ? CDE_DORA_ELITE : v <= 0.10 ? CDE_DORA_HIGH : v <= 0.15 ? CDE_DORA_MEDIUM
											  : CDE_DORA_LOW;
	case CDE_DORA_RESTORE:
		return v < 3600 ? CDE_DORA_ELITE : v < DAY ? CDE_DORA_HIGH : v < 7 * DAY ? CDE_DORA_MEDIUM
											 : CDE_DORA_LOW;
	case CDE_DORA_KEYS:
		break;
	}
	return CDE_DORA_NO_BAND;
}

const char *cde_dora_band_name(enum cde_dora_band b)
{
	static const char *const names[] = {
		[CDE_DORA_LOW] = "low", [CDE_DORA_MEDIUM] = "medium", [CDE_DORA_HIGH] = "high",
		[CDE_DORA_ELITE] = "elite",
	};

	return b > CDE_DORA_NO_BAND && b <= CDE_DORA_ELITE ? names[b] : NULL;
}

int cde_dora_parse_window(const char *s, int64_t *ret_s)
{
	char *end;
	unsigned long long n;

	if (!s || *s < '1' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end[0] == '\0' || end[1] != '\0' || n > 3650 * 24)
		return -EINVAL;
	if (*end == 'd' && n <= 3650)
		*ret_s = (int64_t)n * 86400;
	else if (*end == 'h')
		*ret_s = (int64_t)n * 3600;
	else
		return -EINVAL;
	return 0;
}

/* "band": its name, or null for a key without a value. */
static bool add_band(cJSON *o, enum cde_dora_band b)
{
	const char *name = cde_dora_band_name(b);

	return name ? cJSON_AddStringToObject(o, "band", name) != NULL : cJSON_AddNullToObject(o, "band") != NULL;
}

/* @v as the shortest text that reads back as the same double: cJSON
 * prints 15 digits when they read back as nearly the same, and a ratio
 * such as 2/22 would then differ from the client's own division. */
static bool add_number(cJSON *o, const char *name, double v)
{
	char text[32];

	for (int digits = 15; digits <= 17; digits++) {
		snprintf(text, sizeof(text), "%.*g", digits, v);
		if (strtod(text, NULL) == v)
			break;
	}
	return cJSON_AddRawToObject(o, name, text) != NULL;
}

static bool add_value(cJSON *o, const char *name, bool has, double v)
{
	return has ? add_number(o, name, v) : cJSON_AddNullToObject(o, name) != NULL;
}

static bool add_keys(cJSON *o, const struct cde_dora_keys *k)
{
	cJSON *df = cJSON_AddObjectToObject(o, "deploymentFrequency");
	cJSON *lt = cJSON_AddObjectToObject(o, "leadTime");
	cJSON *cfr = cJSON_AddObjectToObject(o, "changeFailureRate");
	cJSON *ttr = cJSON_AddObjectToObject(o, "timeToRestore");

	return df && lt && cfr && ttr && cJSON_AddNumberToObject(df, "deployments", k->deployments) &&
	       add_number(df, "perDay", k->per_day) && add_band(df, k->band[CDE_DORA_FREQUENCY]) &&
	       add_value(lt, "medianSeconds", k->lead_samples, k->lead_median_s) &&
	       cJSON_AddNumberToObject(lt, "samples", k->lead_samples) && add_band(lt, k->band[CDE_DORA_LEAD_TIME]) &&
	       cJSON_AddNumberToObject(cfr, "failed", k->failed) &&
	       cJSON_AddNumberToObject(cfr, "deployments", k->deployments) &&
	       add_value(cfr, "ratio", k->deployments, k->deployments ? (double)k->failed / k->deployments : 0) &&
	       add_band(cfr, k->band[CDE_DORA_FAILURE_RATE]) &&
	       add_value(ttr, "medianSeconds", k->restore_samples, k->restore_median_s) &&
	       cJSON_AddNumberToObject(ttr, "samples", k->restore_samples) && add_band(ttr, k->band[CDE_DORA_RESTORE]);
}

static bool add_time(cJSON *o, const char *name, int64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)t };
	char text[CDE_TIMESTAMP_STR_LEN];

	return cde_timestamp_format(&ts, text) == 0 && cJSON_AddStringToObject(o, name, text);
}

cJSON *cde_dora_report_json(const struct cde_dora_report *r, const struct cde_dora_params *p, const char *window)
{
	cJSON *o = cJSON_CreateObject(), *list;

	if (!o || !cJSON_AddStringToObject(o, "window", window) || !add_time(o, "since", p->now - p->window_s) ||
	    !add_time(o, "until", p->now) ||
	    !cJSON_AddNumberToObject(o, "failureWindowSeconds", (double)p->failure_window_s) ||
	    !(list = cJSON_AddArrayToObject(o, "services")))
		goto err;
	for (size_t i = 0; i < r->n; i++) {
		cJSON *item = cJSON_CreateObject();

		if (!item || !cJSON_AddItemToArray(list, item)) {
			cJSON_Delete(item);
			goto err;
		}
		if (!cJSON_AddStringToObject(item, "service", r->v[i].service) ||
		    !cJSON_AddStringToObject(item, "environment", r->v[i].environment) || !add_keys(item, &r->v[i]))
			goto err;
	}
	return o;
err:
	cJSON_Delete(o);
	return NULL;
}
