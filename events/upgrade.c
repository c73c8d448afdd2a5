/* Upgrading an event of an older CDEvents release to spec 0.5.1 (the
 * `upgrade_to` of a sink). The walk is: name the 0.5.1 type, reshape the
 * context, apply the table's rows (upgrade_map.c), then check the result
 * against the 0.5.1 catalog and drop what it refuses, so that whatever
 * this returns is a valid 0.5.1 event, and every value that did not make
 * it is named by its pointer in the event as received. The original is
 * never changed: the audit log and the sinks without `upgrade_to` keep it
 * byte for byte. */

#include "events/upgrade.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "schemas/validate.h"

#define RENAMES_MAX 8
#define CHECK_ROUNDS 4

struct upgrade {
	const cJSON *orig;
	cJSON *doc;
	struct cde_upgrade_notes *notes;
	const char *version;		/* the original's release */
	char subject[64], predicate[64];
	size_t n_renames;
	struct {
		char now[CDE_ERROR_POINTER_MAX], was[CDE_ERROR_POINTER_MAX];
	} renames[RENAMES_MAX];
};

static int refuse(struct upgrade *u, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(struct upgrade *u, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->notes->refusal, sizeof(u->notes->refusal), fmt, ap);
	va_end(ap);
	return r;
}

/* True when release @a is older than @b (both "x.y.z"). */
static bool older(const char *a, const char *b)
{
	unsigned x[3] = { 0 }, y[3] = { 0 };

	sscanf(a, "%u.%u.%u", &x[0], &x[1], &x[2]);
	sscanf(b, "%u.%u.%u", &y[0], &y[1], &y[2]);
	for (int i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i];
	return false;
}

/* The value at @ptr (an RFC 6901 pointer) under @root, or NULL. */
static cJSON *lookup(cJSON *root, const char *ptr)
{
	char seg[CDE_ERROR_POINTER_MAX];

	while (root && *ptr == '/') {
		size_t n = 0;

		for (ptr++; *ptr && *ptr != '/' && n + 1 < sizeof(seg); ptr++) {
			if (*ptr == '~' && (ptr[1] == '0' || ptr[1] == '1'))
				seg[n++] = *++ptr == '0' ? '~' : '/';
			else
				seg[n++] = *ptr;
		}
		seg[n] = '\0';
		root = cJSON_IsArray(root) ? cJSON_GetArrayItem(root, atoi(seg))
					   : cJSON_GetObjectItemCaseSensitive(root, seg);
	}
	return *ptr ? NULL : root;
}

/* The pointer in the original event for @ptr in the upgraded one. */
static void original_pointer(const struct upgrade *u, const char *ptr, char *buf, size_t size)
{
	for (size_t i = 0; i < u->n_renames; i++) {
		size_t len = strlen(u->renames[i].now);

		if (strncmp(ptr, u->renames[i].now, len) == 0 && (ptr[len] == '\0' || ptr[len] == '/')) {
			snprintf(buf, size, "%s%s", u->renames[i].was, ptr + len);
			return;
		}
	}
	snprintf(buf, size, "%s", ptr);
}

/* Names the 0.5.1 type of the original's, or refuses. */
static int target_type(struct upgrade *u, const struct cde_spec *to, const char *type, const char **ret)
{
	const char *prefix = "dev.cdevents.";
	const struct cde_event_type *t;

	if (cde_type_is_custom(type)) {
		*ret = type; /* the producer versions its own types */
		return 0;
	}
	if (strncmp(type, prefix, strlen(prefix)) != 0 ||
	    sscanf(type + strlen(prefix), "%63[^.].%63[^.].", u->subject, u->predicate) != 2)
		return refuse(u, -ENOTSUP, "%s: not a CDEvents type name", type);
	for (size_t i = 0; i < cde_upgrade_n_gone; i++)
		if (strcmp(cde_upgrade_gone[i].subject, u->subject) == 0)
			return refuse(u, -ENOTSUP, "%s has no 0.5.1 counterpart: %s", type,
				      cde_upgrade_gone[i].instead);
	t = cde_spec_find_kind(to, u->subject, u->predicate);
	if (!t)
		return refuse(u, -ENOTSUP, "%s has no 0.5.1 counterpart", type);
	*ret = t->name;
	return 0;
}

/* context: specversion first, then every field but version, in order. */
static int reshape_context(struct upgrade *u, const char *type)
{
	cJSON *ctx = cJSON_GetObjectItemCaseSensitive(u->doc, "context"), *fresh = cJSON_CreateObject(), *item;

	if (!fresh || !cJSON_AddStringToObject(fresh, "specversion", CDE_UPGRADE_TARGET))
		goto err_fresh;
	while ((item = ctx->child)) {
		cJSON_DetachItemViaPointer(ctx, item);
		if (strcmp(item->string, "version") == 0) {
			cJSON_Delete(item);
			continue;
		}
		/* It names a schema of the old shape, which the upgraded
		 * event would fail: dropped, and said so. */
		if (strcmp(item->string, "schemaUri") == 0) {
			cde_errors_add(&u->notes->dropped, "/context/schemaUri",
				       "names a schema of the %s event, not of its 0.5.1 form", u->version);
			cJSON_Delete(item);
			continue;
		}
		if (strcmp(item->string, "type") == 0 && !cJSON_SetValuestring(item, type)) {
			cJSON_Delete(item);
			goto err_fresh;
		}
		if (!cJSON_AddItemToObject(fresh, item->string, item)) {
			cJSON_Delete(item);
			goto err_fresh;
		}
	}
	/* The new order moves into the original object, which keeps its
	 * place and key in the document. */
	ctx->child = fresh->child;
	fresh->child = NULL;
	cJSON_Delete(fresh);
	return 0;

err_fresh:
	cJSON_Delete(fresh);
	return -ENOMEM;
}

static int rename_field(struct upgrade *u, cJSON *content, const struct cde_upgrade_rule *rule)
{
	const char *slash = strrchr(rule->to, '/');
	char parent_ptr[CDE_ERROR_POINTER_MAX], was[CDE_ERROR_POINTER_MAX];
	cJSON *item = lookup(content, rule->from), *parent;

	if (!item)
		return 0;
	snprintf(parent_ptr, sizeof(parent_ptr), "%.*s", (int)(slash - rule->to), rule->to);
	parent = lookup(content, parent_ptr);
	if (!cJSON_IsObject(parent) || cJSON_GetObjectItemCaseSensitive(parent, slash + 1))
		return 0; /* the new name is taken: the check below drops the old one */
	cJSON_DetachItemViaPointer(parent, item);
	if (!cJSON_AddItemToObject(parent, slash + 1, item)) {
		cJSON_Delete(item);
		return -ENOMEM;
	}
	snprintf(was, sizeof(was), "/subject/content%s", rule->from);
	cde_errors_add(&u->notes->changed, was, "now /subject/content%s (%s)", rule->to, rule->why);
	if (u->n_renames < RENAMES_MAX) {
		snprintf(u->renames[u->n_renames].now, sizeof(u->renames[0].now), "/subject/content%s", rule->to);
		snprintf(u->renames[u->n_renames].was, sizeof(u->renames[0].was), "%s", was);
		u->n_renames++;
	}
	return 0;
}

static int map_value(struct upgrade *u, cJSON *content, const struct cde_upgrade_rule *rule)
{
	cJSON *item = lookup(content, rule->from);
	char was[CDE_ERROR_POINTER_MAX];

	if (!cJSON_IsString(item))
		return 0;
	for (const char *const *v = rule->values; v[0] && v[1]; v += 2) {
		char old[64];

		if (strcasecmp(item->valuestring, v[0]) != 0)
			continue;
		if (strcmp(item->valuestring, v[1]) == 0)
			return 0;
		snprintf(old, sizeof(old), "%s", item->valuestring);
		if (!cJSON_SetValuestring(item, v[1]))
			return -ENOMEM;
		snprintf(was, sizeof(was), "/subject/content%s", rule->from);
		cde_errors_add(&u->notes->changed, was, "\"%s\" is now \"%s\" (%s)", old, v[1], rule->why);
		return 0;
	}
	return 0; /* not one the table knows: the check drops it if 0.5.1 does */
}

static bool rule_applies(const struct upgrade *u, const struct cde_upgrade_rule *rule)
{
	return (strcmp(rule->subject, "*") == 0 || strcmp(rule->subject, u->subject) == 0) &&
	       (strcmp(rule->predicate, "*") == 0 || strcmp(rule->predicate, u->predicate) == 0) &&
	       older(u->version, rule->until);
}

/* subject.type goes; the table's rows for this type. */
static int reshape_subject(struct upgrade *u)
{
	cJSON *subject = cJSON_GetObjectItemCaseSensitive(u->doc, "subject");
	cJSON *content = cJSON_GetObjectItemCaseSensitive(subject, "content");
	cJSON *type = cJSON_DetachItemFromObjectCaseSensitive(subject, "type");
	int r = 0;

	if (type) {
		cde_errors_add(&u->notes->changed, "/subject/type",
			       "0.5.1 has no subject.type: context.type names the subject");
		cJSON_Delete(type);
	}
	if (!cJSON_IsObject(content))
		return 0;
	for (size_t i = 0; i < cde_upgrade_n_rules && r == 0; i++) {
		const struct cde_upgrade_rule *rule = &cde_upgrade_rules[i];

		if (!rule_applies(u, rule))
			continue;
		r = rule->op == CDE_UPGRADE_RENAME ? rename_field(u, content, rule) : map_value(u, content, rule);
	}
	return r;
}

/* Detaches the value at @ptr in the upgraded event. False when there is
 * none, or it is one an event cannot lose (the root, context or subject). */
static bool drop(struct upgrade *u, const char *ptr, const char *reason)
{
	char was[CDE_ERROR_POINTER_MAX], parent_ptr[CDE_ERROR_POINTER_MAX];
	const char *slash = strrchr(ptr, '/');
	cJSON *item = lookup(u->doc, ptr), *parent;

	if (!item || !slash || strcmp(ptr, "/context") == 0 || strcmp(ptr, "/subject") == 0)
		return false;
	snprintf(parent_ptr, sizeof(parent_ptr), "%.*s", (int)(slash - ptr), ptr);
	parent = lookup(u->doc, parent_ptr);
	if (!parent)
		return false;
	original_pointer(u, ptr, was, sizeof(was));
	cJSON_Delete(cJSON_DetachItemViaPointer(parent, item));
	cde_errors_add(&u->notes->dropped, was, "0.5.1 refuses it: %s", reason);
	return true;
}

/* Checks the result against 0.5.1 and drops what it refuses, until it
 * passes or a refusal is of a value 0.5.1 requires. */
static int check(struct upgrade *u, const struct cde_catalog *cat)
{
	struct cde_errors errs;

	for (int round = 0; round < CHECK_ROUNDS; round++) {
		bool progress = false;

		cde_errors_reset(&errs);
		if (cde_validate(cat, u->doc, NULL, &errs) == 0)
			return 0;
		for (size_t i = 0; i < errs.count; i++)
			progress |= drop(u, errs.items[i].pointer, errs.items[i].reason);
		if (!progress)
			break;
	}
	if (errs.count == 0)
		return refuse(u, -EINVAL, "no valid 0.5.1 form");
	{
		char was[CDE_ERROR_POINTER_MAX];

		original_pointer(u, errs.items[0].pointer, was, sizeof(was));
		return refuse(u, -EINVAL, "0.5.1 requires %.200s: %s", was, errs.items[0].reason);
	}
}

int cde_upgrade(const struct cde_catalog *cat, const cJSON *event, cJSON **ret, struct cde_upgrade_notes *notes)
{
	struct upgrade u = { .orig = event, .notes = notes };
	const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(event, "context");
	const char *specversion = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "specversion"));
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "type"));
	const struct cde_spec *to = cde_catalog_find_spec(cat, "specversion", CDE_UPGRADE_TARGET);
	const char *new_type = NULL;
	int r;

	cde_errors_reset(&notes->dropped);
	cde_errors_reset(&notes->changed);
	notes->refusal[0] = '\0';
	if (specversion && strcmp(specversion, CDE_UPGRADE_TARGET) == 0)
		return -EALREADY;
	u.version = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ctx, "version"));
	if (!u.version || !type || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(event, "subject")))
		return refuse(&u, -ENOTSUP, "not a CDEvent of an older release");
	if (!cde_catalog_find_spec(cat, "version", u.version) || !to)
		return refuse(&u, -ENOTSUP, "no catalog for spec %s or %s", u.version, CDE_UPGRADE_TARGET);
	r = target_type(&u, to, type, &new_type);
	if (r < 0)
		return r;
	u.doc = cJSON_Duplicate(event, true);
	if (!u.doc)
		return -ENOMEM;
	r = reshape_context(&u, new_type);
	if (r == 0)
		r = reshape_subject(&u);
	if (r == 0)
		r = check(&u, cat);
	if (r < 0) {
		cJSON_Delete(u.doc);
		return r;
	}
	*ret = u.doc;
	return 0;
}
