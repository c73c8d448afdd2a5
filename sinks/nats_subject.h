#pragma once
/* The nats sink's subject templates: "cdevents.{subject-type}.{predicate}"
 * made into the subject an event is published to. */

#include <stddef.h>

#include "events/event.h"

#define CDE_NATS_SUBJECT_DEFAULT "cdevents.{subject-type}.{predicate}"
#define CDE_NATS_SUBJECT_MAX 512

/* Checks @tmpl: every {name} one of {type}, {subject-type}, {predicate},
 * {version}, {source}; no wildcard ('*', '>') or space. Returns 0 or
 * -EINVAL with the reason in @err. */
int cde_nats_subject_check(const char *tmpl, char *err, size_t err_size);

/* The subject of @ev from the checked template @tmpl, into @out: each
 * field's value made one token (anything but letters, digits, '-' and
 * '_' becomes '_'; {type} keeps its dots), truncated to @size. */
void cde_nats_subject_expand(const char *tmpl, const struct cde_event *ev, char *out, size_t size);
