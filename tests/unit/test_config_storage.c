/* The storage: key. SQLite in state_dir stays the default; postgres needs
 * a connection string that carries no password (the password comes from a
 * file); each mistake is named by its key. */

#include "tests/unit/helpers.h"

#include "tests/unit/config_file.h"

/* Loads @text, expects it refused, with the first error at @pointer
 * saying @words. */
static void refused(const char *text, const char *pointer, const char *words)
{
	struct cde_config c;
	struct cde_errors errs;

	assert_int_equal(config_load_text(text, &c, &errs), -EINVAL);
	assert_true(errs.count >= 1);
	assert_string_equal(errs.items[0].pointer, pointer);
	if (!strstr(errs.items[0].reason, words))
		fail_msg("%s: \"%s\" does not say \"%s\"", text, errs.items[0].reason, words);
}

static void sqlite_is_the_default(void **state)
{
	struct cde_config c;

	(void)state;
	cde_config_defaults(&c);
	assert_int_equal(c.storage_driver, CDE_STORAGE_SQLITE);
	assert_string_equal(c.storage_url, "");
	assert_string_equal(c.storage_password_file, "");
}

static void postgres_takes_a_url_and_a_password_file(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	(void)state;
	assert_int_equal(config_load_text("storage:\n  driver: postgres\n"
			      "  url: postgres://cdeventsd@db.internal:5432/audit?sslmode=verify-full\n"
			      "  password_file: /run/secrets/db/password\n", &c, &errs), 0);
	assert_int_equal(c.storage_driver, CDE_STORAGE_POSTGRES);
	assert_string_equal(c.storage_url, "postgres://cdeventsd@db.internal:5432/audit?sslmode=verify-full");
	assert_string_equal(c.storage_password_file, "/run/secrets/db/password");
	/* key=value strings too; no password file (peer or certificate auth). */
	assert_int_equal(config_load_text("storage: {driver: postgres, url: \"host=/run/postgresql dbname=audit\"}\n", &c,
			      &errs), 0);
	assert_string_equal(c.storage_url, "host=/run/postgresql dbname=audit");
	assert_string_equal(c.storage_password_file, "");
	/* driver: sqlite said explicitly is the default. */
	assert_int_equal(config_load_text("storage: {driver: sqlite}\n", &c, &errs), 0);
	assert_int_equal(c.storage_driver, CDE_STORAGE_SQLITE);
}

static void a_password_in_the_url_is_refused(void **state)
{
	(void)state;
	refused("storage: {driver: postgres, url: \"postgres://cdeventsd:hunter2@db/audit\"}\n", "/storage/url",
		"password_file");
	refused("storage: {driver: postgres, url: \"postgres://db/audit?user=a&password=hunter2\"}\n",
		"/storage/url", "password_file");
	refused("storage: {driver: postgres, url: \"host=db password = hunter2\"}\n", "/storage/url",
		"password_file");
	refused("storage: {driver: postgres, url: \"password=hunter2 host=db\"}\n", "/storage/url",
		"password_file");
}

static void each_mistake_is_named_by_its_key(void **state)
{
	(void)state;
	refused("storage: {driver: mysql}\n", "/storage/driver", "sqlite or postgres");
	refused("storage: {driver: postgres}\n", "/storage/url", "needs a url");
	refused("storage: {driver: postgres, url: \"\"}\n", "/storage/url", "");
	refused("storage: {url: \"host=db\"}\n", "/storage/url", "only the postgres driver");
	refused("storage: {driver: sqlite, password_file: /x}\n", "/storage/password_file", "only the postgres");
	refused("storage: {driver: postgres, url: \"host=db\", pasword_file: /x}\n", "/storage/pasword_file",
		"unknown key");
	refused("storage: postgres\n", "/storage", "");
	refused("storage: {driver: postgres, url: [a]}\n", "/storage/url", "");
}

/* --storage-url and --storage-password-file over the file. */
static void the_flags_select_postgres_and_are_checked_alike(void **state)
{
	struct cde_config c;
	struct cde_errors errs;

	(void)state;
	cde_config_defaults(&c);
	cde_errors_reset(&errs);
	assert_int_equal(cde_config_set_storage(&c, "host=/run/postgresql dbname=audit", "/run/pw", &errs), 0);
	assert_int_equal(c.storage_driver, CDE_STORAGE_POSTGRES);
	assert_string_equal(c.storage_url, "host=/run/postgresql dbname=audit");
	assert_string_equal(c.storage_password_file, "/run/pw");
	cde_config_defaults(&c);
	assert_int_equal(cde_config_set_storage(&c, "postgres://u:pw@db/audit", NULL, &errs), -EINVAL);
	assert_string_equal(errs.items[0].pointer, "/storage/url");
	cde_config_defaults(&c);
	cde_errors_reset(&errs);
	assert_int_equal(cde_config_set_storage(&c, NULL, "/run/pw", &errs), -EINVAL);
	assert_string_equal(errs.items[0].pointer, "/storage/password_file");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sqlite_is_the_default),
		cmocka_unit_test(postgres_takes_a_url_and_a_password_file),
		cmocka_unit_test(a_password_in_the_url_is_refused),
		cmocka_unit_test(each_mistake_is_named_by_its_key),
		cmocka_unit_test(the_flags_select_postgres_and_are_checked_alike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
