#pragma once
/* Upgrading a CDEvent of an older release (0.1.2, 0.2.0, 0.3.0, 0.4.1) to
 * the shape of spec 0.5.1, for sinks that ask for it (`upgrade_to`). The
 * mapping is data (events/upgrade_map.c); this is the walk over it. */

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "schemas/base/errors.h"
#include "schemas/catalog.h"

/* The release events are upgraded to: the only value `upgrade_to` takes. */
#define CDE_UPGRADE_TARGET "0.5.1"

/* What an upgrade said about the original event. Pointers name places in
 * the event as received, not in the upgraded one. */
struct cde_upgrade_notes {
	/* Fields whose value is not in the upgraded event at all: 0.5.1 has
	 * no place for them, or refuses their value (a url that is not an
	 * absolute URI where 0.5.1 wants one, an outcome outside its enum). */
	struct cde_errors dropped;
	/* Fields whose value is there under another name or in another form
	 * (url -> uri, outcome "pass" -> "success", subject.type now named
	 * by context.type). */
	struct cde_errors changed;
	/* Why the event could not be upgraded (cde_upgrade returned -ENOTSUP
	 * or -EINVAL); "" otherwise. */
	char refusal[512];
};

/* Builds the spec 0.5.1 form of @event (a parsed CDEvent of an older
 * release that @cat holds, already valid in it): context.version becomes
 * context.specversion "0.5.1", the type its 0.5.1 name and version,
 * subject.type goes, content fields are renamed or re-valued per the
 * table, and a field 0.5.1 has no place or no value for is dropped. id,
 * source, timestamp, chainId, links and customData are kept; a schemaUri
 * (a schema of the old shape) is dropped and noted.
 * The result is checked against @cat's 0.5.1 catalog.
 *
 * Returns 0 with a new document in *@ret (the caller deletes it) and the
 * notes in @notes; -EALREADY when @event already is 0.5.1 (deliver it as
 * it is); -ENOTSUP when its type has no 0.5.1 counterpart or its release
 * is not in @cat, -EINVAL when no upgraded form would be valid (a value
 * 0.5.1 requires and refuses), both with notes->refusal set; -ENOMEM.
 * Pure: no I/O, @event is not changed. */
int cde_upgrade(const struct cde_catalog *cat, const cJSON *event, cJSON **ret, struct cde_upgrade_notes *notes);

/* Renamed and re-valued fields of the table (events/upgrade_map.c). */
enum cde_upgrade_op {
	CDE_UPGRADE_RENAME,	/* the value moves from `from` to `to` */
	CDE_UPGRADE_VALUES,	/* `from` keeps its place; values map by `values` */
};

struct cde_upgrade_rule {
	const char *subject;	/* "pipelinerun", or "*" for every type */
	const char *predicate;	/* "finished", or "*" */
	const char *until;	/* events of releases older than this get the rule */
	enum cde_upgrade_op op;
	const char *from;	/* a pointer under subject.content */
	const char *to;		/* RENAME: the 0.5.1 name */
	/* VALUES: pairs old, new, NULL-terminated; a value equal (ignoring
	 * case) to a 0.5.1 enum value maps to it; any other is dropped. */
	const char *const *values;
	const char *why;
};

/* Types of older releases that 0.5.1 no longer has, and why. */
struct cde_upgrade_gone {
	const char *subject;
	const char *instead;
};

extern const struct cde_upgrade_rule cde_upgrade_rules[];
extern const size_t cde_upgrade_n_rules;
extern const struct cde_upgrade_gone cde_upgrade_gone[];
extern const size_t cde_upgrade_n_gone;
