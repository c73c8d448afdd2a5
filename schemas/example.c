/* Example values from the catalog: how `cdevctl example TYPE` shows a user
 * the smallest valid payload, and how tests build one event of every type
 * without a hand-written list that could drift from the catalog. */

#include "schemas/example.h"

static cJSON *example_string(const struct cde_node *n)
{
	if (n->n_enum)
		return cJSON_CreateString(n->enum_values[0]);
	switch (n->format) {
	case CDE_FORMAT_URI:
		return cJSON_CreateString("https://example.com/example");
	case CDE_FORMAT_URI_REFERENCE:
		return cJSON_CreateString("/example");
	case CDE_FORMAT_DATE_TIME:
		return cJSON_CreateString("2025-01-01T00:00:00.000000Z");
	case CDE_FORMAT_NONE:
		break;
	}
	return cJSON_CreateString("example");
}

cJSON *cde_node_example(const struct cde_node *n)
{
	cJSON *obj;

	switch (n->kind) {
	case CDE_NODE_STRING:
		return example_string(n);
	case CDE_NODE_ARRAY:
		return cJSON_CreateArray();
	case CDE_NODE_NUMBER:
	case CDE_NODE_INTEGER:
		return cJSON_CreateNumber(0);
	case CDE_NODE_BOOLEAN:
		return cJSON_CreateFalse();
	case CDE_NODE_ANY_OF:
	case CDE_NODE_ONE_OF:
		return cde_node_example(n->alts[0]);
	case CDE_NODE_ANY:
	case CDE_NODE_OBJECT:
		break;
	default:
		return cJSON_CreateNull();
	}
	obj = cJSON_CreateObject();
	if (!obj)
		return NULL;
	for (size_t i = 0; n->kind == CDE_NODE_OBJECT && i < n->n_fields; i++) {
		cJSON *v;

		if (!n->fields[i].required)
			continue;
		v = cde_node_example(n->fields[i].node);
		if (!v || !cJSON_AddItemToObject(obj, n->fields[i].name, v)) {
			cJSON_Delete(v);
			cJSON_Delete(obj);
			return NULL;
		}
	}
	return obj;
}
