#pragma once
/* Shared by the files of sizing/; not for other folders. */

#include <stdarg.h>

#include "schemas/base/json_pointer.h"
#include "schemas/base/json_read.h"
#include "sizing/sizing.h"
#include "sizing/units.h"

#define CDE_MIB (UINT64_C(1) << 20)

/* What changed between the Spark versions this module models. */
struct cde_sizing_rules {
	const char *name;
	bool offheap_in_pod;		/* 3.1+: off-heap memory added to the executor pod */
	bool role_factors;		/* 3.3+: spark.{driver,executor}.memoryOverheadFactor */
	bool min_overhead_keys;		/* 4.0+: spark.{driver,executor}.minMemoryOverhead */
};

void cde_sizing_rules_for(unsigned major, unsigned minor, struct cde_sizing_rules *ret);

/* Fills the memory and CPU fields of both pods (not the fit flags). */
void cde_sizing_pods(const struct cde_sizing_input *in, struct cde_sizing_pod *executor,
		     struct cde_sizing_pod *driver);

/* The overhead Spark derives for @role when none is set explicitly: the
 * factor's share of the heap, truncated, at least the minimum. */
uint64_t cde_sizing_factor_overhead_mib(double factor, uint64_t heap_mib, uint64_t min_mib);

/* The factor and the minimum Spark uses for @role's overhead. */
double cde_sizing_overhead_factor(const struct cde_sizing_input *in, enum cde_sizing_role role);
uint64_t cde_sizing_min_overhead_mib(const struct cde_sizing_input *in, enum cde_sizing_role role);

/* The node's allocatable CPU (millicores) and memory (MiB), floored. */
void cde_sizing_allocatable(const struct cde_sizing_cluster *c, uint64_t *ret_cpu_millis,
			    uint64_t *ret_memory_mib);

/* What a pod asks of the scheduler: its requests plus the pod overhead. */
struct cde_sizing_demand {
	uint64_t cpu_millis;
	uint64_t memory_bytes;
};

void cde_sizing_demand_of(const struct cde_sizing_pod *pod, const struct cde_sizing_cluster *c,
			  bool with_overhead, struct cde_sizing_demand *ret);

/* How many pods of @d fit in @cpu_millis and @memory_bytes, at most
 * @max_pods (0: no pod limit). */
unsigned cde_sizing_pods_fitting(const struct cde_sizing_demand *d, uint64_t cpu_millis,
				 uint64_t memory_bytes, unsigned max_pods);

/* Appends a warning to @r (counted in dropped_warnings past the cap). */
void cde_sizing_warn(struct cde_sizing_result *r, enum cde_sizing_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Adds the warnings about the Spark settings alone (no node needed). */
void cde_sizing_warn_conf(const struct cde_sizing_input *in, const struct cde_sizing_rules *rules,
			  struct cde_sizing_result *r);

/* Adds the warnings about pods against nodes. */
void cde_sizing_warn_nodes(const struct cde_sizing_input *in, struct cde_sizing_result *r);

/* The name of @role's keys: "executor" or "driver". */
const char *cde_sizing_role_name(enum cde_sizing_role role);

/* ---- reading the request (read.c, parse_conf.c) ---- */

/* Adds an error at @p to @errs. */
void cde_sizing_fail(struct cde_errors *errs, const struct cde_ptr *p, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The text of a string or number member (numbers written into @buf as a
 * properties file would hold them), or NULL after adding an error. */
const char *cde_sizing_scalar_text(const cJSON *v, char *buf, size_t size,
				   struct cde_errors *errs, const struct cde_ptr *p);

/* Parses "MAJOR.MINOR[.PATCH][-suffix]". Returns 0 or -EINVAL. */
int cde_sizing_parse_version(const char *s, unsigned *ret_major, unsigned *ret_minor);

/* Reads a whole number in [@min, @max] from a JSON number or a string
 * Integer.parseInt would read. Returns true, or false after an error. */
bool cde_sizing_read_count(const cJSON *v, double min, double max, uint64_t *ret,
			   struct cde_errors *errs, const struct cde_ptr *p);

/* Reads the Spark keys of the "conf" object @obj at @p into @conf, then
 * checks what Spark itself would refuse. Errors go to @errs. */
void cde_sizing_parse_conf(const cJSON *obj, struct cde_sizing_conf *conf, struct cde_ptr *p,
			   struct cde_errors *errs);
