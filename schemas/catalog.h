#pragma once
/* The catalog: what every event type of every supported spec version must
 * look like, loaded from the project's data files (schemas/catalog/). */

#include <stdbool.h>
#include <stddef.h>

#include "schemas/base/errors.h"

enum cde_node_kind {
	CDE_NODE_ANY,
	CDE_NODE_STRING,
	CDE_NODE_OBJECT,
	CDE_NODE_ARRAY,
	CDE_NODE_NUMBER,
	CDE_NODE_INTEGER,
	CDE_NODE_BOOLEAN,
	CDE_NODE_NULL,
	CDE_NODE_ANY_OF,	/* valid when one alternative or more is */
	CDE_NODE_ONE_OF,	/* valid when exactly one alternative is */
	CDE_NODE_SLOT_CONTEXT,	/* the event type's context node */
	CDE_NODE_SLOT_SUBJECT,	/* the event type's subject node */
	CDE_NODE_SLOT_TYPE,	/* a string equal to the event type's name */
};

enum cde_format {
	CDE_FORMAT_NONE,
	CDE_FORMAT_DATE_TIME,
	CDE_FORMAT_URI,
	CDE_FORMAT_URI_REFERENCE,
};

struct cde_node;
struct cde_pattern;

struct cde_field {
	const char *name;
	const struct cde_node *node;
	bool required;
};

/* One node of a type description. Nodes are immutable once loaded and may
 * be shared (named definitions). */
struct cde_node {
	enum cde_node_kind kind;
	/* strings */
	size_t min_length;
	enum cde_format format;
	const char *const *enum_values;
	size_t n_enum;
	const char *pattern;		/* as written, for messages; NULL: none */
	const struct cde_pattern *pattern_re;
	const char *looks_like;		/* what the pattern takes, in words */
	/* objects */
	const struct cde_field *fields;
	size_t n_fields;
	bool open;		/* properties besides fields are allowed */
	/* arrays */
	const struct cde_node *items;
	/* any-of / one-of */
	const struct cde_node *const *alts;
	size_t n_alts;
};

struct cde_event_type {
	const char *name;		/* dev.cdevents.service.deployed.0.3.0 */
	const struct cde_node *context;
	const struct cde_node *subject;
};

/* One spec version's catalog. */
struct cde_spec {
	const char *version;		/* "0.5.1" */
	const char *version_field;	/* context field holding it */
	const struct cde_node *envelope;
	const struct cde_node *context;		/* the context every type shares */
	/* The release's custom/schema.json (dev.cdeventsx.* types); NULL when
	 * the release has no custom events. */
	const struct cde_node *custom_subject;
	const struct cde_node *custom_context;
	const struct cde_event_type *types;	/* sorted by name */
	size_t n_types;
};

struct cde_catalog;

/* Loads every "*.json" file of @dir as one spec version's catalog. Returns 0
 * and a new catalog in *@ret, or -errno with the file, the pointer and the
 * reason in @errs (an unknown key, a dangling "@name", two files for one
 * version... a catalog is checked as strictly as events are). */
int cde_catalog_load_dir(const char *dir, struct cde_catalog **ret, struct cde_errors *errs);

/* Frees @cat; accepts NULL; returns NULL. */
struct cde_catalog *cde_catalog_free(struct cde_catalog *cat);

/* The directory to load when none is given: $CDEVENTSD_CATALOG, else the
 * installed catalog, else the source tree's (for a build that is run
 * without being installed). */
const char *cde_catalog_default_dir(void);

/* Number of spec versions loaded and the @i-th one (newest first). */
size_t cde_catalog_spec_count(const struct cde_catalog *cat);
const struct cde_spec *cde_catalog_spec_at(const struct cde_catalog *cat, size_t i);

/* The spec whose events carry @version in context.@version_field, matched
 * exactly (README "Version policy": a patch release may change fields, as
 * 0.4.1 did, so no other spelling reads as a loaded release). NULL when
 * unsupported. */
const struct cde_spec *cde_catalog_find_spec(const struct cde_catalog *cat,
					     const char *version_field, const char *version);

/* Writes into @buf why @version in context.@version_field is refused: a
 * known difference (0.4.0), a pre-release, an unloaded patch of a loaded
 * release, a release named in the other field, or the supported list. */
void cde_catalog_version_refusal(const struct cde_catalog *cat, const char *version_field,
				 const char *version, char *buf, size_t size);

/* The newest spec version loaded, the one cdeventsd emits. */
const struct cde_spec *cde_catalog_newest(const struct cde_catalog *cat);

/* The type named exactly @name, or NULL. */
const struct cde_event_type *cde_spec_find_type(const struct cde_spec *spec, const char *name);

/* The type "dev.cdevents.<subject>.<predicate>.<any version>", e.g.
 * ("service", "deployed"); NULL when the spec has none. */
const struct cde_event_type *cde_spec_find_kind(const struct cde_spec *spec,
						const char *subject, const char *predicate);

/* True for the custom type namespace "dev.cdeventsx.". */
bool cde_type_is_custom(const char *name);
