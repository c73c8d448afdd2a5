#pragma once
/* Hook kinds, inside events/: which CDEvents subject a kind names, its
 * phases, and how a hook's phase becomes an event type (events/hooks.c
 * builds the event). */

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"
#include "schemas/base/json_read.h"
#include "schemas/catalog.h"

struct cde_hook_kind;

/* The kind named @kind, or NULL when no hook has that name. */
const struct cde_hook_kind *cde_hook_kind_find(const char *kind);

/* Checks @payload's "phase" and "subject" (and a test hook's "level")
 * and finds the event type of @k for them in @spec. Returns 0 with
 * *@ret_type and *@ret_phase (borrowed from @payload), or -EINVAL with
 * the reasons, at the hook's pointers, in @errs. */
int cde_hook_kind_resolve(const struct cde_hook_kind *k, const cJSON *payload, const struct cde_spec *spec,
			  const struct cde_event_type **ret_type, const char **ret_phase,
			  struct cde_errors *errs);

/* Starts a walk over a hook at pointer @at. A hook is written by a person
 * (or a script): a null member is a mistake to report, not an absent one,
 * and a missing one reads as the catalog validator says it of an event. */
void cde_hook_reader_init(struct cde_json_reader *r, const char *at, struct cde_errors *errs);
