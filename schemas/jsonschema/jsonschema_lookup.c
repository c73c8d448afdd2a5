/* Finding what a URI names in a schema registry: a resource by its $id or
 * retrieval URI, then a JSON pointer or an $anchor in its fragment; and
 * the tables the loader filled (resolved $ref URIs, compiled patterns). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/json_pointer.h"
#include "schemas/jsonschema/jsonschema_internal.h"

const regex_t *cde_js_pattern_find(const struct cde_jsonschema *s, const cJSON *node)
{
	for (size_t i = 0; i < s->n_pats; i++)
		if (s->pats[i].node == node)
			return &s->pats[i].re;
	return NULL;
}

const char *cde_js_ref_find(const struct cde_jsonschema *s, const cJSON *node)
{
	for (size_t i = 0; i < s->n_refs; i++)
		if (s->refs[i].node == node)
			return s->refs[i].uri;
	return NULL;
}

static const cJSON *res_node(const struct cde_jsonschema *s, const char *uri, size_t len)
{
	for (size_t i = 0; i < s->n_res; i++)
		if (strlen(s->res[i].uri) == len && !memcmp(s->res[i].uri, uri, len))
			return s->res[i].node;
	return NULL;
}

/* Follows the JSON pointer @ptr (RFC 6901, already percent-decoded; it is
 * changed in place) from @node. */
static const cJSON *follow(const cJSON *node, char *ptr)
{
	while (node && *ptr == '/') {
		char *tok = ptr + 1, *end = strchr(tok, '/');
		ptr = end ? end : tok + strlen(tok);
		char saved = *ptr;
		*ptr = '\0';
		char *o = tok;
		for (const char *c = tok; *c; c++) {
			if (*c == '~' && (c[1] == '0' || c[1] == '1'))
				*o++ = *++c == '0' ? '~' : '/';
			else
				*o++ = *c;
		}
		*o = '\0';
		if (cJSON_IsArray(node)) {
			char *stop;
			long i = strtol(tok, &stop, 10);
			bool ok = *tok && !*stop && (tok[0] != '0' || !tok[1]) && tok[0] != '-' && tok[0] != '+';
			node = ok ? cJSON_GetArrayItem(node, (int)i) : NULL;
		} else {
			node = cJSON_IsObject(node) ? cJSON_GetObjectItemCaseSensitive(node, tok) : NULL;
		}
		*ptr = saved;
	}
	return node && !*ptr ? node : NULL;
}

const cJSON *cde_jsonschema_lookup(const struct cde_jsonschema *s, const char *uri)
{
	const char *hash = strchr(uri, '#');
	size_t base_len = hash ? (size_t)(hash - uri) : strlen(uri);
	const cJSON *node = res_node(s, uri, base_len);
	if (!node || !hash || !hash[1])
		return node;
	char *frag = strdup(hash + 1);
	if (!frag)
		return NULL;
	const cJSON *found = NULL;
	if (cde_js_percent_decode(frag)) {
		if (frag[0] == '/') {
			found = follow(node, frag);
		} else {
			/* An anchor: stored as the resource's URI, '#', the name. */
			size_t n = base_len + 1 + strlen(frag);
			char *full = malloc(n + 1);
			if (full) {
				memcpy(full, uri, base_len + 1);
				strcpy(full + base_len + 1, frag);
				found = res_node(s, full, n);
				free(full);
			}
		}
	}
	free(frag);
	return found;
}

static int check(const struct cde_jsonschema *s, const cJSON *node, struct cde_ptr *p, struct cde_errors *errs)
{
	int r = 0;
	const char *uri = cJSON_IsString(node) ? cde_js_ref_find(s, node) : NULL;
	if (uri && !cde_jsonschema_lookup(s, uri)) {
		cde_errors_add(errs, cde_ptr_str(p), "$ref %s does not resolve", uri);
		r = -ENOENT;
	}
	size_t i = 0;
	for (const cJSON *c = node->child; c; c = c->next, i++) {
		size_t mark = c->string ? cde_ptr_push(p, c->string) : cde_ptr_push_index(p, i);
		if (check(s, c, p, errs))
			r = -ENOENT;
		cde_ptr_pop(p, mark);
	}
	return r;
}

int cde_jsonschema_check_refs(const struct cde_jsonschema *s, const cJSON *root, struct cde_errors *errs)
{
	struct cde_ptr p;
	cde_ptr_init(&p);
	return check(s, root, &p, errs);
}
