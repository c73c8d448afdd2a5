/* Example events: the model plus the catalog's example values. Used by
 * `cdevctl example` and by the tests that check the model can build a
 * valid event of every type. */

#include "events/example.h"
#include "schemas/base/json_strict.h"

#include <errno.h>
#include <string.h>

#include "schemas/example.h"

int cde_event_new_example(const struct cde_spec *spec, const struct cde_event_type *type,
			  const char *source, const char *subject_id, struct cde_event **ret)
{
	const struct cde_node *subj = type->subject;
	struct cde_event *ev;
	cJSON *subject;
	int r;

	r = cde_event_new(spec, type->name, source, subject_id, &ev);
	if (r < 0)
		return r;
	subject = cJSON_GetObjectItemCaseSensitive(cde_event_json_mut(ev), "subject");
	for (size_t i = 0; subj->kind == CDE_NODE_OBJECT && i < subj->n_fields; i++) {
		const struct cde_field *f = &subj->fields[i];
		cJSON *v;

		/* id is the caller's; content is filled from its own node. */
		if (strcmp(f->name, "id") == 0 || (!f->required && strcmp(f->name, "content") != 0))
			continue;
		v = cde_node_example(f->node);
		if (!v)
			goto err_unref;
		if (cde_json_put(subject, f->name, v) < 0) {
			cJSON_Delete(v);
			goto err_unref;
		}
	}
	*ret = ev;
	return 0;

err_unref:
	cde_event_unref(ev);
	return -ENOMEM;
}
