/* Fuzz target: the HTTP/1.1 request head parser and the chunked body
 * decoder, what every byte from the network goes through first.
 *
 * The input up to the first CRLF CRLF is a request head, parsed in place
 * as the server does; what follows is fed to the chunked decoder in
 * pieces whose sizes come from the input's first byte, as data arrives
 * from a socket. Checked: the decoder never reports more body than it
 * passed on, never consumes more than it was given, a head that parses
 * has a method, a target and no more headers than allowed, and the end
 * of a head is found the same however its bytes arrive. */

#include "tests/fuzz/fuzz.h"

#include <errno.h>

#include "daemon/http/parse.h"

#define BODY_MAX (1u << 20)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	return 0;
}

struct body {
	uint64_t n;
};

static int sink(void *ctx, const char *data, size_t n)
{
	struct body *b = ctx;

	(void)data;
	b->n += n;
	return 0;
}

static void head(const uint8_t *data, size_t size)
{
	struct cde_http_head h;
	struct cde_http_error err;
	char *buf = malloc(size + 1);

	if (!buf)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (cde_http_parse_head(buf, size, 64, &h, &err) == 0) {
		FUZZ_CHECK(h.n_headers <= 64, "%zu headers accepted, at most 64", h.n_headers);
		FUZZ_CHECK(h.target && h.target[0], "a parsed head without a target");
		(void)cde_http_head_get(&h, "content-length");
	} else {
		FUZZ_CHECK(err.status >= 400 && err.status < 600 && err.reason, "a refusal without a status");
	}
	free(buf);
}

static void chunked(const uint8_t *data, size_t size)
{
	struct cde_http_chunked c = { 0 };
	struct body b = { 0 };
	size_t step, at = 0;
	int r = 0;

	if (size == 0)
		return;
	step = 1 + data[0] % 16;
	data++;
	size--;
	while (at < size && r == 0) {
		size_t n = size - at < step ? size - at : step, used = 0;

		r = cde_http_chunked_feed(&c, (const char *)data + at, n, &used, BODY_MAX, sink, &b);
		FUZZ_CHECK(used <= n, "consumed %zu of %zu bytes", used, n);
		if (r == 0)
			FUZZ_CHECK(used == n, "wants more input but left %zu bytes unread", n - used);
		at += used;
	}
	FUZZ_CHECK(r == 0 || r == 1 || r == -EINVAL || r == -EFBIG, "unexpected result %d", r);
	FUZZ_CHECK(b.n == c.total && b.n <= BODY_MAX, "decoded %llu, passed on %llu",
		   (unsigned long long)c.total, (unsigned long long)b.n);
}

/* The server looks for a head's end as bytes arrive: the answer must not
 * depend on how they were split, and a head it finds ends with its empty
 * line. */
static void head_end(const uint8_t *data, size_t size)
{
	struct cde_http_error err;
	size_t scanned = 0, len = 0, len_bytewise = 0;
	int whole = cde_http_head_end((const char *)data, size, &scanned, &len, &err), r = 0;

	scanned = 0;
	for (size_t have = 1; have <= size && r == 0; have++)
		r = cde_http_head_end((const char *)data, have, &scanned, &len_bytewise, &err);
	FUZZ_CHECK(r == whole, "whole %d, byte by byte %d", whole, r);
	if (whole == 1) {
		FUZZ_CHECK(len == len_bytewise && len >= 4 && len <= size &&
				   memcmp(data + len - 4, "\r\n\r\n", 4) == 0,
			   "a head end at %zu (byte by byte %zu) of %zu", len, len_bytewise, size);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = NULL;

	head_end(data, size);

	for (size_t i = 0; i + 3 < size; i++)
		if (memcmp(data + i, "\r\n\r\n", 4) == 0) {
			end = data + i + 4;
			break;
		}
	if (!end) {
		chunked(data, size);
		return 0;
	}
	head(data, (size_t)(end - data));
	chunked(end, size - (size_t)(end - data));
	return 0;
}
