#pragma once
/* What runs where: each service's current artifact in one environment,
 * and the one before it (the rollback target), from the service events
 * of the audit log. */

#include <cjson/cJSON.h>

#include "sinks/audit/audit_reader.h"

/* Reads the service.* events naming @environment through @src and builds
 * {"environment", "services": [{"service", "artifactId", "since", "seq",
 * "chainId", "principal", "change", "previous": {...} | null}]}, services
 * in name order. Events count in the order they happened (their
 * context.timestamp, then seq); deployed, upgraded and rolledback put
 * their artifact in place (a rolledback event's artifactId is what the
 * service runs again), removed takes the service away. Returns 0 with
 * *@ret (the caller frees it), -ENOMEM, or what the source returned. */
int cde_answer_environment(const struct cde_audit_source *src, const char *environment, cJSON **ret);
