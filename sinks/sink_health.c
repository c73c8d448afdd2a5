/* A sink's health, told in a few log lines.
 *
 * An outage starts at the first failure after a success and ends at the
 * next delivery. It is announced once (FAILING), reminded at most once a
 * CDE_SINK_HEALTH_REPEAT_MS (STILL_FAILING, with the counts so far), and
 * closed once (RECOVERED, then CAUGHT_UP when the backlog is gone). A
 * sink that flaps faster than the repeat interval keeps its new outages
 * silent until one lasts: the announcement is rate-limited too, and an
 * outage never announced ends without a RECOVERED line, so lines always
 * come in pairs.
 *
 * The circuit is a separate, faster notion: open after a few failed
 * attempts in a row, closed by the next delivery, unlimited in rate. It
 * tells the engine when a receiver came back, not the operator. An event
 * the receiver keeps failing among deliveries never opens it (every
 * delivery resets the count), so a lone bad event is not retried at every
 * delivery (the engine also sends each event at most once early per
 * backoff). */

#include "sinks/sink_health.h"

#include <inttypes.h>
#include <stdio.h>

static bool may_note(const struct cde_sink_health *h, int64_t now_ms)
{
	return !h->noted_ever || now_ms - h->last_note_ms >= CDE_SINK_HEALTH_REPEAT_MS;
}

static enum cde_sink_note note(struct cde_sink_health *h, int64_t now_ms, enum cde_sink_note n)
{
	h->noted_ever = true;
	h->last_note_ms = now_ms;
	return n;
}

enum cde_sink_note cde_sink_health_failed(struct cde_sink_health *h, int64_t now_ms)
{
	if (!h->failing) {
		h->failing = true;
		h->announced = false;
		h->dead_noted = false;
		h->catching_up = false;
		h->down_since_ms = now_ms;
		h->failures = 0;
		h->dead = 0;
	}
	h->failures++;
	h->in_a_row++;
	if (!may_note(h, now_ms))
		return CDE_SINK_NOTE_NONE;
	if (!h->announced) {
		h->announced = true;
		return note(h, now_ms, CDE_SINK_NOTE_FAILING);
	}
	return note(h, now_ms, CDE_SINK_NOTE_STILL_FAILING);
}

enum cde_sink_note cde_sink_health_dead(struct cde_sink_health *h, int64_t now_ms)
{
	h->dead++;
	if (!h->failing || !h->announced || h->dead_noted)
		return CDE_SINK_NOTE_NONE;
	h->dead_noted = true;
	return note(h, now_ms, CDE_SINK_NOTE_DEAD_LETTERING);
}

enum cde_sink_note cde_sink_health_delivered(struct cde_sink_health *h, int64_t now_ms)
{
	h->in_a_row = 0;
	if (!h->failing) {
		h->delivered += h->catching_up;
		return CDE_SINK_NOTE_NONE;
	}
	h->failing = false;
	if (!h->announced)
		return CDE_SINK_NOTE_NONE;
	h->catching_up = true;
	h->up_since_ms = now_ms;
	h->delivered = 1;
	return note(h, now_ms, CDE_SINK_NOTE_RECOVERED);
}

bool cde_sink_health_circuit_open(const struct cde_sink_health *h)
{
	return h->in_a_row >= CDE_SINK_CIRCUIT_FAILURES;
}

enum cde_sink_note cde_sink_health_idle(struct cde_sink_health *h, uint64_t backlog)
{
	if (!h->catching_up || h->failing || backlog > 0)
		return CDE_SINK_NOTE_NONE;
	h->catching_up = false;
	return CDE_SINK_NOTE_CAUGHT_UP;
}

char *cde_duration_text(int64_t ms, char *out, size_t size)
{
	if (ms < 0)
		ms = 0;
	if (ms < 1000)
		snprintf(out, size, "%" PRId64 "ms", ms);
	else if (ms < 60000)
		snprintf(out, size, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(out, size, "%" PRId64 "m%02" PRId64 "s", ms / 60000, ms / 1000 % 60);
	else
		snprintf(out, size, "%" PRId64 "h%02" PRId64 "m", ms / 3600000, ms / 60000 % 60);
	return out;
}

void cde_sink_health_log(const struct cde_delivery_log *log, enum cde_sink_note n,
			 const struct cde_sink_health *h, const struct cde_sink_note_info *info)
{
	char status[24], retry[32], down[32], failures[24], dead[24], backlog[24], delivered[24], took[32];
	const char *msg;
	enum cde_delivery_log_level level = CDE_DELIVERY_LOG_WARN;
	struct cde_delivery_log_field f[8];
	size_t k = 0;

	if (!log || !log->fn || n == CDE_SINK_NOTE_NONE)
		return;
	status[0] = '\0';
	if (info->status)
		snprintf(status, sizeof(status), "%ld", info->status);
	snprintf(failures, sizeof(failures), "%llu", h->failures);
	snprintf(dead, sizeof(dead), "%llu", h->dead);
	snprintf(backlog, sizeof(backlog), "%" PRIu64, info->backlog);
	cde_duration_text(info->now_ms - h->down_since_ms, down, sizeof(down));
	f[k++] = (struct cde_delivery_log_field){ "sink", info->sink };
	switch (n) {
	case CDE_SINK_NOTE_FAILING:
		msg = "sink failing";
		f[k++] = (struct cde_delivery_log_field){ "status", status[0] ? status : NULL };
		f[k++] = (struct cde_delivery_log_field){ "error", info->error };
		if (info->retry_in_ms >= 0)
			f[k++] = (struct cde_delivery_log_field){
				"retry_in", cde_duration_text(info->retry_in_ms, retry, sizeof(retry)) };
		break;
	case CDE_SINK_NOTE_STILL_FAILING:
		msg = "sink still failing";
		f[k++] = (struct cde_delivery_log_field){ "down_for", down };
		f[k++] = (struct cde_delivery_log_field){ "failed_attempts", failures };
		f[k++] = (struct cde_delivery_log_field){ "dead_letters", dead };
		f[k++] = (struct cde_delivery_log_field){ "backlog", backlog };
		f[k++] = (struct cde_delivery_log_field){ "error", info->error };
		break;
	case CDE_SINK_NOTE_DEAD_LETTERING:
		level = CDE_DELIVERY_LOG_ERROR;
		msg = "sink dead-lettering events";
		f[k++] = (struct cde_delivery_log_field){ "dead_letters", dead };
		f[k++] = (struct cde_delivery_log_field){ "down_for", down };
		f[k++] = (struct cde_delivery_log_field){ "error", info->error };
		break;
	case CDE_SINK_NOTE_RECOVERED:
		level = CDE_DELIVERY_LOG_INFO;
		msg = "sink recovered";
		cde_duration_text(h->up_since_ms - h->down_since_ms, down, sizeof(down));
		f[k++] = (struct cde_delivery_log_field){ "down_for", down };
		f[k++] = (struct cde_delivery_log_field){ "failed_attempts", failures };
		f[k++] = (struct cde_delivery_log_field){ "dead_letters", dead };
		f[k++] = (struct cde_delivery_log_field){ "backlog", backlog };
		break;
	default:
		level = CDE_DELIVERY_LOG_INFO;
		msg = "sink caught up";
		snprintf(delivered, sizeof(delivered), "%llu", h->delivered);
		f[k++] = (struct cde_delivery_log_field){ "delivered", delivered };
		f[k++] = (struct cde_delivery_log_field){
			"took", cde_duration_text(info->now_ms - h->up_since_ms, took, sizeof(took)) };
		break;
	}
	log->fn(log->ctx, level, msg, f, k);
}
