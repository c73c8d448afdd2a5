/* Pod analysis: the scheduler's and the kubelet's messages, parsed for
 * what they name (resources short on how many nodes, the missing
 * ConfigMap or Secret, the evicted container). The wording is
 * Kubernetes', not an API: the parsers take what they recognize and leave
 * the rest uncounted or unnamed, never an error. */

#include "sizing/pod_internal.h"

#include <stdio.h>

/* Counts one item of the scheduler's list ("3 Insufficient memory",
 * "2 node(s) had untolerated taint {dedicated: gpu}"). */
static void count_item(const char *item, size_t len, struct cde_pod_unschedulable *u)
{
	char text[256];
	unsigned n = 0;
	size_t i = 0;
	const char *brace;

	copy_n(text, sizeof(text), item, len);
	while (text[i] >= '0' && text[i] <= '9' && n < 1000000)
		n = n * 10 + (unsigned)(text[i++] - '0');
	if (i == 0)
		n = 1;
	while (text[i] == ' ')
		i++;
	const char *what = text + i;

	if (starts_with(what, "Insufficient cpu")) {
		u->insufficient_cpu += n;
	} else if (starts_with(what, "Insufficient memory")) {
		u->insufficient_memory += n;
	} else if (starts_with(what, "Insufficient ephemeral-storage")) {
		u->insufficient_storage += n;
	} else if (starts_with(what, "Insufficient ")) {
		u->insufficient_other += n;
		if (!u->other_resource[0])
			snprintf(u->other_resource, sizeof(u->other_resource), "%s", what + 13);
	} else if (strstr(what, "taint")) {
		u->taint += n;
		brace = strchr(what, '{');
		if (brace && !u->taint_text[0]) {
			const char *end = strchr(brace, '}');

			copy_n(u->taint_text, sizeof(u->taint_text), brace,
			       end ? (size_t)(end - brace + 1) : strlen(brace));
		}
	} else if (strstr(what, "node affinity/selector") || strstr(what, "node selector") ||
		   strstr(what, "node(s) didn't match Pod's node affinity")) {
		u->node_selector += n;
	} else if (strstr(what, "volume") || strstr(what, "PersistentVolumeClaim")) {
		/* Before affinity: "volume node affinity conflict" is a volume's. */
		u->volume += n;
	} else if (strstr(what, "affinity")) {
		u->pod_affinity += n;
	} else if (strstr(what, "Too many pods")) {
		u->too_many_pods += n;
	} else {
		u->other += n;
	}
}

/* Parses "0/5 nodes are available: 3 Insufficient memory, 2 node(s) had
 * untolerated taint {a: b}. preemption: ...". Items are separated by ", "
 * followed by a count, so the ", that the pod didn't tolerate" of older
 * releases stays inside its item; braces are never split. The list ends
 * at ". " or at the end. */
void cde_pod_parse_unschedulable(const char *msg, struct cde_pod_unschedulable *u)
{
	const char *p, *item;
	unsigned avail = 0, total = 0;
	int depth = 0;

	memset(u, 0, sizeof(*u));
	if (!msg)
		return;
	if (sscanf(msg, "%u/%u nodes are available", &avail, &total) == 2)
		u->nodes = total;
	p = strstr(msg, "nodes are available:");
	if (!p) {
		/* "pod has unbound immediate PersistentVolumeClaims" and the like. */
		if (strstr(msg, "PersistentVolumeClaim") || strstr(msg, "volume"))
			u->volume = 1;
		else
			u->other = 1;
		return;
	}
	p += strlen("nodes are available:");
	while (*p == ' ')
		p++;
	item = p;
	for (;; p++) {
		bool end = *p == '\0' || (depth == 0 && *p == '.' && (p[1] == ' ' || p[1] == '\0'));
		bool sep = depth == 0 && p[0] == ',' && p[1] == ' ' && p[2] >= '0' && p[2] <= '9';

		if (*p == '{')
			depth++;
		else if (*p == '}' && depth > 0)
			depth--;
		if (end || sep) {
			if (p > item)
				count_item(item, (size_t)(p - item), u);
			if (end)
				break;
			item = p + 2;
			p++;
		}
	}
}

/* "configmap \"spark-conf\" not found", "secret \"s3\" not found",
 * "couldn't find key AWS_KEY in Secret ns/s3": the kubelet's words. */
void cde_pod_parse_config_error(const char *msg, struct cde_pod_outcome *o)
{
	static const struct {
		const char *prefix, *kind;
	} missing[] = { { "configmap \"", "ConfigMap" }, { "secret \"", "Secret" } };
	const char *p;

	if (!msg)
		return;
	for (size_t i = 0; i < 2; i++) {
		p = strstr(msg, missing[i].prefix);
		if (p) {
			const char *name = p + strlen(missing[i].prefix), *end = strchr(name, '"');

			if (end) {
				snprintf(o->config_kind, sizeof(o->config_kind), "%s", missing[i].kind);
				copy_n(o->config_name, sizeof(o->config_name), name, (size_t)(end - name));
				return;
			}
		}
	}
	p = strstr(msg, "couldn't find key ");
	if (p) {
		const char *key = p + strlen("couldn't find key "), *in = strstr(key, " in ");

		if (!in)
			return;
		copy_n(o->config_key, sizeof(o->config_key), key, (size_t)(in - key));
		in += 4;
		if (starts_with(in, "Secret "))
			snprintf(o->config_kind, sizeof(o->config_kind), "Secret");
		else if (starts_with(in, "ConfigMap "))
			snprintf(o->config_kind, sizeof(o->config_kind), "ConfigMap");
		else
			return;
		in = strchr(in, ' ') + 1;
		/* "ns/name": the name is after the slash. */
		const char *slash = strchr(in, '/');
		const char *name = slash ? slash + 1 : in;
		size_t len = strcspn(name, " ,;:");

		copy_n(o->config_name, sizeof(o->config_name), name, len);
	}
}

/* "The node was low on resource: ephemeral-storage. ... Container x was
 * using 25Gi, ..." or "Pod ephemeral local storage usage exceeds ..." or
 * "Usage of EmptyDir volume \"x\" exceeds the limit". */
void cde_pod_parse_eviction(const char *msg, const cJSON *status, struct cde_pod_outcome *o,
			   const cJSON **ret_container, bool *ret_init)
{
	const char *p;

	if (!msg)
		return;
	p = strstr(msg, "low on resource: ");
	if (p) {
		p += strlen("low on resource: ");
		copy_n(o->evicted_resource, sizeof(o->evicted_resource), p, strcspn(p, ". ,"));
	} else if (strstr(msg, "ephemeral") || strstr(msg, "EmptyDir")) {
		snprintf(o->evicted_resource, sizeof(o->evicted_resource), "ephemeral-storage");
	}
	p = strstr(msg, "Container ");
	if (p) {
		p += strlen("Container ");
		*ret_container = cde_pod_status_named(status, p, strcspn(p, " "), ret_init);
	}
}
