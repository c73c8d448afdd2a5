/* Reading secrets (schemas/base/read_file.c): one line, and only from a file
 * that nobody else can read; files a library reads itself checked alike. */

#include "tests/unit/helpers.h"

#include <sys/stat.h>
#include <unistd.h>

static int read_with_mode(const char *text, mode_t mode, char **ret, size_t *len)
{
	char path[] = "/tmp/cde-secret-XXXXXX";
	int fd = mkstemp(path), r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	r = cde_read_secret(path, 4096, ret, len);
	unlink(path);
	return r;
}

static void a_private_file_is_read_without_its_newline(void **state)
{
	char *s = NULL;
	size_t len;

	assert_int_equal(read_with_mode("s3cret\n", 0600, &s, &len), 0);
	assert_string_equal(s, "s3cret");
	free(s);
	assert_int_equal(read_with_mode("s3cret", 0400, &s, &len), 0);
	free(s);
}

static void a_file_others_can_read_is_refused(void **state)
{
	char *s = NULL;
	size_t len;

	assert_int_equal(read_with_mode("s3cret\n", 0644, &s, &len), -EPERM);
	assert_null(s);
	assert_int_equal(read_with_mode("s3cret\n", 0660, &s, &len), -EPERM);
	assert_non_null(strstr(cde_read_secret_strerror(-EPERM), "chmod 600"));
}

static void the_group_may_only_read_a_file_root_owns(void **state)
{
	assert_true(cde_secret_mode_ok(0600, 1000));
	assert_true(cde_secret_mode_ok(0400, 1000));
	assert_false(cde_secret_mode_ok(0644, 1000));
	assert_false(cde_secret_mode_ok(0604, 0));
	assert_false(cde_secret_mode_ok(0640, 1000));	/* any member of its group could read it */
	assert_false(cde_secret_mode_ok(0620, 0));
	assert_false(cde_secret_mode_ok(0660, 0));
	/* Kubernetes: a Secret mounted for a non-root pod with fsGroup. */
	assert_true(cde_secret_mode_ok(0440, 0));
	assert_true(cde_secret_mode_ok(0640, 0));
}

/* A file a library reads itself (a multi-line NATS .creds) is only
 * checked: the same rule, the same message. */
static void a_file_read_elsewhere_is_checked_alike(void **state)
{
	char path[] = "/tmp/cde-creds-XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "-----BEGIN\nJWT\n", 15), 15);
	assert_int_equal(fchmod(fd, 0600), 0);
	assert_int_equal(cde_check_secret_file(path), 0);
	assert_int_equal(fchmod(fd, 0644), 0);
	assert_int_equal(cde_check_secret_file(path), -EPERM);
	close(fd);
	unlink(path);
	assert_int_equal(cde_check_secret_file(path), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_private_file_is_read_without_its_newline),
		cmocka_unit_test(a_file_others_can_read_is_refused),
		cmocka_unit_test(the_group_may_only_read_a_file_root_owns),
		cmocka_unit_test(a_file_read_elsewhere_is_checked_alike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
