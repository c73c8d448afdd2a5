/* tlog_tool: drives sinks/audit/tlog's Merkle tree from a test in another
 * language (tests/js/tlog-crosscheck.mjs). Reads one command a line on
 * stdin, answers one JSON line on stdout each; hashes and entries in hex,
 * a proof as its hashes separated by spaces (none for an empty proof):
 *
 *   leaf [HEX]                          append the entry's bytes (none: empty)
 *       -> {"size":N,"leaf":H,"root":H}   the root from the frontier
 *   root SIZE   -> {"root":H}               from the stored hashes
 *   load SIZE   -> {"root":H}               frontier_load, then its root
 *   inclusion INDEX SIZE   -> {"proof":[H...]}
 *   consistency OLD NEW    -> {"proof":[H...]}
 *   verify-inclusion LEAFHASH INDEX SIZE ROOT [P...]      -> {"rc":0}
 *   verify-consistency OLD NEW OLDROOT ROOT [P...]        -> {"rc":-74}
 *
 * A failure is {"rc":-errno}. The stored hashes live in memory
 * (tests/helpers/tlog_store.h), filled by the frontier's emit as the
 * writer's table would be. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas/base/hex.h"
#include "sinks/audit/tlog/merkle.h"
#include "tests/helpers/tlog_store.h"

#define MAX_ARGS 80 /* room for proofs longer than any valid one */

/* Decodes @hex into @out (at most @max bytes): the length or -1. */
static long unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = cde_hex_value(hex[2 * i]), lo = cde_hex_value(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static int hash_arg(const char *hex, uint8_t out[CDE_TLOG_HASH_LEN])
{
	return hex && unhex(hex, out, CDE_TLOG_HASH_LEN) == CDE_TLOG_HASH_LEN ? 0 : -EINVAL;
}

static int u64_arg(const char *s, uint64_t *out)
{
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static void print_hash(const uint8_t h[CDE_TLOG_HASH_LEN])
{
	putchar('"');
	for (int i = 0; i < CDE_TLOG_HASH_LEN; i++)
		printf("%02x", h[i]);
	putchar('"');
}

static void print_proof(uint8_t proof[][CDE_TLOG_HASH_LEN], size_t count)
{
	fputs("{\"proof\":[", stdout);
	for (size_t i = 0; i < count; i++) {
		if (i)
			putchar(',');
		print_hash(proof[i]);
	}
	puts("]}");
}

/* The hashes from @argv[@from] on into @proof: their count or -EINVAL. */
static int proof_args(char **argv, int argc, int from, uint8_t proof[][CDE_TLOG_HASH_LEN])
{
	for (int i = from; i < argc; i++)
		if (hash_arg(argv[i], proof[i - from]) < 0)
			return -EINVAL;
	return argc > from ? argc - from : 0;
}

static int cmd_leaf(struct tlog_store *s, struct cde_tlog_frontier *f, const char *hex)
{
	static uint8_t entry[4096];
	uint8_t leaf[CDE_TLOG_HASH_LEN], root[CDE_TLOG_HASH_LEN];
	long n = hex ? unhex(hex, entry, sizeof(entry)) : 0;
	int rc;

	if (n < 0)
		return -EINVAL;
	rc = cde_tlog_leaf_hash(entry, (size_t)n, leaf);
	if (rc == 0)
		rc = cde_tlog_frontier_append(f, leaf, tlog_store_emit, s);
	if (rc == 0)
		rc = cde_tlog_frontier_root(f, root);
	if (rc < 0)
		return rc;
	printf("{\"size\":%" PRIu64 ",\"leaf\":", f->size);
	print_hash(leaf);
	fputs(",\"root\":", stdout);
	print_hash(root);
	puts("}");
	return 0;
}

static int cmd_root(const struct cde_tlog_reader *r, char **argv, int argc, int load)
{
	struct cde_tlog_frontier f;
	uint8_t root[CDE_TLOG_HASH_LEN];
	uint64_t size;
	int rc = argc == 2 ? u64_arg(argv[1], &size) : -EINVAL;

	if (rc == 0 && load) {
		rc = cde_tlog_frontier_load(&f, size, r);
		if (rc == 0)
			rc = cde_tlog_frontier_root(&f, root);
	} else if (rc == 0) {
		rc = cde_tlog_root(r, size, root);
	}
	if (rc < 0)
		return rc;
	fputs("{\"root\":", stdout);
	print_hash(root);
	puts("}");
	return 0;
}

static int cmd_prove(const struct cde_tlog_reader *r, char **argv, int argc, int inclusion)
{
	uint8_t proof[CDE_TLOG_MAX_PROOF][CDE_TLOG_HASH_LEN];
	uint64_t a, b;
	size_t count;
	int rc = argc == 3 && u64_arg(argv[1], &a) == 0 && u64_arg(argv[2], &b) == 0 ? 0 : -EINVAL;

	if (rc == 0)
		rc = inclusion ? cde_tlog_prove_inclusion(r, a, b, proof, &count) :
				 cde_tlog_prove_consistency(r, a, b, proof, &count);
	if (rc < 0)
		return rc;
	print_proof(proof, count);
	return 0;
}

static int cmd_verify(char **argv, int argc, int inclusion)
{
	uint8_t proof[MAX_ARGS][CDE_TLOG_HASH_LEN], h1[CDE_TLOG_HASH_LEN], h2[CDE_TLOG_HASH_LEN];
	uint64_t a, b;
	int count, rc;

	if (argc < 5)
		return -EINVAL;
	if (inclusion) /* LEAFHASH INDEX SIZE ROOT */
		rc = hash_arg(argv[1], h1) || u64_arg(argv[2], &a) || u64_arg(argv[3], &b) || hash_arg(argv[4], h2);
	else /* OLD NEW OLDROOT ROOT */
		rc = u64_arg(argv[1], &a) || u64_arg(argv[2], &b) || hash_arg(argv[3], h1) || hash_arg(argv[4], h2);
	count = proof_args(argv, argc, 5, proof);
	if (rc || count < 0)
		return -EINVAL;
	rc = inclusion ? cde_tlog_verify_inclusion(h1, a, b, proof, (size_t)count, h2) :
			 cde_tlog_verify_consistency(a, b, proof, (size_t)count, h1, h2);
	printf("{\"rc\":%d}\n", rc);
	return 0;
}

static int run(struct tlog_store *s, struct cde_tlog_frontier *f, char *line)
{
	const struct cde_tlog_reader r = tlog_store_reader(s);
	char *argv[MAX_ARGS + 5], *save = NULL;
	int argc = 0;

	for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
		if (argc == (int)(sizeof(argv) / sizeof(argv[0])))
			return -E2BIG;
		argv[argc++] = t;
	}
	if (argc == 0)
		return -EINVAL;
	if (!strcmp(argv[0], "leaf") && argc <= 2)
		return cmd_leaf(s, f, argc == 2 ? argv[1] : NULL);
	if (!strcmp(argv[0], "root") || !strcmp(argv[0], "load"))
		return cmd_root(&r, argv, argc, !strcmp(argv[0], "load"));
	if (!strcmp(argv[0], "inclusion") || !strcmp(argv[0], "consistency"))
		return cmd_prove(&r, argv, argc, !strcmp(argv[0], "inclusion"));
	if (!strcmp(argv[0], "verify-inclusion") || !strcmp(argv[0], "verify-consistency"))
		return cmd_verify(argv, argc, !strcmp(argv[0], "verify-inclusion"));
	return -EINVAL;
}

int main(void)
{
	struct tlog_store s = { 0 };
	struct cde_tlog_frontier f;
	char *line = NULL;
	size_t cap = 0;

	cde_tlog_frontier_init(&f);
	while (getline(&line, &cap, stdin) >= 0) {
		int rc = run(&s, &f, line);

		if (rc < 0)
			printf("{\"rc\":%d}\n", rc);
	}
	free(line);
	tlog_store_release(&s);
	return ferror(stdout) ? 1 : 0;
}
