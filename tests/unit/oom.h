#pragma once
/* Allocation-failure injection for tests (SQLite's test_malloc.c, in
 * small). Every allocation the code under test can make goes through
 * tests/unit/oom.c, which counts them while armed, makes the Nth fail and
 * remembers each one that succeeded until it is freed, so that a test can
 * tell that a run left nothing behind without needing ASan:
 *
 *  - libcde.a's own malloc, calloc, realloc, reallocarray, strdup, strndup
 *    and free: the test is linked with -Wl,--wrap=... (tests/meson.build),
 *    which resolves the static library's references to __wrap_*;
 *  - cJSON's (a shared library, which --wrap cannot reach): through
 *    cJSON_InitHooks, installed by oom_init;
 *  - libcyaml's: config.c hands libcyaml the allocator cyaml_mem, and that
 *    reference is wrapped too (--wrap=cyaml_mem);
 *  - libyaml's: it has no hook, but it calls its own exported yaml_malloc,
 *    yaml_realloc, yaml_strdup and yaml_free through the PLT, so the
 *    definitions in oom.c take their place (oom_yaml_interposed tells
 *    whether that worked with the libyaml at hand).
 *
 * Allocations that glibc makes for itself (fopen's FILE, stdio buffers,
 * opendir) are not seen and never fail. Single-threaded use only. */

#include <stdbool.h>
#include <stddef.h>

enum oom_source {
	OOM_LIBCDE,	/* libcde.a (and the test) through --wrap */
	OOM_CJSON,	/* cJSON's hooks */
	OOM_CYAML,	/* libcyaml's mem_fn */
	OOM_YAML,	/* libyaml's yaml_malloc and friends */
	OOM_SOURCES,
};

#define OOM_TRACE_MAX 32

struct oom_stats {
	unsigned long calls;			/* allocations counted while armed */
	unsigned long by_source[OOM_SOURCES];
	bool failed;				/* the Nth allocation was reached and failed */
	enum oom_source failed_source;
	void *failed_caller;			/* return address of the failed call */
	void *failed_trace[OOM_TRACE_MAX];	/* its stack */
	int failed_trace_n;
};

/* Installs the cJSON hooks and checks the wrapping; call once, first. */
void oom_init(void);

/* Starts a run: counting from 1, allocation @fail_at fails (0: none does),
 * and with @persistent every one after it too. Forgets the allocations
 * remembered so far. When @trace_at is not 0, the call stack of allocation
 * @trace_at is kept for oom_print_trace. */
void oom_arm(unsigned long fail_at, bool persistent, unsigned long trace_at);

/* Ends the run (allocations pass through again, uncounted) and returns
 * what it counted in *@ret. Frees keep being noticed after it. */
void oom_disarm(struct oom_stats *ret);

/* Allocations counted so far in the current run. */
unsigned long oom_calls(void);

/* Number of allocations of the last run that are still not freed; prints
 * each (index, source, size, caller) to stdout when @print. */
size_t oom_live(bool print);

/* The index of the @i-th allocation still live (for tracing it), or 0. */
unsigned long oom_live_index(size_t i);

/* Prints the stack kept by oom_arm(..., trace_at), if any, one frame a
 * line as module+offset (for addr2line -e module). */
void oom_print_trace(void);

/* Prints one code address, as above, and a newline. */
void oom_print_caller(void *caller);

/* Prints a stack (oom_stats.failed_trace), as above. */
void oom_print_frames(void *const *frames, int n);

/* True when libyaml's own allocations reach oom.c (measured by oom_init). */
bool oom_yaml_interposed(void);

/* True when the program runs under AddressSanitizer and the memory that
 * __real_malloc returns is ASan's (checked by oom_init). */
bool oom_under_asan(void);

const char *oom_source_name(enum oom_source s);
