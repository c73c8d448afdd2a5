#pragma once
/* Table-driven refusals of hooks, shared by the hook test programs: each
 * case is a hook that must be refused with an error at a pointer. */

#include "tests/unit/helpers.h"

#include "events/hooks.h"

struct hook_refusal {
	const char *kind, *payload;
	const char *pointer, *reason;	/* an error at @pointer whose reason holds @reason */
};

/* Translates each of the @n @cases with @defaults and prints those not
 * refused as expected; fails the test when there is one. */
static inline void assert_hooks_refused(const struct hook_refusal *cases, size_t n,
					const struct cde_hook_defaults *defaults)
{
	int failures = 0;

	for (size_t i = 0; i < n; i++) {
		struct cde_errors errs;
		struct cde_event *ev = NULL;
		cJSON *p = json(cases[i].payload);
		int r;

		cde_errors_reset(&errs);
		r = cde_hook_translate(cat, cases[i].kind, p, defaults, &ev, &errs);
		cJSON_Delete(p);
		cde_event_unref(ev);
		if (r != -EINVAL || !has_error(&errs, cases[i].pointer, cases[i].reason)) {
			print_message("%s %s: expected %s: %s, got:\n", cases[i].kind, cases[i].payload,
				      cases[i].pointer, cases[i].reason);
			print_errors(&errs);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}
