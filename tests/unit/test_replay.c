/* The replay memory (daemon/replay.c): per principal, bounded, never
 * evicting a key before it expires, kept in a file across opens. */

#include "tests/unit/helpers.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/replay.h"

static const time_t now = 1800000000;

static void key_of(int n, uint8_t key[32])
{
	memset(key, 0, 32);
	memcpy(key, &n, sizeof(n));
	key[31] = 0x5a;
}

static struct cde_replay *open_in(const char *dir, size_t cap, time_t at)
{
	struct cde_replay *r = NULL;
	char err[256];

	assert_int_equal(cde_replay_open(dir, cap, at, &r, err, sizeof(err)), 0);
	return r;
}

static void a_key_is_refused_until_it_expires(void **state)
{
	struct cde_replay *r = open_in(NULL, 16, now);
	uint8_t k[32];

	key_of(1, k);
	assert_false(cde_replay_seen(r, "argo", k, now));
	assert_int_equal(cde_replay_remember(r, "argo", k, now + 600, now), 0);
	assert_true(cde_replay_seen(r, "argo", k, now));
	/* A copy while the first is being handled: retry; once it was
	 * answered with success: a re-send. */
	assert_int_equal(cde_replay_remember(r, "argo", k, now + 600, now), -EBUSY);
	cde_replay_confirm(r, "argo", k, now);
	assert_int_equal(cde_replay_remember(r, "argo", k, now + 600, now + 600), -EEXIST);
	assert_false(cde_replay_seen(r, "argo", k, now + 601));
	assert_int_equal(cde_replay_remember(r, "argo", k, now + 1300, now + 601), 0);
	/* Another principal's key of the same bytes is another key. */
	assert_int_equal(cde_replay_remember(r, "flux", k, now + 600, now), 0);
	cde_replay_free(r);
}

static void a_forgotten_key_can_be_used_again(void **state)
{
	struct cde_replay *r = open_in(NULL, 16, now);
	uint8_t k[32];

	key_of(7, k);
	assert_int_equal(cde_replay_remember(r, "argo", k, now + 600, now), 0);
	cde_replay_forget(r, "argo", k);
	assert_false(cde_replay_seen(r, "argo", k, now));
	assert_int_equal(cde_replay_remember(r, "argo", k, now + 600, now), 0);
	cde_replay_forget(r, "nobody", k); /* a principal with no memory yet */
	cde_replay_free(r);
}

static void one_principal_filling_its_memory_leaves_the_others_alone(void **state)
{
	struct cde_replay *r = open_in(NULL, 8, now);
	uint8_t k[32];
	int n = 0, e;

	for (;;) {
		key_of(n, k);
		e = cde_replay_remember(r, "argo", k, now + 600, now);
		if (e < 0)
			break;
		n++;
	}
	assert_int_equal(e, -ENOSPC);
	assert_int_equal(n, 8);
	for (int i = 0; i < n; i++) {
		key_of(i, k);
		assert_true(cde_replay_seen(r, "argo", k, now)); /* none evicted */
	}
	key_of(0, k);
	assert_int_equal(cde_replay_remember(r, "flux", k, now + 600, now), 0);
	/* Once its keys expire, the full principal has room again. */
	key_of(1000, k);
	assert_int_equal(cde_replay_remember(r, "argo", k, now + 1300, now + 601), 0);
	cde_replay_free(r);
}

static void the_memory_survives_a_reopen(void **state)
{
	char dir[] = "/tmp/cde-replay-XXXXXX", file[64];
	struct cde_replay *r;
	uint8_t a[32], b[32], c[32], d[32];
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/%s", dir, CDE_REPLAY_FILE);
	key_of(1, a);
	key_of(2, b);
	key_of(3, c);
	r = open_in(dir, 16, now);
	assert_int_equal(cde_replay_remember(r, "argo", a, now + 600, now), 0);
	assert_int_equal(cde_replay_remember(r, "argo", b, now + 600, now), 0);
	assert_int_equal(cde_replay_remember(r, "github", c, now + 86400, now), 0);
	cde_replay_confirm(r, "argo", a, now);
	cde_replay_confirm(r, "argo", b, now);
	cde_replay_confirm(r, "github", c, now);
	cde_replay_forget(r, "argo", b);
	/* Pending when the daemon stopped: never answered, so not kept. */
	key_of(4, d);
	assert_int_equal(cde_replay_remember(r, "argo", d, now + 600, now), 0);
	cde_replay_free(r);
	/* A torn last record, as a crash mid-write leaves it. */
	fd = open(file, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "CDR1xx", 6), 6);
	close(fd);

	r = open_in(dir, 16, now + 10);
	assert_true(cde_replay_seen(r, "argo", a, now + 10));
	assert_false(cde_replay_seen(r, "argo", b, now + 10));
	assert_true(cde_replay_seen(r, "github", c, now + 10));
	assert_false(cde_replay_seen(r, "argo", d, now + 10));
	cde_replay_free(r);
	/* Past the Standard Webhooks window, only the GitHub body is left,
	 * and the file was compacted to it. */
	r = open_in(dir, 16, now + 700);
	assert_false(cde_replay_seen(r, "argo", a, now + 700));
	assert_true(cde_replay_seen(r, "github", c, now + 700));
	cde_replay_free(r);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_size, 112);
	assert_int_equal(st.st_mode & 0777, 0600);
	unlink(file);
	rmdir(dir);
}

static void the_file_is_rewritten_when_it_outgrows_what_it_holds(void **state)
{
	char dir[] = "/tmp/cde-replay-XXXXXX", file[64];
	struct cde_replay *r;
	uint8_t k[32], last[32];
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/%s", dir, CDE_REPLAY_FILE);
	r = open_in(dir, 16, now);
	for (int i = 0; i < 5000; i++) {
		key_of(i, k);
		assert_int_equal(cde_replay_remember(r, "argo", k, now + 600, now), 0);
		cde_replay_confirm(r, "argo", k, now);
		cde_replay_forget(r, "argo", k);
	}
	key_of(99999, last);
	assert_int_equal(cde_replay_remember(r, "argo", last, now + 600, now), 0);
	cde_replay_confirm(r, "argo", last, now);
	assert_int_equal(stat(file, &st), 0);
	assert_true(st.st_size < 10000 * 112 / 2);	/* 10,001 records written */
	cde_replay_free(r);
	r = open_in(dir, 16, now);
	assert_true(cde_replay_seen(r, "argo", last, now));
	key_of(4999, k);
	assert_false(cde_replay_seen(r, "argo", k, now));
	cde_replay_free(r);
	unlink(file);
	rmdir(dir);
}

static void a_foreign_file_is_refused_by_name(void **state)
{
	char dir[] = "/tmp/cde-replay-XXXXXX", file[64], err[256];
	struct cde_replay *r = NULL;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/%s", dir, CDE_REPLAY_FILE);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	for (int i = 0; i < 200; i++)
		assert_int_equal(write(fd, "not a replay file\n", 18), 18);
	close(fd);
	assert_int_equal(cde_replay_open(dir, 16, now, &r, err, sizeof(err)), -EINVAL);
	assert_null(r);
	assert_non_null(strstr(err, "not a cdeventsd replay file"));
	unlink(file);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_key_is_refused_until_it_expires),
		cmocka_unit_test(a_forgotten_key_can_be_used_again),
		cmocka_unit_test(one_principal_filling_its_memory_leaves_the_others_alone),
		cmocka_unit_test(the_memory_survives_a_reopen),
		cmocka_unit_test(the_file_is_rewritten_when_it_outgrows_what_it_holds),
		cmocka_unit_test(a_foreign_file_is_refused_by_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
