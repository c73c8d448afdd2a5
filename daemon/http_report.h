#pragma once
/* The daemon's side of the HTTP server's reports: refusal bodies in the
 * API's shape and the request log lines. */

#include "daemon/http/server.h"

/* Has @s report its refusals and answers to the daemon's log. */
void cde_http_report_attach(struct cde_http_server *s);
