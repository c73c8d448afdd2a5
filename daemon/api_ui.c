/* GET and HEAD /ui/...: the web interface's files (ui_files.c), with the
 * headers that keep a page to what it was written to do: its scripts and
 * styles come from this origin only (no inline script, nothing from
 * elsewhere), it reads only this API, no other site may frame it, and a
 * browser never second-guesses a file's type. The files hold no data:
 * everything a page shows comes from the API, under its scopes. */

#include "daemon/api_internal.h"

#include <stdio.h>
#include <string.h>

#include "daemon/ui_files.h"

#define UI_CSP                                                                                   \
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "     \
	"img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "              \
	"frame-ancestors 'none'"

void cde_api_handle_ui(struct cde_api *api, struct cde_http_request *req)
{
	static const char *const to_root[] = { "Location: /ui/", NULL };
	const char *path = cde_http_request_path(req);
	const struct cde_ui_file *f;
	char type[64];
	const char *headers[] = {
		type, "Cache-Control: no-cache", UI_CSP, "X-Content-Type-Options: nosniff",
		"Referrer-Policy: no-referrer", "X-Frame-Options: DENY", NULL,
	};

	if (strcmp(path, "/ui") == 0) {
		cde_http_reply(req, 308, NULL, to_root);
		return;
	}
	f = strncmp(path, "/ui/", 4) == 0 ? cde_ui_files_find(api->ui, path + 4) : NULL;
	if (!f) {
		cde_api_reply_error(req, 404, api->ui ? "no such file" : "the web interface's files were not found at start",
				    NULL, NULL);
		return;
	}
	snprintf(type, sizeof(type), "Content-Type: %s", f->type);
	cde_http_reply(req, 200, f->body, headers);
}
