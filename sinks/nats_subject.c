/* Subject templates of the nats sink. A field's value may hold anything
 * a producer wrote (a source is a URI), but a NATS subject's tokens are
 * separated by dots and '*' and '>' are wildcards: each value becomes one
 * plain token, so an event cannot steer itself onto another subject. */

#include "sinks/nats_subject.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The fields a subject template names, each as {name}. */
enum field { F_TYPE, F_SUBJECT_TYPE, F_PREDICATE, F_VERSION, F_SOURCE, N_FIELDS };
static const char *const field_names[N_FIELDS] = { "type", "subject-type", "predicate", "version", "source" };

static int field_of(const char *name, size_t len)
{
	for (int f = 0; f < N_FIELDS; f++)
		if (strlen(field_names[f]) == len && strncmp(field_names[f], name, len) == 0)
			return f;
	return -1;
}

int cde_nats_subject_check(const char *tmpl, char *err, size_t err_size)
{
	for (const char *p = tmpl; *p; p++) {
		const char *end;

		if (*p == '*' || *p == '>' || *p == ' ') {
			snprintf(err, err_size, "subject %s: '%c' is not allowed in a subject to publish to", tmpl, *p);
			return -EINVAL;
		}
		if (*p != '{')
			continue;
		end = strchr(p, '}');
		if (!end || field_of(p + 1, (size_t)(end - p - 1)) < 0) {
			snprintf(err, err_size, "subject %s: a field is one of {type}, {subject-type}, "
				 "{predicate}, {version}, {source}", tmpl);
			return -EINVAL;
		}
		p = end;
	}
	return 0;
}

/* The @n-th dot-separated part of "dev.cdevents.SUBJECT.PREDICATE.VERSION"
 * (2, 3; 4 is the rest), or "" for a type not shaped so. */
static void type_part(const char *type, int n, char *out, size_t size)
{
	const char *p = type;

	out[0] = '\0';
	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '.');
		if (p)
			p++;
	}
	if (!p)
		return;
	snprintf(out, size, "%.*s", n == 4 ? (int)strlen(p) : (int)strcspn(p, "."), p);
}

/* Appends @v to @out (at *@len, @size bytes) as one subject token:
 * anything but letters, digits, '-' and '_' becomes '_' ({type} keeps its
 * dots, which separate tokens). */
static void append_token(char *out, size_t size, size_t *len, const char *v, bool keep_dots)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

	if (!*v)
		v = "_";
	for (; *v && *len + 1 < size; v++)
		out[(*len)++] = strchr(ok, *v) || (keep_dots && *v == '.') ? *v : '_';
	out[*len] = '\0';
}

void cde_nats_subject_expand(const char *tmpl, const struct cde_event *ev, char *out, size_t size)
{
	const char *type = cde_event_type(ev) ? cde_event_type(ev) : "";
	size_t len = 0;
	char part[128];

	out[0] = '\0';
	for (const char *p = tmpl; *p && len + 1 < size; p++) {
		const char *end = *p == '{' ? strchr(p, '}') : NULL;

		if (!end) {
			out[len++] = *p;
			out[len] = '\0';
			continue;
		}
		switch (field_of(p + 1, (size_t)(end - p - 1))) {
		case F_TYPE:
			append_token(out, size, &len, type, true);
			break;
		case F_SUBJECT_TYPE:
		case F_PREDICATE:
		case F_VERSION:
			type_part(type, 2 + field_of(p + 1, (size_t)(end - p - 1)) - F_SUBJECT_TYPE, part,
				  sizeof(part));
			append_token(out, size, &len, part, false);
			break;
		default:
			append_token(out, size, &len, cde_event_source(ev) ? cde_event_source(ev) : "", false);
			break;
		}
		p = end;
	}
}
