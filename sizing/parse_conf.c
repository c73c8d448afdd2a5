/* The Spark keys a sizing request may set, read as SparkConf reads them
 * (sizes through JavaUtils.byteStringAs, Ints, Doubles, booleans) and
 * checked as Spark checks them at start. Any other key is ignored: Spark
 * has hundreds, and they do not change a pod's size. */

#include "sizing/sizing_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT_MAX 2147483647.0	/* Spark's counts are Ints */

/* What each known Spark key holds and how Spark reads it. */
enum conf_kind {
	K_HEAP,		/* size, bare MiB, at least 1 MiB */
	K_MIB,		/* size, bare MiB */
	K_BYTES,	/* size, bare bytes (spark.memory.offHeap.size), kept in MiB */
	K_COUNT,	/* Int >= 0 */
	K_CORES,	/* Int >= 1 */
	K_ROLE_FACTOR,	/* Double > 0 */
	K_K8S_FACTOR,	/* Double in [0, 1) */
	K_BOOL,
	K_CPU,		/* Kubernetes CPU quantity */
};

#define CONF(field) offsetof(struct cde_sizing_conf, field)

static const struct conf_key {
	const char *name;
	enum conf_kind kind;
	size_t offset;
} conf_keys[] = {
	{ "spark.executor.memory", K_HEAP, CONF(executor.memory_mib) },
	{ "spark.executor.memoryOverhead", K_MIB, CONF(executor.overhead_mib) },
	{ "spark.executor.memoryOverheadFactor", K_ROLE_FACTOR, CONF(executor.overhead_factor) },
	{ "spark.executor.minMemoryOverhead", K_MIB, CONF(executor.min_overhead_mib) },
	{ "spark.executor.cores", K_CORES, CONF(executor.cores) },
	{ "spark.kubernetes.executor.request.cores", K_CPU, CONF(executor.request_millis) },
	{ "spark.kubernetes.executor.limit.cores", K_CPU, CONF(executor.limit_millis) },
	{ "spark.driver.memory", K_HEAP, CONF(driver.memory_mib) },
	{ "spark.driver.memoryOverhead", K_MIB, CONF(driver.overhead_mib) },
	{ "spark.driver.memoryOverheadFactor", K_ROLE_FACTOR, CONF(driver.overhead_factor) },
	{ "spark.driver.minMemoryOverhead", K_MIB, CONF(driver.min_overhead_mib) },
	{ "spark.driver.cores", K_CORES, CONF(driver.cores) },
	{ "spark.kubernetes.driver.request.cores", K_CPU, CONF(driver.request_millis) },
	{ "spark.kubernetes.driver.limit.cores", K_CPU, CONF(driver.limit_millis) },
	{ "spark.kubernetes.memoryOverheadFactor", K_K8S_FACTOR, CONF(k8s_overhead_factor) },
	{ "spark.executor.pyspark.memory", K_MIB, CONF(pyspark_mib) },
	{ "spark.memory.offHeap.enabled", K_BOOL, CONF(offheap_enabled) },
	{ "spark.memory.offHeap.size", K_BYTES, CONF(offheap_mib) },
	{ "spark.executor.instances", K_COUNT, CONF(instances) },
	{ "spark.dynamicAllocation.enabled", K_BOOL, CONF(dyn_enabled) },
	{ "spark.dynamicAllocation.minExecutors", K_COUNT, CONF(dyn_min) },
	{ "spark.dynamicAllocation.maxExecutors", K_COUNT, CONF(dyn_max) },
	{ "spark.dynamicAllocation.initialExecutors", K_COUNT, CONF(dyn_initial) },
};

static void parse_size(const cJSON *v, enum conf_kind kind, struct cde_sizing_u64 *slot,
		       struct cde_errors *errs, const struct cde_ptr *p)
{
	char buf[64];
	const char *text, *reason;
	uint64_t bytes;

	if (cJSON_IsNumber(v) && !cde_json_is_whole(v->valuedouble)) {
		cde_sizing_fail(errs, p, "fractional values are not supported by Spark; "
				"write 1536m, not 1.5g");
		return;
	}
	text = cde_sizing_scalar_text(v, buf, sizeof(buf), errs, p);
	if (!text)
		return;
	if (cde_spark_size_parse(text, kind == K_BYTES ? 0 : 20, &bytes, &reason) < 0) {
		cde_sizing_fail(errs, p, "\"%.40s\" is not a Spark size: %s", text, reason);
		return;
	}
	if (kind == K_HEAP && bytes < CDE_MIB) {
		cde_sizing_fail(errs, p, "\"%.40s\" is less than 1 MiB (Spark rounds it down to 0)",
				text);
		return;
	}
	slot->set = true;
	slot->v = bytes / CDE_MIB;
}

/* A Double as Spark's doubleConf reads it (String.toDouble after trim);
 * hexadecimal, infinities and NaN are refused, Spark would not mean them. */
static bool parse_double(const cJSON *v, double *ret, struct cde_errors *errs,
			 const struct cde_ptr *p)
{
	if (cJSON_IsNumber(v)) {
		*ret = v->valuedouble;
		return true;
	}
	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		char *end;
		double d;

		while (*s && (unsigned char)*s <= ' ')
			s++;
		if (strpbrk(s, "xXnN") == NULL && *s) {
			d = strtod(s, &end);
			while (*end && (unsigned char)*end <= ' ')
				end++;
			if (!*end && end != s && isfinite(d)) {
				*ret = d;
				return true;
			}
		}
	}
	cde_sizing_fail(errs, p, "must be a number such as 0.4");
	return false;
}

static bool parse_bool(const cJSON *v, bool *ret, struct cde_errors *errs,
		       const struct cde_ptr *p)
{
	if (cJSON_IsBool(v)) {
		*ret = cJSON_IsTrue(v);
		return true;
	}
	if (cJSON_IsString(v)) {
		char word[8];
		const char *s = v->valuestring;
		size_t n;

		while (*s && (unsigned char)*s <= ' ')
			s++;
		n = strlen(s);
		while (n && (unsigned char)s[n - 1] <= ' ')
			n--;
		if (n < sizeof(word)) {
			for (size_t i = 0; i < n; i++) {
				char ch = s[i];

				word[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
			}
			word[n] = '\0';
			if (strcmp(word, "true") == 0 || strcmp(word, "false") == 0) {
				*ret = word[0] == 't';
				return true;
			}
		}
	}
	cde_sizing_fail(errs, p, "must be true or false");
	return false;
}

static void parse_cpu(const cJSON *v, struct cde_sizing_u64 *slot, struct cde_errors *errs,
		      const struct cde_ptr *p)
{
	char buf[64];
	const char *text = cde_sizing_scalar_text(v, buf, sizeof(buf), errs, p), *reason;
	uint64_t millis;

	if (!text)
		return;
	if (cde_k8s_cpu_parse(text, &millis, &reason) < 0) {
		cde_sizing_fail(errs, p, "\"%.40s\" is not a CPU quantity: %s", text, reason);
		return;
	}
	slot->set = true;
	slot->v = millis;
}

static void parse_conf_value(const struct conf_key *k, const cJSON *v,
			     struct cde_sizing_conf *conf, struct cde_errors *errs,
			     const struct cde_ptr *p)
{
	void *slot = (char *)conf + k->offset;
	struct cde_sizing_u64 *u = slot;
	struct cde_sizing_f64 *f = slot;
	struct cde_sizing_bool *b = slot;
	double d;

	switch (k->kind) {
	case K_HEAP:
	case K_MIB:
	case K_BYTES:
		parse_size(v, k->kind, u, errs, p);
		break;
	case K_COUNT:
	case K_CORES:
		if (cde_sizing_read_count(v, k->kind == K_CORES ? 1 : 0, COUNT_MAX, &u->v, errs, p))
			u->set = true;
		break;
	case K_ROLE_FACTOR:
		if (!parse_double(v, &d, errs, p))
			break;
		if (!(d > 0)) {
			cde_sizing_fail(errs, p, "must be greater than 0");
			break;
		}
		f->set = true;
		f->v = d;
		break;
	case K_K8S_FACTOR:
		if (!parse_double(v, &d, errs, p))
			break;
		if (!(d >= 0 && d < 1)) {
			cde_sizing_fail(errs, p, "must be at least 0 and below 1");
			break;
		}
		f->set = true;
		f->v = d;
		break;
	case K_BOOL:
		if (parse_bool(v, &b->v, errs, p))
			b->set = true;
		break;
	case K_CPU:
		parse_cpu(v, u, errs, p);
		break;
	}
}

/* What Spark itself refuses at start, reported at the key to change. */
static void check_conf(const struct cde_sizing_conf *c, struct cde_ptr *p,
		       struct cde_errors *errs)
{
	size_t mark;

	if (c->offheap_enabled.v && (!c->offheap_mib.set || c->offheap_mib.v == 0)) {
		mark = cde_ptr_push(p, "spark.memory.offHeap.size");
		cde_sizing_fail(errs, p, "must be at least 1m when spark.memory.offHeap.enabled "
				"is true (Spark refuses to start)");
		cde_ptr_pop(p, mark);
	}
	if (!c->dyn_enabled.v)
		return;
	if (c->dyn_max.set && c->dyn_max.v == 0) {
		mark = cde_ptr_push(p, "spark.dynamicAllocation.maxExecutors");
		cde_sizing_fail(errs, p, "must not be 0 under dynamic allocation "
				"(Spark refuses to start)");
		cde_ptr_pop(p, mark);
	} else if (c->dyn_max.set && c->dyn_min.v > c->dyn_max.v) {
		mark = cde_ptr_push(p, "spark.dynamicAllocation.minExecutors");
		cde_sizing_fail(errs, p, "is above spark.dynamicAllocation.maxExecutors (%llu)",
		     (unsigned long long)c->dyn_max.v);
		cde_ptr_pop(p, mark);
	}
}

void cde_sizing_parse_conf(const cJSON *obj, struct cde_sizing_conf *conf, struct cde_ptr *p,
			   struct cde_errors *errs)
{
	const cJSON *v;

	if (!cJSON_IsObject(obj)) {
		cde_sizing_fail(errs, p, "must be an object of Spark settings");
		return;
	}
	cJSON_ArrayForEach(v, obj) {
		for (size_t i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
			if (strcmp(v->string, conf_keys[i].name) == 0) {
				size_t mark = cde_ptr_push(p, v->string);

				parse_conf_value(&conf_keys[i], v, conf, errs, p);
				cde_ptr_pop(p, mark);
				break;
			}
		}
	}
	check_conf(conf, p, errs);
}
