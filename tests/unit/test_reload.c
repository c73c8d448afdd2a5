/* What a reload may change (daemon/reload.c): the keys that need a
 * restart are warned about, once per warning, and those a reload applies
 * are not; a reload is judged against the address bound at start and
 * cannot drop authentication on a listener that is not loopback. */

#include "tests/unit/helpers.h"

#include <fcntl.h>
#include <unistd.h>

#include "config/config.h"
#include "daemon/log.h"
#include "daemon/reload.h"

static struct cde_config running, next;	/* large: not on the stack */
static char got[8192];

static int fresh(void **state)
{
	cde_config_defaults(&running);
	cde_config_defaults(&next);
	return 0;
}

/* What cde_reload_warn_restart_keys logs for running -> next. */
static const char *warnings(void)
{
	int fds[2], saved = dup(STDERR_FILENO);
	ssize_t n;

	assert_true(saved >= 0);
	assert_int_equal(pipe(fds), 0);
	assert_true(dup2(fds[1], STDERR_FILENO) >= 0);
	cde_reload_warn_restart_keys(&running, &next);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	n = read(fds[0], got, sizeof(got) - 1);
	close(fds[0]);
	got[n > 0 ? n : 0] = '\0';
	return got;
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static void each_key_that_needs_a_restart_is_warned_once_per_warning(void **state)
{
	const char *w;

	snprintf(next.listen, sizeof(next.listen), "0.0.0.0:9999");
	snprintf(next.state_dir, sizeof(next.state_dir), "/elsewhere");
	next.audit_sync_full = !running.audit_sync_full;
	next.audit_max_age_s = running.audit_max_age_s + 1;
	next.audit_checkpoint_every = running.audit_checkpoint_every + 1;
	next.metrics_max_series = running.metrics_max_series + 1;
	next.n_sinks = running.n_sinks + 1;
	next.n_routes = running.n_routes + 1;
	w = warnings();
	assert_int_equal(count(w, "\n"), 5);
	assert_int_equal(count(w, "listen changed to 0.0.0.0:9999: takes effect at the next start"), 1);
	assert_int_equal(count(w, "state_dir changed: takes effect at the next start"), 1);
	assert_int_equal(count(w, "audit settings changed: take effect at the next start"), 1);
	assert_int_equal(count(w, "metrics settings changed: take effect at the next start"), 1);
	assert_int_equal(count(w, "sinks or routes changed: take effect at the next start"), 1);
	assert_int_equal(count(w, "level=warn"), 5);
}

static void the_keys_a_reload_applies_are_not_warned_about(void **state)
{
	next.log_level = CDE_CONFIG_LOG_DEBUG;
	snprintf(next.source, sizeof(next.source), "/ci");
	next.limits.body_max *= 2;
	next.limits.queue_max = 1;
	next.n_principals = 1;
	snprintf(next.principals[0].name, sizeof(next.principals[0].name), "ci");
	next.n_clusters = 1;
	assert_string_equal(warnings(), "");
}

static void a_string_is_compared_up_to_its_end_not_past_it(void **state)
{
	/* A longer value once written leaves bytes after the NUL. */
	snprintf(running.listen, sizeof(running.listen), "127.0.0.1:9720-and-more");
	snprintf(running.listen, sizeof(running.listen), "%s", next.listen);
	assert_string_equal(warnings(), "");
}

static void a_reload_is_judged_against_the_bound_address_and_keeps_authentication(void **state)
{
	struct cde_errors errs;

	/* Bound on loopback with no principals: a file naming another
	 * address is judged as loopback, and keeps its own listen. */
	snprintf(next.listen, sizeof(next.listen), "0.0.0.0:9720");
	cde_errors_reset(&errs);
	assert_int_equal(cde_reload_check_bound_auth(&running, &next, &errs), 0);
	assert_string_equal(next.listen, "0.0.0.0:9720");
	/* Bound elsewhere with principals: a file that removes them all is
	 * refused, even with "auth: none". */
	snprintf(running.listen, sizeof(running.listen), "0.0.0.0:9720");
	running.n_principals = 1;
	next.n_principals = 0;
	next.auth_none = true;
	cde_errors_reset(&errs);
	assert_int_equal(cde_reload_check_bound_auth(&running, &next, &errs), -EINVAL);
	assert_true(errs.count >= 1);
	assert_string_equal(errs.items[errs.count - 1].pointer, "/principals");
	assert_non_null(strstr(errs.items[errs.count - 1].reason, "cannot be switched off by a reload"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(each_key_that_needs_a_restart_is_warned_once_per_warning, fresh),
		cmocka_unit_test_setup(the_keys_a_reload_applies_are_not_warned_about, fresh),
		cmocka_unit_test_setup(a_string_is_compared_up_to_its_end_not_past_it, fresh),
		cmocka_unit_test_setup(a_reload_is_judged_against_the_bound_address_and_keeps_authentication, fresh),
	};

	cde_log_set_format(CDE_LOG_LOGFMT);
	cde_log_set_level(CDE_LOG_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
