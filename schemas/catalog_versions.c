/* The version policy (README "Version policy"): which spellings of a spec
 * version read as which loaded release, and the reason given for the rest.
 * A spelling is read as a release only where the schemas are known to be
 * identical, which today means the release itself: patch releases have
 * changed fields (0.4.1 renamed 0.4.0's snake_case link fields), and a
 * pre-release's schemas changed from commit to commit. */

#include "schemas/catalog.h"

#include <stdio.h>
#include <string.h>

/* Releases whose difference from a loaded one is known, so the answer can
 * say what to change rather than only that the version is unknown. */
static const struct {
	const char *version, *reason;
} known_differences[] = {
	{ "0.4.0", "0.4.0 named the link fields chain_id, link_type, context_id; "
	  "0.4.1 renamed them chainId, linkType, contextId: send 0.4.1" },
};

const struct cde_spec *cde_catalog_find_spec(const struct cde_catalog *cat,
					     const char *version_field, const char *version)
{
	for (size_t i = 0; i < cde_catalog_spec_count(cat); i++) {
		const struct cde_spec *s = cde_catalog_spec_at(cat, i);

		if (strcmp(s->version_field, version_field) == 0 && strcmp(s->version, version) == 0)
			return s;
	}
	return NULL;
}

/* Length of "major.minor" in @v, or 0 when @v is not of that form. */
static size_t major_minor_len(const char *v)
{
	const char *dot = strchr(v, '.');

	if (!dot || dot == v)
		return 0;
	dot = strchr(dot + 1, '.');
	return dot ? (size_t)(dot - v) : 0;
}

/* The loaded release of @version's major.minor, in any version field. */
static const struct cde_spec *same_minor(const struct cde_catalog *cat, const char *version)
{
	size_t mm = major_minor_len(version);

	for (size_t i = 0; mm && i < cde_catalog_spec_count(cat); i++) {
		const struct cde_spec *s = cde_catalog_spec_at(cat, i);

		if (major_minor_len(s->version) == mm && strncmp(s->version, version, mm) == 0)
			return s;
	}
	return NULL;
}

static void list_versions(const struct cde_catalog *cat, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cde_catalog_spec_count(cat) && off < size; i++) {
		int w = snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
				 cde_catalog_spec_at(cat, i)->version);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

void cde_catalog_version_refusal(const struct cde_catalog *cat, const char *version_field,
				 const char *version, char *buf, size_t size)
{
	const struct cde_spec *s;
	char versions[96];

	list_versions(cat, versions, sizeof(versions));
	for (size_t i = 0; i < sizeof(known_differences) / sizeof(known_differences[0]); i++)
		if (strcmp(version, known_differences[i].version) == 0) {
			snprintf(buf, size, "unsupported spec version \"%.32s\": %s", version,
				 known_differences[i].reason);
			return;
		}
	if (strchr(version, '-')) {
		snprintf(buf, size, "unsupported spec version \"%.32s\": a pre-release, whose schemas "
			 "changed from commit to commit: send a release (%s)", version, versions);
		return;
	}
	s = same_minor(cat, version);
	if (s && strcmp(s->version, version) == 0)
		snprintf(buf, size, "unsupported spec version \"%.32s\" in context.%s: %s events "
			 "name it context.%s", version, version_field, s->version, s->version_field);
	else if (s)
		snprintf(buf, size, "unsupported spec version \"%.32s\": no schemas of %.32s are "
			 "loaded to show they equal %s's (patch releases have changed fields): send %s",
			 version, version, s->version, s->version);
	else
		snprintf(buf, size, "unsupported spec version \"%.32s\" (supported: %s)", version, versions);
}
