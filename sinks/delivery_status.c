/* What the delivery engine shows of itself: the status of each sink
 * (GET /v1/sinks, which /metrics reads too), rebuilt on the delivery
 * thread once a second and handed to other threads under the lock, and
 * the commit-to-delivery latency histogram behind it. */

#include "sinks/delivery_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "sinks/delivery_store.h"
#include "sinks/delivery_upgrade.h"

static const double latency_bounds[LATENCY_BUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
							1,     2.5,  5,     10,   30,  60,  300 };

void cde_delivery_observe_latency(struct sink *s, double received)
{
	struct timespec now;
	double secs;

	if (received <= 0)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	secs = (double)now.tv_sec + (double)now.tv_nsec / 1e9 - received;
	if (secs < 0)
		secs = 0;
	for (size_t i = 0; i < LATENCY_BUCKETS; i++)
		if (secs <= latency_bounds[i]) {
			s->latency_buckets[i]++;
			break;
		}
	s->latency_count++;
	s->latency_sum += secs;
}

static cJSON *sink_status(struct cde_delivery *d, struct sink *s, uint64_t head)
{
	cJSON *o = cJSON_CreateObject();
	unsigned in_flight = cde_window_in_flight(&s->win);
	char at[CDE_TIMESTAMP_STR_LEN];

	cJSON_AddStringToObject(o, "name", s->cfg.name);
	cJSON_AddStringToObject(o, "type", s->ops->name);
	cJSON_AddStringToObject(o, "lease", cde_delivery_lease_name(s));
	cJSON_AddNumberToObject(o, "cursor", (double)s->cursor);
	/* Two lags: events not settled yet, and the rows after the cursor
	 * (what a restart reads again), which an event waiting for a retry
	 * makes larger. */
	cJSON_AddNumberToObject(o, "lagEvents", (double)(s->leased ? cde_window_unsettled(&s->win, head)
						       : head > s->cursor ? head - s->cursor : 0));
	cJSON_AddNumberToObject(o, "cursorLagEvents", (double)(head > s->cursor ? head - s->cursor : 0));
	cde_delivery_store_received_at(d->store, s->cursor + 1, at, sizeof(at));
	if (head > s->cursor && at[0]) {
		double lag = (double)time(NULL) - cde_timestamp_parse(at);

		cJSON_AddNumberToObject(o, "lagSeconds", lag > 0 ? (double)(long long)lag : 0);
	} else {
		cJSON_AddNumberToObject(o, "lagSeconds", 0);
	}
	cJSON_AddNumberToObject(o, "inFlight", in_flight);
	cJSON_AddNumberToObject(o, "waitingRetry", s->win.used - in_flight);
	cJSON_AddNumberToObject(o, "delivered", (double)s->delivered);
	cJSON_AddNumberToObject(o, "retries", (double)s->retried);
	cJSON_AddNumberToObject(o, "deadLetters", (double)cde_delivery_store_dead_count(d->store, s->cfg.name));
	{
		cJSON *lat = cJSON_AddObjectToObject(o, "latency");
		cJSON *bounds = cJSON_AddArrayToObject(lat, "bounds"), *buckets = cJSON_AddArrayToObject(lat, "buckets");

		for (size_t i = 0; i < LATENCY_BUCKETS; i++) {
			cJSON_AddItemToArray(bounds, cJSON_CreateNumber(latency_bounds[i]));
			cJSON_AddItemToArray(buckets, cJSON_CreateNumber((double)s->latency_buckets[i]));
		}
		cJSON_AddNumberToObject(lat, "count", (double)s->latency_count);
		cJSON_AddNumberToObject(lat, "sum", s->latency_sum);
	}
	if (s->cfg.upgrade_to[0]) {
		cJSON *up = cJSON_AddObjectToObject(o, "upgrades");

		for (size_t i = 0; up && i < CDE_UPGRADE_FROM_MAX; i++)
			cJSON_AddNumberToObject(up, cde_delivery_upgrade_release_name(i), (double)s->upgrades[i]);
		cJSON_AddNumberToObject(o, "upgradeDroppedFields", (double)s->upgrade_dropped);
		cJSON_AddNumberToObject(o, "upgradesRefused", (double)s->upgrade_refused);
	}
	if (s->wit.on) {
		cJSON *w = cJSON_AddObjectToObject(o, "checkpoints");

		cJSON_AddNumberToObject(w, "witnessedSize", (double)s->wit.cursor);
		cJSON_AddNumberToObject(w, "delivered", (double)s->wit.delivered);
		cJSON_AddNumberToObject(w, "passedOver", (double)s->wit.skipped);
		cJSON_AddBoolToObject(w, "pending", s->wit.busy);
	}
	if (s->last_error[0]) {
		cJSON_AddStringToObject(o, "lastError", s->last_error);
		cJSON_AddStringToObject(o, "lastErrorAt", s->last_error_at);
	} else {
		cJSON_AddNullToObject(o, "lastError");
	}
	if (s->recovered_at[0]) {
		cJSON *r = cJSON_AddObjectToObject(o, "recovered");

		cJSON_AddStringToObject(r, "at", s->recovered_at);
		cJSON_AddStringToObject(r, "error", s->recovered_error);
		cJSON_AddStringToObject(r, "errorAt", s->recovered_error_at);
	} else {
		cJSON_AddNullToObject(o, "recovered");
	}
	return o;
}

void cde_delivery_publish_status(struct cde_delivery *d)
{
	cJSON *doc = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(doc, "sinks");
	uint64_t head = cde_delivery_store_head(d->store);
	char *text;

	for (size_t i = 0; i < d->n_sinks; i++)
		cJSON_AddItemToArray(list, sink_status(d, &d->sinks[i], head));
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if (!text)
		return;
	pthread_mutex_lock(&d->lock);
	free(d->status);
	d->status = text;
	pthread_mutex_unlock(&d->lock);
}

char *cde_delivery_status_json(struct cde_delivery *d)
{
	char *text;

	if (!d)
		return strdup("{\"sinks\":[]}");
	pthread_mutex_lock(&d->lock);
	text = d->status ? strdup(d->status) : NULL;
	pthread_mutex_unlock(&d->lock);
	return text;
}
