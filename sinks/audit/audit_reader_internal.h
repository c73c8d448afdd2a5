#pragma once
/* What the audit reader's files share (audit_reader.c runs the thread,
 * audit_reader_log.c answers the transparency log's reads). */

#include "sinks/audit/audit_proof_source.h"
#include "sinks/audit/audit_reader.h"

/* Answers the log read @q from @src into @a (status, body, reason). */
void cde_audit_reader_run_log(const struct cde_audit_proof_source *src, const struct cde_audit_log_request *q,
			      struct cde_audit_log_answer *a);
