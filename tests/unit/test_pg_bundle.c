/* An evidence bundle cut from PostgreSQL is the one cut from audit.db:
 * the same events written by the real stores to both, with keyed
 * checkpoints and a signed tree, give the same bundle byte for byte but
 * for the header's exportedAt (when it was cut), for the whole log and
 * for a period, and it verifies with the HMAC key and with the public
 * key alone. A log whose chain is broken gives no bundle from either.
 * Runs against the throwaway cluster of tests/pg/cluster. */

#include "tests/unit/helpers.h"
#include "tests/unit/audit_rows.h"
#include "tests/unit/pg_both.h"

#include <unistd.h>

#include "sinks/audit/audit_bundle.h"
#include "sinks/audit/audit_bundle_sqlite.h"
#include "sinks/audit/pg/pg_bundle.h"
#include "sinks/audit/pg/pg_conn.h"

#define HMAC_KEY "a checkpoint key of at least thirty-two bytes"
#define EVERY 3

static const struct cde_audit_backend_ops *be = &cde_audit_backend_pg;
static char db_path[64];
static struct cde_audit_store *lite;
static struct cde_pg_store *pg;
static struct cde_note_verifier *verifier;

/* Events e-FIRST .. e-(FIRST+N-1), one group, to both stores. */
static void append_both(int first, int n)
{
	pg_both_append(lite, pg, first, n, true);
}

/* Ten events, a keyed checkpoint after every third, the tree signed at 8:
 * events 9 and 10 are newer than the signed checkpoint. */
static int setup(void **state)
{
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	struct cde_pg_store_opened opened;
	char err[256];

	assert_int_equal(catalog_setup(state), 0);
	assert_non_null(o.url);
	snprintf(db_path, sizeof(db_path), "/tmp/cde-pg-bundle-%d.db", (int)getpid());
	remove_store(db_path);
	assert_int_equal(cde_audit_store_open(db_path, false, CDE_AUDIT_SYNC_NORMAL, &lite, err, sizeof(err)), 0);
	assert_int_equal(cde_audit_store_set_checkpoints(lite, (const uint8_t *)HMAC_KEY, strlen(HMAC_KEY), EVERY), 0);
	assert_int_equal(cde_audit_store_set_signer(lite, pg_both_signer(), 4, err, sizeof(err)), 0);
	if (cde_pg_store_open(&o, (const uint8_t *)HMAC_KEY, strlen(HMAC_KEY), EVERY, &pg, &opened, err,
			      sizeof(err)) < 0 ||
	    cde_pg_store_set_signer(pg, pg_both_signer(), 4, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	verifier = pg_both_verifier();
	append_both(1, 5);
	append_both(6, 3);
	assert_int_equal(cde_audit_store_sign_tree(lite, err, sizeof(err)), 0);
	assert_int_equal(be->sign_tree(pg, err, sizeof(err)), 0);
	append_both(9, 2);
	return 0;
}

static int teardown(void **state)
{
	cde_note_verifier_free(verifier);
	pg_both_close(lite, pg, db_path);
	return catalog_teardown(state);
}

struct bundle {
	char *text;
	size_t len;
	long long n;	/* what the export returned */
	char err[256];	/* and why it failed */
};

/* The bundle of [@since, @until) from audit.db. */
static struct bundle export_lite(const char *since, const char *until)
{
	struct bundle b = { 0 };
	FILE *f = open_memstream(&b.text, &b.len);

	assert_non_null(f);
	b.n = cde_audit_export(lite, since, until, f);
	fclose(f);
	return b;
}

/* The same from PostgreSQL, on a session of its own as cdevctl's. */
static struct bundle export_pg(const char *since, const char *until)
{
	struct cde_pg_options o = { .url = getenv("CDE_PG_URL") };
	struct bundle b = { 0 };
	struct cde_pg_bundle src;
	char err[256];
	PGconn *c;
	FILE *f;

	if (cde_pg_connect(&o, "cdeventsd test", &c, err, sizeof(err)) < 0 ||
	    cde_pg_bundle_init(&src, c, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	f = open_memstream(&b.text, &b.len);
	assert_non_null(f);
	b.n = cde_audit_export_from(&src.src, since, until, f, b.err, sizeof(b.err));
	fclose(f);
	cde_pg_bundle_release(&src);
	PQfinish(c);
	return b;
}

/* The header line without its exportedAt, which is when it was cut. */
static char *header_but_when(const char *text)
{
	const char *nl = strchr(text, '\n');
	char *line, *out;
	cJSON *h;

	assert_non_null(nl);
	line = strndup(text, (size_t)(nl - text));
	h = cJSON_Parse(line);
	assert_non_null(cJSON_GetObjectItem(h, "exportedAt"));
	cJSON_DeleteItemFromObject(h, "exportedAt");
	out = cJSON_PrintUnformatted(h);
	cJSON_Delete(h);
	free(line);
	return out;
}

/* Both bundles: the same count, headers the same but for exportedAt,
 * every other line the same byte for byte. */
static void assert_same(const struct bundle *a, const struct bundle *b)
{
	char *ha = header_but_when(a->text), *hb = header_but_when(b->text);
	const char *ra = strchr(a->text, '\n'), *rb = strchr(b->text, '\n');

	assert_int_equal(a->n, b->n);
	assert_string_equal(ha, hb);
	assert_string_equal(ra, rb);
	free(ha);
	free(hb);
}

/* Checks @b with the HMAC key and with the public key alone. */
static void assert_verifies(const struct bundle *b, uint64_t checkpoints, uint64_t proven, uint64_t unproven)
{
	struct cde_audit_bundle_proofs proofs;
	struct cde_audit_verify v;
	FILE *f = fmemopen(b->text, b->len, "r");

	if (cde_audit_bundle_verify(f, (const uint8_t *)HMAC_KEY, strlen(HMAC_KEY), EVERY, &v) < 0)
		fail_msg("with the key: broken at %llu: %s", (unsigned long long)v.bad_seq, v.reason);
	assert_int_equal(v.checkpoints, checkpoints);
	rewind(f);
	if (cde_audit_bundle_verify_signed(f, &verifier, 1, &v, &proofs) < 0)
		fail_msg("with the public key: broken at %llu: %s", (unsigned long long)v.bad_seq, v.reason);
	assert_int_equal(proofs.tree_size, 8);
	assert_int_equal(proofs.proven, proven);
	assert_int_equal(proofs.unproven, unproven);
	fclose(f);
}

static void the_whole_log_gives_the_same_bundle(void **state)
{
	struct bundle a = export_lite(NULL, NULL), b = export_pg(NULL, NULL);

	(void)state;
	assert_int_equal(a.n, 10);
	assert_same(&a, &b);
	assert_non_null(strstr(b.text, "\"checkpoint\":{\"seq\":9,"));
	assert_non_null(strstr(b.text, "{\"unproven\":{\"seq\":10,"));
	assert_verifies(&b, 3, 8, 2);
	free(a.text);
	free(b.text);
}

static void a_period_gives_the_same_bundle(void **state)
{
	const char *since = "2026-12-07T12:00:03.000000Z", *until = "2026-12-07T12:00:09.000000Z";
	struct bundle a = export_lite(since, until), b = export_pg(since, until);

	(void)state;
	/* Seqs 3 to 8: the checkpoints at 3 and 6, all in the signed tree. */
	assert_int_equal(b.n, 6);
	assert_non_null(strstr(b.text, "\"firstSeq\":3,\"lastSeq\":8,\"headSeq\":10,"));
	assert_same(&a, &b);
	assert_verifies(&b, 2, 6, 0);
	free(a.text);
	free(b.text);
}

static void an_empty_period_gives_a_header_alone(void **state)
{
	struct bundle a = export_lite("2027-01-01T00:00:00.000000Z", NULL),
		      b = export_pg("2027-01-01T00:00:00.000000Z", NULL);

	(void)state;
	assert_int_equal(b.n, 0);
	assert_same(&a, &b);
	assert_int_equal(strchr(b.text, '\n') + 1 - b.text, (long)b.len);
	free(a.text);
	free(b.text);
}

/* Last: it alters the stores. */
static void a_broken_chain_gives_no_bundle(void **state)
{
	struct bundle a, b;
	char err[256];

	(void)state;
	if (cde_pg_exec(cde_pg_store_conn(pg), "UPDATE events SET principal = 'mallory' WHERE seq = 3", err,
			sizeof(err), "test") < 0)
		fail_msg("%s", err);
	assert_int_equal(sqlite3_exec(cde_audit_store_db(lite), "UPDATE events SET principal = 'mallory' WHERE seq = 3",
				      NULL, NULL, NULL), SQLITE_OK);
	a = export_lite(NULL, NULL);
	b = export_pg(NULL, NULL);
	assert_true(a.n < 0);
	assert_true(b.n < 0);
	assert_int_equal(b.len, 0);
	assert_non_null(strstr(b.err, "seq 3"));
	free(a.text);
	free(b.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_whole_log_gives_the_same_bundle),
		cmocka_unit_test(a_period_gives_the_same_bundle),
		cmocka_unit_test(an_empty_period_gives_a_header_alone),
		cmocka_unit_test(a_broken_chain_gives_no_bundle),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
