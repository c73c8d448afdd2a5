#pragma once
/* Loads a configuration file written by a test, over the defaults, as the
 * daemon loads it. Static inline: each test is one file. */

#include <unistd.h>

#include "config/config.h"
#include "daemon/config_load.h"

static inline int config_load_text(const char *text, struct cde_config *cfg, struct cde_errors *errs)
{
	char path[] = "/tmp/cde-config-text-XXXXXX";
	int fd = mkstemp(path), r;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cde_config_defaults(cfg);
	cde_errors_reset(errs);
	r = cde_daemon_config_load(path, cfg, errs);
	unlink(path);
	return r;
}
