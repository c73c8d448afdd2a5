/* The web interface's files (daemon/ui_files.c) and their route
 * (daemon/api_ui.c): what is read at start, what a request can name, and
 * the headers every file goes out with. A tree is built per test in a
 * temporary directory, next to a secret outside it that no request may
 * reach. cde_http_reply is wrapped (tests/meson.build) to see the reply. */

#include "tests/unit/request.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/api.h"
#include "daemon/ui_files.h"

static struct {
	int replies, status;
	char headers[1024];
	char body[256];
} seen;

void __wrap_cde_http_reply(struct cde_http_request *req, int status, const char *body,
			   const char *const *extra_headers);
void __wrap_cde_http_reply(struct cde_http_request *req, int status, const char *body,
			   const char *const *extra_headers)
{
	seen.replies++;
	seen.status = status;
	snprintf(seen.body, sizeof(seen.body), "%s", body ? body : "");
	for (size_t i = 0; extra_headers && extra_headers[i]; i++) {
		size_t n = strlen(seen.headers);

		snprintf(seen.headers + n, sizeof(seen.headers) - n, "%s\n", extra_headers[i]);
	}
	cde_http_request_free(req);
}

/* The root of the test's tree: <base>/ui, and <base>/secret.html beside it. */
static char base[64], root[96];

static void write_file(const char *rel, const char *text, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void link_to(const char *target, const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int make_tree(void **state)
{
	char path[160];

	snprintf(base, sizeof(base), "/tmp/cde-ui-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(root, sizeof(root), "%s/ui", base);
	assert_int_equal(mkdir(root, 0755), 0);
	snprintf(path, sizeof(path), "%s/js", root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/outside", base);
	assert_int_equal(mkdir(path, 0755), 0);
	write_file("secret.html", "SECRET", 6);
	write_file("outside/key.js", "SECRET", 6);
	write_file("ui/index.html", "<!doctype html>", 15);
	write_file("ui/style.css", "body{}", 6);
	write_file("ui/js/app.js", "export {};", 10);
	write_file("ui/notes.md", "not served", 10);
	write_file("ui/.hidden.html", "hidden", 6);
	memset(&seen, 0, sizeof(seen));
	return 0;
}

static int remove_tree(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct cde_ui_files *load(void)
{
	struct cde_ui_files *ui = NULL;

	assert_int_equal(cde_ui_files_load(root, &ui), 0);
	return ui;
}

static void the_files_of_the_tree_are_found_by_their_names_with_their_types(void **state)
{
	struct cde_ui_files *ui = load();
	const struct cde_ui_file *f;

	assert_int_equal(cde_ui_files_count(ui), 3);
	f = cde_ui_files_find(ui, "");
	assert_non_null(f);
	assert_string_equal(f->name, "index.html");
	assert_string_equal(f->type, "text/html; charset=utf-8");
	f = cde_ui_files_find(ui, "js/app.js");
	assert_non_null(f);
	assert_string_equal(f->body, "export {};");
	assert_int_equal(f->len, 10);
	assert_string_equal(f->type, "text/javascript; charset=utf-8");
	assert_string_equal(cde_ui_files_find(ui, "style.css")->type, "text/css; charset=utf-8");
	/* A name says what a file is: nothing else is served, nor hidden files. */
	assert_null(cde_ui_files_find(ui, "notes.md"));
	assert_null(cde_ui_files_find(ui, ".hidden.html"));
	cde_ui_files_free(ui);
}

static void no_name_reaches_out_of_the_tree_or_around_a_name(void **state)
{
	static const char *const attacks[] = {
		"../secret.html", "js/../../secret.html", "js/../index.html", "/index.html", "js//app.js",
		"./index.html", "%2e%2e/secret.html", "index.html%00.js", "index.html/", "INDEX.HTML",
		"js\\app.js", "js", "js/", "../outside/key.js",
	};
	struct cde_ui_files *ui = load();

	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		print_message("  %s\n", attacks[i]);
		assert_null(cde_ui_files_find(ui, attacks[i]));
	}
	cde_ui_files_free(ui);
}

static void a_symbolic_link_is_never_followed_in_or_out_of_the_tree(void **state)
{
	char target[160];
	struct cde_ui_files *ui;

	snprintf(target, sizeof(target), "%s/secret.html", base);
	link_to(target, "ui/secret.html");
	snprintf(target, sizeof(target), "%s/outside", base);
	link_to(target, "ui/outside");
	link_to("index.html", "ui/again.html");
	ui = load();
	assert_int_equal(cde_ui_files_count(ui), 3);
	assert_null(cde_ui_files_find(ui, "secret.html"));
	assert_null(cde_ui_files_find(ui, "outside/key.js"));
	assert_null(cde_ui_files_find(ui, "again.html"));
	cde_ui_files_free(ui);
}

static void a_file_holding_a_nul_is_skipped_and_one_past_the_cap_refuses_the_set(void **state)
{
	struct cde_ui_files *ui;
	char *big = malloc(CDE_UI_FILE_MAX + 1);

	write_file("ui/nul.js", "a\0b", 3);
	ui = load();
	assert_null(cde_ui_files_find(ui, "nul.js"));
	cde_ui_files_free(ui);
	assert_non_null(big);
	memset(big, 'x', CDE_UI_FILE_MAX + 1);
	write_file("ui/big.js", big, CDE_UI_FILE_MAX + 1);
	free(big);
	ui = NULL;
	assert_int_equal(cde_ui_files_load(root, &ui), -EFBIG);
	assert_null(ui);
}

static void a_missing_directory_is_enoent_and_a_file_enotdir(void **state)
{
	struct cde_ui_files *ui = NULL;
	char path[160];

	snprintf(path, sizeof(path), "%s/none", base);
	assert_int_equal(cde_ui_files_load(path, &ui), -ENOENT);
	snprintf(path, sizeof(path), "%s/secret.html", base);
	assert_int_equal(cde_ui_files_load(path, &ui), -ENOTDIR);
	assert_null(ui);
	assert_null(cde_ui_files_find(NULL, ""));
	assert_null(cde_ui_files_free(NULL));
}

/* ---- the route ---- */

static void get(struct cde_api *api, const char *method, const char *target)
{
	memset(&seen, 0, sizeof(seen));
	cde_api_handle(test_request(method, target, NULL, NULL), api);
	assert_int_equal(seen.replies, 1);
}

static void a_file_is_served_without_a_credential_with_a_strict_policy(void **state)
{
	struct cde_api api = { .ui = load() };

	get(&api, "GET", "/ui/");
	assert_int_equal(seen.status, 200);
	assert_string_equal(seen.body, "<!doctype html>");
	assert_non_null(strstr(seen.headers, "Content-Type: text/html; charset=utf-8\n"));
	assert_non_null(strstr(seen.headers, "Cache-Control: no-cache\n"));
	assert_non_null(strstr(seen.headers, "X-Content-Type-Options: nosniff\n"));
	/* Scripts and styles from this origin only, no inline script, no
	 * other site's data, no framing. */
	assert_non_null(strstr(seen.headers, "Content-Security-Policy: default-src 'none'; script-src 'self'; "));
	assert_null(strstr(seen.headers, "unsafe-inline"));
	assert_non_null(strstr(seen.headers, "frame-ancestors 'none'"));
	get(&api, "HEAD", "/ui/js/app.js");
	assert_int_equal(seen.status, 200);
	assert_non_null(strstr(seen.headers, "Content-Type: text/javascript; charset=utf-8\n"));
	get(&api, "GET", "/ui");
	assert_int_equal(seen.status, 308);
	assert_non_null(strstr(seen.headers, "Location: /ui/\n"));
	cde_ui_files_free((struct cde_ui_files *)api.ui);
}

static void the_route_takes_only_get_and_head_and_names_nothing_outside(void **state)
{
	struct cde_api api = { .ui = load() };

	get(&api, "POST", "/ui/index.html");
	assert_int_equal(seen.status, 405);
	assert_non_null(strstr(seen.headers, "Allow: GET, HEAD"));
	get(&api, "DELETE", "/ui/");
	assert_int_equal(seen.status, 405);
	get(&api, "GET", "/ui/../secret.html");
	assert_int_equal(seen.status, 404);
	get(&api, "GET", "/ui/notes.md");
	assert_int_equal(seen.status, 404);
	get(&api, "GET", "/uiindex.html");
	assert_int_equal(seen.status, 404);
	cde_ui_files_free((struct cde_ui_files *)api.ui);
	/* Files not found at start: 404 saying so. */
	api.ui = NULL;
	get(&api, "GET", "/ui/");
	assert_int_equal(seen.status, 404);
	assert_non_null(strstr(seen.body, "not found at start"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(the_files_of_the_tree_are_found_by_their_names_with_their_types,
						make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(no_name_reaches_out_of_the_tree_or_around_a_name, make_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(a_symbolic_link_is_never_followed_in_or_out_of_the_tree, make_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(a_file_holding_a_nul_is_skipped_and_one_past_the_cap_refuses_the_set,
						make_tree, remove_tree),
		cmocka_unit_test_setup_teardown(a_missing_directory_is_enoent_and_a_file_enotdir, make_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(a_file_is_served_without_a_credential_with_a_strict_policy, make_tree,
						remove_tree),
		cmocka_unit_test_setup_teardown(the_route_takes_only_get_and_head_and_names_nothing_outside,
						make_tree, remove_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
