/* Allocation-failure injection (see oom.h for what reaches it and how).
 *
 * Invariants: only the __real_* functions allocate for real, so that what
 * is allocated here is freed by the same allocator (glibc's, or ASan's
 * under the sanitizer, whose runtime defines malloc in the executable);
 * nothing here allocates through a counted path, so bookkeeping never
 * changes the count; the table of live allocations only holds blocks
 * allocated while armed, and forgets a block whichever path frees it. */

#include "tests/unit/oom.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <yaml.h>

#if defined(__SANITIZE_ADDRESS__)
#define OOM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OOM_ASAN 1
#endif
#endif
#ifdef OOM_ASAN
#include <sanitizer/allocator_interface.h>
#endif

/* What the linker's --wrap provides, and what it redirects to. */
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *ptr, size_t size);
void __real_free(void *ptr);
void *__real_cyaml_mem(void *ctx, void *ptr, size_t size);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *ptr, size_t size);
void *__wrap_reallocarray(void *ptr, size_t n, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *ptr);
void *__wrap_cyaml_mem(void *ctx, void *ptr, size_t size);

/* libyaml's allocator (yaml_private.h, not installed): defined here, they
 * take the place of libyaml's own for every call libyaml makes. */
void *yaml_malloc(size_t size);
void *yaml_realloc(void *ptr, size_t size);
void yaml_free(void *ptr);
yaml_char_t *yaml_strdup(const yaml_char_t *str);

struct entry {
	void *p;		/* NULL: a free slot */
	size_t size;
	void *caller;
	unsigned long index;
	enum oom_source source;
};

static struct entry *table;
static size_t table_cap, table_used;	/* cap is a power of two */

static bool armed, persistent;
static unsigned long fail_at, trace_at, calls;
static struct oom_stats stats;
static void *trace[OOM_TRACE_MAX];
static int trace_n;
static bool yaml_interposed, under_asan;

static size_t slot_of(const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p;

	h ^= h >> 33;
	h *= UINT64_C(0xff51afd7ed558ccd);
	h ^= h >> 33;
	return (size_t)h & (table_cap - 1);
}

static void insert(const struct entry *e);

static void grow(void)
{
	struct entry *old = table;
	size_t old_cap = table_cap;

	table_cap = table_cap ? table_cap * 2 : 1 << 14;
	table = __real_calloc(table_cap, sizeof(*table));
	if (!table) {
		fprintf(stderr, "oom.c: no memory for the allocation table\n");
		abort();
	}
	table_used = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].p)
			insert(&old[i]);
	__real_free(old);
}

static void insert(const struct entry *e)
{
	size_t i;

	if ((table_used + 1) * 2 > table_cap)
		grow();
	for (i = slot_of(e->p); table[i].p && table[i].p != e->p; i = (i + 1) & (table_cap - 1))
		;
	if (!table[i].p)
		table_used++;
	table[i] = *e;
}

/* Linear probing with backward-shift deletion: no tombstones. */
static void forget(const void *p)
{
	size_t i, j, k;

	if (!p || !table_used)
		return;
	for (i = slot_of(p); table[i].p != p; i = (i + 1) & (table_cap - 1))
		if (!table[i].p)
			return;
	table[i].p = NULL;
	table_used--;
	for (j = (i + 1) & (table_cap - 1); table[j].p; j = (j + 1) & (table_cap - 1)) {
		k = slot_of(table[j].p);
		/* Move j back to i unless its home k lies cyclically in (i, j]. */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		table[i] = table[j];
		table[j].p = NULL;
		i = j;
	}
}

/* Decides one allocation: false when it must fail. */
static bool admit(enum oom_source src, void *caller)
{
	if (!armed)
		return true;
	calls++;
	stats.by_source[src]++;
	if (calls == trace_at)
		trace_n = backtrace(trace, OOM_TRACE_MAX);
	if (fail_at && calls == fail_at) {
		stats.failed = true;
		stats.failed_source = src;
		stats.failed_caller = caller;
		stats.failed_trace_n = backtrace(stats.failed_trace, OOM_TRACE_MAX);
		return false;
	}
	return !(fail_at && persistent && calls > fail_at);
}

static void *remember(void *p, size_t size, enum oom_source src, void *caller)
{
	if (p && armed)
		insert(&(struct entry){ .p = p, .size = size, .caller = caller, .index = calls,
					.source = src });
	return p;
}

static void *counted_malloc(enum oom_source src, size_t size, void *caller)
{
	if (!admit(src, caller))
		return NULL;
	return remember(__real_malloc(size), size, src, caller);
}

static void *counted_realloc(enum oom_source src, void *ptr, size_t size, void *caller)
{
	void *q;

	if (!admit(src, caller))
		return NULL;
	q = __real_realloc(ptr, size);
	if (q || size == 0)
		forget(ptr);
	return remember(q, size, src, caller);
}

static char *counted_strndup(enum oom_source src, const char *s, size_t n, void *caller)
{
	size_t len = strnlen(s, n);
	char *d = counted_malloc(src, len + 1, caller);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

/* ---- libcde.a, through --wrap ---- */

void *__wrap_malloc(size_t size)
{
	return counted_malloc(OOM_LIBCDE, size, __builtin_return_address(0));
}

void *__wrap_calloc(size_t n, size_t size)
{
	void *caller = __builtin_return_address(0);

	if (!admit(OOM_LIBCDE, caller))
		return NULL;
	return remember(__real_calloc(n, size), n * size, OOM_LIBCDE, caller);
}

void *__wrap_realloc(void *ptr, size_t size)
{
	return counted_realloc(OOM_LIBCDE, ptr, size, __builtin_return_address(0));
}

void *__wrap_reallocarray(void *ptr, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return counted_realloc(OOM_LIBCDE, ptr, n * size, __builtin_return_address(0));
}

char *__wrap_strdup(const char *s)
{
	return counted_strndup(OOM_LIBCDE, s, SIZE_MAX, __builtin_return_address(0));
}

char *__wrap_strndup(const char *s, size_t n)
{
	return counted_strndup(OOM_LIBCDE, s, n, __builtin_return_address(0));
}

void __wrap_free(void *ptr)
{
	forget(ptr);
	__real_free(ptr);
}

/* ---- libcyaml: the mem_fn config.c gives it ---- */

void *__wrap_cyaml_mem(void *ctx, void *ptr, size_t size)
{
	void *caller = __builtin_return_address(0);
	void *q;

	if (size == 0) {
		forget(ptr);
		return __real_cyaml_mem(ctx, ptr, 0);
	}
	if (!admit(OOM_CYAML, caller))
		return NULL;
	q = __real_cyaml_mem(ctx, ptr, size);
	if (q)
		forget(ptr);
	return remember(q, size, OOM_CYAML, caller);
}

/* ---- libyaml: its own allocator, interposed ---- */

void *yaml_malloc(size_t size)
{
	return counted_malloc(OOM_YAML, size ? size : 1, __builtin_return_address(0));
}

void *yaml_realloc(void *ptr, size_t size)
{
	return counted_realloc(OOM_YAML, ptr, size ? size : 1, __builtin_return_address(0));
}

void yaml_free(void *ptr)
{
	forget(ptr);
	__real_free(ptr);
}

yaml_char_t *yaml_strdup(const yaml_char_t *str)
{
	if (!str)
		return NULL;
	return (yaml_char_t *)counted_strndup(OOM_YAML, (const char *)str, SIZE_MAX,
					      __builtin_return_address(0));
}

/* ---- cJSON: its hooks ---- */

static void *cjson_malloc(size_t size)
{
	return counted_malloc(OOM_CJSON, size, __builtin_return_address(0));
}

static void cjson_free(void *ptr)
{
	forget(ptr);
	__real_free(ptr);
}

/* ---- control ---- */

void oom_init(void)
{
	cJSON_Hooks hooks = { .malloc_fn = cjson_malloc, .free_fn = cjson_free };
	yaml_parser_t parser;
	struct oom_stats st;
	void *bt[2];
	void *p;

	cJSON_InitHooks(&hooks);
	/* The first backtrace() loads the unwinder (and allocates): not
	 * in the middle of a run. */
	backtrace(bt, 2);

	oom_arm(0, false, 0);
	if (yaml_parser_initialize(&parser))
		yaml_parser_delete(&parser);
	oom_disarm(&st);
	yaml_interposed = st.by_source[OOM_YAML] > 0;

	p = __real_malloc(16);
#ifdef OOM_ASAN
	under_asan = __sanitizer_get_ownership(p) != 0;
#endif
	__real_free(p);
}

void oom_arm(unsigned long fail, bool persist, unsigned long trace_index)
{
	if (table)
		memset(table, 0, table_cap * sizeof(*table));
	table_used = 0;
	memset(&stats, 0, sizeof(stats));
	calls = 0;
	fail_at = fail;
	persistent = persist;
	trace_at = trace_index;
	trace_n = 0;
	armed = true;
}

void oom_disarm(struct oom_stats *ret)
{
	armed = false;
	stats.calls = calls;
	if (ret)
		*ret = stats;
}

unsigned long oom_calls(void)
{
	return calls;
}

static int by_index(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

/* The live entries, sorted by index, in a __real_malloc'd array. */
static struct entry *live_sorted(void)
{
	struct entry *v = __real_malloc((table_used + 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		abort();
	for (size_t i = 0; i < table_cap; i++)
		if (table[i].p)
			v[n++] = table[i];
	qsort(v, n, sizeof(*v), by_index);
	return v;
}

/* Prints @n code addresses as module+offset (what addr2line -e module
 * takes) and the nearest exported symbol, without allocating. */
static void print_frames(void *const *frames, int n, const char *indent)
{
	for (int i = 0; i < n; i++) {
		Dl_info info;

		if (dladdr(frames[i], &info) && info.dli_fname) {
			const char *base = strrchr(info.dli_fname, '/');

			printf("%s%s+0x%lx (%s)\n", indent, base ? base + 1 : info.dli_fname,
			       (unsigned long)((uintptr_t)frames[i] - (uintptr_t)info.dli_fbase),
			       info.dli_sname ? info.dli_sname : "?");
		} else {
			printf("%s%p\n", indent, frames[i]);
		}
	}
}

void oom_print_caller(void *caller)
{
	print_frames(&caller, 1, "");
}

size_t oom_live(bool print)
{
	struct entry *v;

	if (!print || !table_used)
		return table_used;
	v = live_sorted();
	for (size_t i = 0; i < table_used && i < 20; i++) {
		printf("    not freed: allocation %lu (%s, %zu bytes), from ", v[i].index,
		       oom_source_name(v[i].source), v[i].size);
		oom_print_caller(v[i].caller);
	}
	__real_free(v);
	return table_used;
}

unsigned long oom_live_index(size_t i)
{
	struct entry *v;
	unsigned long index;

	if (i >= table_used)
		return 0;
	v = live_sorted();
	index = v[i].index;
	__real_free(v);
	return index;
}

void oom_print_trace(void)
{
	print_frames(trace, trace_n, "      ");
}

void oom_print_frames(void *const *frames, int n)
{
	print_frames(frames, n, "      ");
}

bool oom_yaml_interposed(void)
{
	return yaml_interposed;
}

bool oom_under_asan(void)
{
	return under_asan;
}

const char *oom_source_name(enum oom_source s)
{
	static const char *const names[] = {
		[OOM_LIBCDE] = "libcde", [OOM_CJSON] = "cJSON",
		[OOM_CYAML] = "libcyaml", [OOM_YAML] = "libyaml",
	};

	return s < OOM_SOURCES ? names[s] : "?";
}
