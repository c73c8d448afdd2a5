/* The `storage:` map: {driver: sqlite|postgres, url: ..., password_file: ...}.
 * SQLite (audit.db under state_dir) is the default and takes no other key;
 * postgres needs a libpq connection string. config/ does not link libpq:
 * the string is parsed for real when the store connects; here it is only
 * kept from carrying a password, which belongs in a file only the daemon's
 * user may read (logs, `ps` and config reviews show the url). */

#include <errno.h>
#include <string.h>

#include "config/config_internal.h"
#include "schemas/base/json_read.h"

/* A password in a URI (postgres://user:secret@host) or in key=value form
 * (password=...). */
static bool url_has_password(const char *url)
{
	const char *scheme = strstr(url, "://");

	if (scheme) {
		const char *auth = scheme + 3, *at = strchr(auth, '@'), *slash = strchr(auth, '/');

		if (at && (!slash || at < slash) && memchr(auth, ':', (size_t)(at - auth)))
			return true;
		return strstr(url, "password=") != NULL;
	}
	for (const char *p = strstr(url, "password"); p; p = strstr(p + 1, "password")) {
		const char *after = p + strlen("password");

		after += strspn(after, " ");
		if ((p == url || p[-1] == ' ') && *after == '=')
			return true;
	}
	return false;
}

static int apply_driver(const cJSON *item, struct cde_config *cfg, struct cde_json_reader *rd)
{
	if (cJSON_IsString(item) && strcmp(item->valuestring, "sqlite") == 0)
		cfg->storage_driver = CDE_STORAGE_SQLITE;
	else if (cJSON_IsString(item) && strcmp(item->valuestring, "postgres") == 0)
		cfg->storage_driver = CDE_STORAGE_POSTGRES;
	else
		return cde_json_reader_fail(rd, "driver", "must be sqlite or postgres");
	return 0;
}

static int apply_string(const cJSON *item, char *dst, size_t size, struct cde_json_reader *rd, const char *what)
{
	size_t mark = cde_ptr_push(&rd->p, item->string);
	const cJSON *v = cde_json_read_value(rd, item, cJSON_String, CDE_JSON_REQUIRED | CDE_JSON_NON_EMPTY, what);
	int r = v && cde_config_copy_bounded(dst, size, v->valuestring, rd->file, cde_ptr_str(&rd->p),
					     rd->errs) == 0 ? 0 : -EINVAL;

	cde_ptr_pop(&rd->p, mark);
	return r;
}

/* What holds between the keys once all are read. */
static int check_storage(const struct cde_config *cfg, struct cde_json_reader *rd)
{
	if (cfg->storage_driver == CDE_STORAGE_SQLITE) {
		if (cfg->storage_url[0])
			return cde_json_reader_fail(rd, "url", "only the postgres driver takes a url "
						    "(sqlite keeps audit.db in state_dir)");
		if (cfg->storage_password_file[0])
			return cde_json_reader_fail(rd, "password_file", "only the postgres driver takes one");
		return 0;
	}
	if (!cfg->storage_url[0])
		return cde_json_reader_fail(rd, "url", "the postgres driver needs a url "
					    "(postgres://USER@HOST:PORT/DB or host=... dbname=...)");
	if (url_has_password(cfg->storage_url))
		return cde_json_reader_fail(rd, "url", "carries a password: put it in password_file "
					    "(a file only the daemon's user can read)");
	return 0;
}

int cde_config_apply_storage(const cJSON *doc, const char *path, struct cde_config *cfg, struct cde_errors *errs)
{
	const cJSON *storage = cJSON_GetObjectItemCaseSensitive(doc, "storage"), *item;
	struct cde_json_reader rd;
	int r = 0;

	if (!storage)
		return 0;
	/* A file that names storage: replaces the setting as a whole. */
	cfg->storage_driver = CDE_STORAGE_SQLITE;
	cfg->storage_url[0] = '\0';
	cfg->storage_password_file[0] = '\0';
	cde_config_reader_init(&rd, "/storage", path, errs);
	if (cJSON_IsNull(storage))
		return 0;
	if (!cde_json_read_value(&rd, storage, cJSON_Object, 0, " ({driver, url, password_file})"))
		return -EINVAL;
	cJSON_ArrayForEach(item, storage) {
		if (strcmp(item->string, "driver") == 0)
			r |= apply_driver(item, cfg, &rd);
		else if (strcmp(item->string, "url") == 0)
			r |= apply_string(item, cfg->storage_url, sizeof(cfg->storage_url), &rd,
					  " (a libpq connection string)");
		else if (strcmp(item->string, "password_file") == 0)
			r |= apply_string(item, cfg->storage_password_file, sizeof(cfg->storage_password_file), &rd,
					  " (a file)");
		else
			r |= cde_json_reader_fail(&rd, item->string,
						  "unknown key for storage (driver, url, password_file)");
	}
	if (r == 0)
		r = check_storage(cfg, &rd);
	return r ? -EINVAL : 0;
}

int cde_config_set_storage(struct cde_config *cfg, const char *url, const char *password_file,
			   struct cde_errors *errs)
{
	struct cde_json_reader rd;

	cde_json_reader_init(&rd, "/storage", errs);
	rd.file = "the command line";
	if (url) {
		cfg->storage_driver = CDE_STORAGE_POSTGRES;
		if (cde_config_copy_bounded(cfg->storage_url, sizeof(cfg->storage_url), url, rd.file,
					    "--storage-url", errs) < 0)
			return -EINVAL;
	}
	if (password_file &&
	    cde_config_copy_bounded(cfg->storage_password_file, sizeof(cfg->storage_password_file), password_file,
				    rd.file, "--storage-password-file", errs) < 0)
		return -EINVAL;
	return check_storage(cfg, &rd) < 0 ? -EINVAL : 0;
}
