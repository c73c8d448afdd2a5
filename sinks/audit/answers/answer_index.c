/* An open-addressing table of borrowed strings (linear probing, at most
 * three quarters full, doubled when it would be more), each slot keeping
 * the key's full hash so that probing and growing compare numbers and
 * only a matching hash costs a strcmp. The hash is keyed: an analysis
 * reads rows that anyone allowed to post may have written, and with a
 * hash they could compute they could make every key collide and the
 * table quadratic again (issue 18). */

#include "sinks/audit/answers/answer_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define SLOTS_MIN 16

struct cde_answer_index_slot {
	const char *key;	/* NULL: free */
	size_t value;
	uint64_t hash;
};

static uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t read_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#define SIPROUND(v0, v1, v2, v3)                                                             \
	do {                                                                                 \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                    \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                       \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                       \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                    \
	} while (0)

uint64_t cde_answer_siphash(const void *in, size_t len, const uint64_t key[2])
{
	const unsigned char *p = in, *end = p + (len & ~(size_t)7);
	uint64_t v0 = key[0] ^ UINT64_C(0x736f6d6570736575), v1 = key[1] ^ UINT64_C(0x646f72616e646f6d);
	uint64_t v2 = key[0] ^ UINT64_C(0x6c7967656e657261), v3 = key[1] ^ UINT64_C(0x7465646279746573);
	uint64_t b = (uint64_t)len << 56;

	for (; p < end; p += 8) {
		uint64_t m = read_le64(p);

		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)p[i] << (8 * i);
	v3 ^= b;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

void cde_answer_index_init(struct cde_answer_index *ix)
{
	*ix = (struct cde_answer_index){ .hash = cde_answer_siphash };
	if (getrandom(ix->key, sizeof(ix->key), GRND_NONBLOCK) != (ssize_t)sizeof(ix->key)) {
		/* Early in boot, before the pool is ready: a key nobody
		 * outside can read still spreads the keys; only guessing it
		 * would let them collide, which costs time, not answers. */
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		ix->key[0] = (uint64_t)t.tv_nsec * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)(uintptr_t)ix;
		ix->key[1] = (uint64_t)t.tv_sec ^ rotl((uint64_t)(uintptr_t)&t, 29);
	}
}

/* The slot of @key (hashed @h) in @slots, or the free slot ending its probe. */
static struct cde_answer_index_slot *slot_of(struct cde_answer_index_slot *slots, size_t mask, const char *key,
					     uint64_t h)
{
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct cde_answer_index_slot *s = &slots[i];

		if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
			return s;
	}
}

bool cde_answer_index_find(const struct cde_answer_index *ix, const char *key, size_t *ret_value)
{
	const struct cde_answer_index_slot *s;

	if (!ix->slots)
		return false;
	s = slot_of(ix->slots, ix->mask, key, ix->hash(key, strlen(key), ix->key));
	if (!s->key)
		return false;
	*ret_value = s->value;
	return true;
}

static int grow(struct cde_answer_index *ix)
{
	size_t cap = ix->slots ? (ix->mask + 1) * 2 : SLOTS_MIN;
	struct cde_answer_index_slot *slots;

	if (cap > SIZE_MAX / 2 / sizeof(*slots))
		return -ENOMEM;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; ix->slots && i <= ix->mask; i++) {
		const struct cde_answer_index_slot *old = &ix->slots[i];

		if (old->key)
			*slot_of(slots, cap - 1, old->key, old->hash) = *old;
	}
	free(ix->slots);
	ix->slots = slots;
	ix->mask = cap - 1;
	return 0;
}

int cde_answer_index_add(struct cde_answer_index *ix, const char *key, size_t value)
{
	uint64_t h = ix->hash(key, strlen(key), ix->key);
	struct cde_answer_index_slot *s;
	int r;

	if (ix->slots) {
		s = slot_of(ix->slots, ix->mask, key, h);
		if (s->key)
			return -EEXIST;
	}
	/* at most three quarters full, so that every probe ends soon */
	if (!ix->slots || (ix->n + 1) * 4 > (ix->mask + 1) * 3) {
		r = grow(ix);
		if (r < 0)
			return r;
	}
	s = slot_of(ix->slots, ix->mask, key, h);
	*s = (struct cde_answer_index_slot){ .key = key, .value = value, .hash = h };
	ix->n++;
	return 0;
}

void cde_answer_index_release(struct cde_answer_index *ix)
{
	free(ix->slots);
	*ix = (struct cde_answer_index){ .hash = cde_answer_siphash };
}
