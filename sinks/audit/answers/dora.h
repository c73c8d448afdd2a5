#pragma once
/* The four DORA keys per service and environment over a window, read
 * from the audit log: deployment frequency, lead time for changes,
 * change failure rate, time to restore, each with its performance band
 * (the cut points of the 2023 Accelerate State of DevOps report). */

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "sinks/audit/audit_reader.h"

enum cde_dora_band { CDE_DORA_NO_BAND, CDE_DORA_LOW, CDE_DORA_MEDIUM, CDE_DORA_HIGH, CDE_DORA_ELITE };

enum cde_dora_key { CDE_DORA_FREQUENCY, CDE_DORA_LEAD_TIME, CDE_DORA_FAILURE_RATE, CDE_DORA_RESTORE, CDE_DORA_KEYS };

struct cde_dora_params {
	const char *service, *environment;	/* NULL: every one */
	int64_t now;				/* the window ends here (seconds since the epoch) */
	int64_t window_s;			/* and starts this long before (excluded) */
	int64_t failure_window_s;		/* a failure this soon after a deployment is its failure */
};

/* One service in one environment. Medians are of the samples in the
 * window; with none, the key has no value and no band. */
struct cde_dora_keys {
	char *service, *environment;
	unsigned deployments, failed;
	double per_day;
	unsigned lead_samples, restore_samples;
	double lead_median_s, restore_median_s;
	enum cde_dora_band band[CDE_DORA_KEYS];
};

struct cde_dora_report {
	struct cde_dora_keys *v;		/* by service, then environment */
	size_t n;
};

/* Computes @p's report through @src into @ret (the caller releases it).
 * Returns 0, -ENOMEM, or what the source returned. */
int cde_dora_compute(const struct cde_audit_source *src, const struct cde_dora_params *p,
		     struct cde_dora_report *ret);

void cde_dora_report_release(struct cde_dora_report *r);

/* {"window", "since", "until", "failureWindow", "services": [...]} as GET
 * /v1/dora answers (@window as asked: "30d"), or NULL out of memory. */
cJSON *cde_dora_report_json(const struct cde_dora_report *r, const struct cde_dora_params *p, const char *window);

/* The band of a key's value (per day, seconds, or a ratio). */
enum cde_dora_band cde_dora_band_of(enum cde_dora_key k, double value);

/* "elite", "high", "medium", "low", or NULL for no band. */
const char *cde_dora_band_name(enum cde_dora_band b);

/* Reads a window, "30d", "7d", "12h" (1h to 3650d), into seconds.
 * Returns 0 or -EINVAL. */
int cde_dora_parse_window(const char *s, int64_t *ret_s);
