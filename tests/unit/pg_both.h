#pragma once
/* Shared by the unit tests that write the same events through the
 * audit.db store and the PostgreSQL store and compare what each gives
 * back. Static inline: each test is one file; include after helpers.h. */

#include "events/event.h"
#include "tests/unit/audit_rows.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/pg/pg_store.h"
#include "sinks/audit/tlog/note_text.h"

/* The C2SP signed-note test key (a public test vector). */
#define PG_BOTH_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"

static inline struct cde_note_signer *pg_both_signer(void)
{
	struct cde_note_signer *signer;
	char err[256];

	assert_int_equal(cde_note_signer_parse(PG_BOTH_SKEY, &signer, err, sizeof(err)), 0);
	return signer;
}

/* The verifier of PG_BOTH_SKEY's public key. */
static inline struct cde_note_verifier *pg_both_verifier(void)
{
	struct cde_note_signer *signer = pg_both_signer();
	struct cde_note_verifier *v;
	char err[256], *vkey;

	assert_int_equal(cde_note_signer_verifier_key(signer, &vkey), 0);
	assert_int_equal(cde_note_verifier_parse(vkey, &v, err, sizeof(err)), 0);
	free(vkey);
	cde_note_signer_free(signer);
	return v;
}

/* Closes both stores and removes audit.db's files at @db_path. */
static inline void pg_both_close(struct cde_audit_store *lite, struct cde_pg_store *pg, const char *db_path)
{
	char file[96];

	cde_audit_backend_pg.close(pg);
	cde_audit_store_close(lite);
	remove_store(db_path);
	snprintf(file, sizeof(file), "%s-checkpoint", db_path);
	unlink(file);
}

/* Event e-@n; received at noon, or with @spread @n seconds after. */
static inline void pg_both_entry(struct cde_journal_entry *e, int n, bool spread)
{
	struct cde_event *ev = NULL;
	char id[32];

	snprintf(id, sizeof(id), "e-%d", n);
	memset(e, 0, sizeof(*e));
	assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.service.deployed.0.3.0", "/ci", "svc",
				       &ev), 0);
	assert_int_equal(cde_event_set_id(ev, id), 0);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(cde_event_content(ev), "environment"), "id", "prod");
	cJSON_AddStringToObject(cde_event_content(ev), "artifactId", "pkg:oci/etl@1");
	e->event = ev;
	e->principal = "jenkins";
	e->peer = "127.0.0.1:4242";
	snprintf(e->received_at, sizeof(e->received_at), "2026-12-07T12:00:%02d.000000Z", spread ? n % 60 : 0);
}

/* Events e-@first .. e-(@first+@n-1), one group, to both stores. */
static inline void pg_both_append(struct cde_audit_store *lite, struct cde_pg_store *pg, int first, int n,
				  bool spread)
{
	const struct cde_audit_backend_ops *be = &cde_audit_backend_pg;
	struct cde_journal_entry e[8];
	char err[256] = "";
	int r;

	assert_true(n <= 8);
	for (int i = 0; i < n; i++)
		pg_both_entry(&e[i], first + i, spread);
	assert_int_equal(cde_audit_store_append(lite, e, (size_t)n, err, sizeof(err)), 0);
	r = be->begin(pg, err, sizeof(err));
	if (r == 0)
		r = be->add(pg, e, (size_t)n, err, sizeof(err));
	if (r == 0)
		r = be->commit(pg, err, sizeof(err));
	if (r < 0)
		fail_msg("append: %s", err);
	for (int i = 0; i < n; i++)
		cde_event_unref(e[i].event);
}
