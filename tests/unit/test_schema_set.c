/* schemaUri schemas: the `schemas:` key of the configuration and the set
 * of JSON Schemas it loads (daemon/schema_set.c), as an event meets them. */

#include "tests/unit/helpers.h"

#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/config_load.h"
#include "daemon/schema_set.h"

#define PROD "https://example.com/schemas/prod"

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char file[128];
	FILE *f;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void remove_file(const char *name)
{
	char file[128];

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	unlink(file);
}

static int make_dir(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/cde-schemas-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int remove_dir(void **state)
{
	remove_file("config.yaml");
	remove_file("prod.json");
	remove_file("other.json");
	rmdir(dir);
	return 0;
}

static int load_config(const char *text, struct cde_config *cfg, struct cde_errors *errs)
{
	char file[128];

	write_file("config.yaml", text);
	snprintf(file, sizeof(file), "%s/config.yaml", dir);
	cde_config_defaults(cfg);
	cde_errors_reset(errs);
	return cde_daemon_config_load(file, cfg, errs);
}

static void schemas_key_reads_dirs_and_the_switch(void **state)
{
	static struct cde_config c;
	struct cde_errors errs;

	assert_int_equal(load_config("log_level: info\n", &c, &errs), 0);
	assert_int_equal(c.n_schema_dirs, 0);
	assert_false(c.schemas_accept_unknown); /* refused without the key too */
	assert_int_equal(load_config("schemas:\n  dirs: [/a, /b]\n", &c, &errs), 0);
	assert_int_equal(c.n_schema_dirs, 2);
	assert_string_equal(c.schema_dirs[1], "/b");
	assert_false(c.schemas_accept_unknown);
	assert_int_equal(load_config("schemas:\n  dirs: [/a]\n  unknown_schema_uri: accept\n", &c, &errs), 0);
	assert_true(c.schemas_accept_unknown);
}

static void schemas_key_names_each_mistake(void **state)
{
	static struct cde_config c;
	struct cde_errors errs;

	assert_int_equal(load_config("schemas:\n  dirs: /a\n  unknown_schema_uri: maybe\n  colour: red\n", &c, &errs),
			 -EINVAL);
	assert_true(has_error(&errs, "/schemas/dirs", "must be a list"));
	assert_true(has_error(&errs, "/schemas/unknown_schema_uri", "must be refuse or accept"));
	assert_true(has_error(&errs, "/schemas/colour", "unknown key for schemas"));
	assert_int_equal(load_config("schemas: [/a]\n", &c, &errs), -EINVAL);
	assert_true(has_error(&errs, "/schemas", "must be a map"));
}

static struct cde_schema_set *load_set(int want, struct cde_errors *errs)
{
	const char *dirs[] = { dir };
	struct cde_schema_set *s = NULL;

	cde_errors_reset(errs);
	assert_int_equal(cde_schema_set_load(dirs, 1, &s, errs), want);
	return s;
}

static int check(const struct cde_schema_set *s, bool accept, const char *json, struct cde_errors *errs)
{
	cJSON *ev = cJSON_Parse(json);
	int r;

	assert_non_null(ev);
	cde_errors_reset(errs);
	r = cde_schema_set_check(s, accept, ev, errs);
	cJSON_Delete(ev);
	return r;
}

static void an_event_is_checked_against_the_schema_its_schema_uri_names(void **state)
{
	struct cde_errors errs;
	struct cde_schema_set *s;
	cJSON *list;

	write_file("prod.json", "{\"$id\": \"" PROD "\", \"properties\": {\"subject\": {\"required\": [\"env\"]}}}");
	s = load_set(0, &errs);
	assert_int_equal(check(s, false, "{\"context\": {\"schemaUri\": \"" PROD "\"}, \"subject\": {}}", &errs),
			 -EINVAL);
	assert_true(has_error(&errs, "/subject/env", "schema " PROD ": required"));
	assert_int_equal(check(s, false, "{\"context\": {\"schemaUri\": \"" PROD "\"}, \"subject\": {\"env\": 1}}",
			       &errs), 0);
	assert_int_equal(check(s, false, "{\"context\": {}, \"subject\": {}}", &errs), 0);
	assert_int_equal(check(s, false, "{\"context\": {\"schemaUri\": \"https://x.example/n\"}}", &errs), -EINVAL);
	assert_true(has_error(&errs, "/context/schemaUri", "schemaUri https://x.example/n is not loaded: add it "
			      "under schemas.dirs, or set schemas.unknown_schema_uri: accept"));
	assert_int_equal(check(s, true, "{\"context\": {\"schemaUri\": \"https://x.example/n\"}}", &errs), 0);
	list = cde_schema_set_list_json(s);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "id")->valuestring, PROD);
	cJSON_Delete(list);
	cde_schema_set_free(s);
	assert_int_equal(check(NULL, false, "{\"context\": {\"schemaUri\": \"" PROD "\"}}", &errs), -EINVAL);
}

static void a_schema_file_that_cannot_be_named_or_read_is_refused(void **state)
{
	struct cde_errors errs;

	write_file("prod.json", "{\"$id\": \"" PROD "\"}");
	write_file("other.json", "{\"$id\": \"" PROD "\"}");
	assert_null(load_set(-EINVAL, &errs));
	write_file("other.json", "{\"properties\": {}}");
	assert_null(load_set(-EINVAL, &errs));
	assert_true(has_error(&errs, "/$id", "must be an absolute URI"));
	write_file("other.json", "{\"$id\": \"https://x.example/o\", \"$ref\": \"https://x.example/none\"}");
	assert_null(load_set(-ENOENT, &errs));
	assert_true(has_error(&errs, "/$ref", "other.json"));
	write_file("other.json", "{\"$id\": \"https://x.example/o\", \"frobnicate\": 1}");
	assert_null(load_set(-EINVAL, &errs));
	assert_true(has_error(&errs, "/frobnicate", "other.json: /frobnicate: "));
	remove_file("other.json");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(schemas_key_reads_dirs_and_the_switch),
		cmocka_unit_test(schemas_key_names_each_mistake),
		cmocka_unit_test(an_event_is_checked_against_the_schema_its_schema_uri_names),
		cmocka_unit_test(a_schema_file_that_cannot_be_named_or_read_is_refused),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
