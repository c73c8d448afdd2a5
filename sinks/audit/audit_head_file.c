/* The head file. One fixed-size record at offset 0, rewritten in place
 * by one pwrite after every commit, with a checksum so that a torn write
 * reads as damaged rather than as another head.
 *
 * It is written after the commit and without fsync: it may lag behind the
 * database after a power loss (then it proves less, never something
 * false), but a crash of the process keeps it, since the page cache
 * survives the process. So when it names a seq the database does not
 * have, events that were acknowledged are gone. An attacker who can write
 * the state directory can edit it too: it catches accidents and careless
 * restores, not a determined insider (signed checkpoints kept elsewhere
 * are the answer to that). */

#include "sinks/audit/audit_head_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "events/signatures.h"

#define RECORD_SIZE 128
#define MAGIC "cdeventsd-head v1"

static int head_path(const char *db_path, char *out, size_t size)
{
	int n = snprintf(out, size, "%s-head", db_path);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int cde_audit_head_file_open(const char *db_path)
{
	char path[4096];
	int fd, r = head_path(db_path, path, sizeof(path));

	if (r < 0)
		return r;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	return fd < 0 ? -errno : fd;
}

int cde_audit_head_file_open_read(const char *db_path)
{
	char path[4096];
	int fd, r = head_path(db_path, path, sizeof(path));

	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

/* The first 16 hex digits of SHA-256(@text, @len): 0 or -ENOMEM. */
static int checksum(const char *text, size_t len, char out[17])
{
	uint8_t md[CDE_HASH_LEN];
	char hex[CDE_HASH_HEX_LEN];

	if (cde_sig_sha256(text, len, md) < 0)
		return -ENOMEM;
	cde_hash_to_hex(md, hex);
	memcpy(out, hex, 16);
	out[16] = '\0';
	return 0;
}

int cde_audit_head_file_write(int fd, uint64_t seq, const uint8_t hash[CDE_HASH_LEN])
{
	char rec[RECORD_SIZE], hex[CDE_HASH_HEX_LEN], sum[17];
	int n;

	cde_hash_to_hex(hash, hex);
	n = snprintf(rec, sizeof(rec), MAGIC " %" PRIu64 " %s ", seq, hex);
	if (checksum(rec, (size_t)n, sum) < 0)
		return -ENOMEM;
	n += snprintf(rec + n, sizeof(rec) - (size_t)n, "%s\n", sum);
	memset(rec + n, ' ', sizeof(rec) - (size_t)n);
	rec[sizeof(rec) - 1] = '\n';
	return pwrite(fd, rec, sizeof(rec), 0) == (ssize_t)sizeof(rec) ? 0 : errno ? -errno : -EIO;
}

int cde_audit_head_file_read(int fd, uint64_t *ret_seq, uint8_t ret_hash[CDE_HASH_LEN])
{
	char rec[RECORD_SIZE + 1], hex[CDE_HASH_HEX_LEN], sum[17], want[17];
	unsigned long long seq;
	int used = 0;
	ssize_t n = pread(fd, rec, RECORD_SIZE, 0);

	if (n < 0)
		return -errno;
	if (n == 0)
		return -ENOENT;
	rec[n] = '\0';
	if (n != RECORD_SIZE ||
	    sscanf(rec, MAGIC " %llu %64[0-9a-f] %n%16[0-9a-f]", &seq, hex, &used, sum) != 3)
		return -EBADMSG;
	if (checksum(rec, (size_t)used, want) < 0)
		return -ENOMEM;
	if (strcmp(sum, want) != 0 || cde_hash_from_hex(hex, ret_hash) < 0)
		return -EBADMSG;
	*ret_seq = seq;
	return 0;
}
