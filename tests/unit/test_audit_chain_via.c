/* How each row got its chain (events.chain_via, issue 18): the SQLite
 * writer keeps the seq of the row whose chain correlation joined an event
 * to, and none when the producer named the chain, when correlation started
 * one, or for the daemon's own events; queries hand it to readers. The
 * chain's hashes do not cover it: a log verifies the same with or without
 * it. */

#include "tests/unit/helpers.h"

#include <sqlite3.h>
#include <unistd.h>

#include "events/event.h"
#include "sinks/audit/audit_query.h"
#include "sinks/audit/audit_store.h"
#include "sinks/audit/sql.h"

static char db_path[64];

/* A deployment of @artifact (NULL: none named) by jenkins, in @chain
 * (NULL: none, so the writer correlates it). */
static void entry(struct cde_journal_entry *e, const char *id, const char *subject, const char *artifact,
		  const char *chain)
{
	cJSON *content;

	memset(e, 0, sizeof(*e));
	assert_int_equal(cde_event_new(cde_catalog_newest(cat), "dev.cdevents.service.deployed.0.3.0", "/ci",
				       subject, &e->event), 0);
	assert_int_equal(cde_event_set_id(e->event, id), 0);
	assert_int_equal(cde_event_set_chain_id(e->event, chain), 0);
	content = cde_event_content(e->event);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(content, "environment"), "id", "prod");
	if (artifact)
		cJSON_AddStringToObject(content, "artifactId", artifact);
	e->correlate = !chain;
	e->principal = "jenkins";
	e->peer = "127.0.0.1:4242";
	snprintf(e->received_at, sizeof(e->received_at), "2026-12-07T12:00:00.000000Z");
}

/* The daemon's own event (a gate's decision) about @artifact in @chain. */
static void own_entry(struct cde_journal_entry *e, const char *id, const char *artifact, const char *chain)
{
	char text[512];

	memset(e, 0, sizeof(*e));
	snprintf(text, sizeof(text),
		 "{\"context\":{\"specversion\":\"0.5.1\",\"id\":\"%s\",\"source\":\"/cdeventsd\","
		 "\"type\":\"dev.cdeventsx.cdeventsd-gate.decided.0.1.0\",\"timestamp\":\"2026-12-07T12:00:00Z\","
		 "\"chainId\":\"%s\"},\"subject\":{\"id\":\"gates/prod\",\"content\":{\"artifactId\":\"%s\"}}}",
		 id, chain, artifact);
	assert_int_equal(cde_event_from_json(json(text), &e->event), 0);
	e->principal = "cdeventsd";
	e->peer = "";
	snprintf(e->received_at, sizeof(e->received_at), "2026-12-07T12:00:00.000000Z");
}

static struct cde_audit_store *open_fresh(void)
{
	struct cde_audit_store *s;
	char err[256];

	snprintf(db_path, sizeof(db_path), "/tmp/cde-via-%d.db", (int)getpid());
	unlink(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &s, err, sizeof(err)), 0);
	return s;
}

static void drop(struct cde_audit_store *s)
{
	static const char *const tails[] = { "", "-wal", "-shm", "-head" };
	char p[96];

	cde_audit_store_close(s);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", db_path, tails[i]);
		unlink(p);
	}
}

/* The stored chain_via of row @seq; -1 for NULL. */
static int64_t via_of(struct cde_audit_store *s, uint64_t seq)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT coalesce(chain_via, -1) FROM events WHERE seq = %llu",
		 (unsigned long long)seq);
	return cde_sql_int(cde_audit_store_db(s), sql, NULL, -2);
}

static int collect_via(void *ctx, const struct cde_audit_record *rec)
{
	uint64_t *out = ctx;

	out[rec->seq] = rec->chain_via;
	return 0;
}

static void the_writer_keeps_the_row_whose_chain_a_correlated_event_joined(void **state)
{
	struct cde_audit_store *s = open_fresh();
	struct cde_journal_entry e[6];
	struct cde_audit_filter f = { 0 };
	struct cde_audit_verify v;
	uint64_t via[8] = { 0 };
	char err[256];

	entry(&e[0], "named", "etl", "pkg:oci/etl@1", "release-1");	/* the producer's chain */
	entry(&e[1], "by-artifact", "etl-canary", "pkg:oci/etl@1", NULL);
	entry(&e[2], "open", "web", NULL, "web-open");			/* names no artifact */
	own_entry(&e[3], "own", "pkg:oci/etl@1", "web-open");	/* names etl@1, but is no release's word */
	entry(&e[4], "by-subject", "web", "pkg:oci/web@2", NULL);
	entry(&e[5], "fresh", "web", "pkg:oci/web@3", NULL);		/* web-open names web@2 now */
	assert_int_equal(cde_audit_store_append(s, e, 6, err, sizeof(err)), 0);
	assert_string_equal(cde_event_chain_id(e[1].event), "release-1");
	assert_string_equal(cde_event_chain_id(e[4].event), "web-open");
	assert_string_not_equal(cde_event_chain_id(e[5].event), "web-open");
	assert_int_equal(via_of(s, 1), -1);
	assert_int_equal(via_of(s, 2), 1);	/* joined release-1 through row 1's artifact */
	assert_int_equal(via_of(s, 3), -1);
	assert_int_equal(via_of(s, 4), -1);
	assert_int_equal(via_of(s, 5), 3);	/* joined row 3's chain through its subject */
	assert_int_equal(via_of(s, 6), -1);	/* started a chain: web-open is another artifact's */

	/* Readers get it with each record, 0 for none. */
	assert_int_equal(cde_audit_query(s, &f, collect_via, via), 0);
	assert_int_equal(via[1], 0);
	assert_int_equal(via[2], 1);
	assert_int_equal(via[3], 0);
	assert_int_equal(via[4], 0);
	assert_int_equal(via[5], 3);
	assert_int_equal(via[6], 0);

	/* Not hashed: the log verifies with it changed. */
	assert_int_equal(sqlite3_exec(cde_audit_store_db(s), "UPDATE events SET chain_via = NULL", NULL, NULL,
				      NULL), SQLITE_OK);
	assert_int_equal(cde_audit_store_verify(s, NULL, 0, 0, &v), 0);
	assert_int_equal(v.head_seq, 6);
	for (int i = 0; i < 6; i++)
		cde_event_unref(e[i].event);
	drop(s);
}

/* The check that a chain names no other artifact reads its latest 1,000
 * events only (it runs on the writer): a longer chain is not joined by
 * a hook about an unknown artifact, which starts a chain of its own. */
static void a_chain_longer_than_the_check_reads_is_not_joined_by_an_unknown_artifact(void **state)
{
	struct cde_audit_store *s = open_fresh();
	struct cde_journal_entry *e = calloc(2003, sizeof(*e));
	char id[32], err[256];

	(void)state;
	assert_non_null(e);
	for (int i = 0; i < 2001; i++) {	/* no artifact named in either */
		snprintf(id, sizeof(id), "e-%d", i);
		if (i < 1000)
			entry(&e[i], id, "api", NULL, "api-1000");
		else
			entry(&e[i], id, "web", NULL, "web-1001");
	}
	entry(&e[2001], "api-new", "api", "pkg:oci/api@9", NULL);
	entry(&e[2002], "web-new", "web", "pkg:oci/web@9", NULL);
	assert_int_equal(cde_audit_store_append(s, e, 2003, err, sizeof(err)), 0);
	assert_string_equal(cde_event_chain_id(e[2001].event), "api-1000");
	assert_string_not_equal(cde_event_chain_id(e[2002].event), "web-1001");
	for (int i = 0; i < 2003; i++)
		cde_event_unref(e[i].event);
	free(e);
	drop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_writer_keeps_the_row_whose_chain_a_correlated_event_joined),
		cmocka_unit_test(a_chain_longer_than_the_check_reads_is_not_joined_by_an_unknown_artifact),
	};

	return cmocka_run_group_tests(tests, catalog_setup, catalog_teardown);
}
