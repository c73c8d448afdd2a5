#pragma once
/* The two unit systems a sizing request mixes: Spark's sizes ("4g",
 * "512k", a bare number in the key's own unit) and Kubernetes quantities
 * ("64Gi", "64G", "500m" CPU). They look alike and differ ("4g" is GiB to
 * Spark, "4G" is 10^9 bytes to Kubernetes, "4Gi" is no Spark size at all),
 * so each has its own parser and a user mixing them gets told. */

#include <stdint.h>

/* The largest size either parser accepts, 1 PiB: no node or heap comes
 * near it, and every product the sizing computes stays far from
 * overflowing 64 bits. */
#define CDE_SIZING_BYTES_MAX (UINT64_C(1) << 50)

/* Parses a Spark size as JavaUtils.byteStringAs does: trimmed, case
 * insensitive, digits then an optional unit b, k, kb, m, mb, g, gb, t, tb,
 * p or pb (powers of 1024); a bare number is in 2^@bare_shift bytes (20
 * for the spark.*.memory keys, 0 for spark.memory.offHeap.size). Fractions
 * and signs are refused, as Spark refuses them.
 * Stores the size in bytes in *@ret_bytes. Returns 0, or -EINVAL with a
 * static reason in *@ret_reason. */
int cde_spark_size_parse(const char *s, unsigned bare_shift, uint64_t *ret_bytes,
			 const char **ret_reason);

/* Parses a Kubernetes memory quantity ("64Gi", "64G", "1.5Gi", "129e6",
 * "500Mi", a bare number of bytes) into bytes, rounding a fractional byte
 * up as Kubernetes does. Negative values and values over
 * CDE_SIZING_BYTES_MAX are refused. Returns 0, or -EINVAL with a static
 * reason in *@ret_reason. */
int cde_k8s_memory_parse(const char *s, uint64_t *ret_bytes, const char **ret_reason);

/* Parses a Kubernetes CPU quantity ("2", "0.5", "500m") into millicores.
 * Precision finer than 1m is refused, as the API server refuses it.
 * Returns 0, or -EINVAL with a static reason in *@ret_reason. */
int cde_k8s_cpu_parse(const char *s, uint64_t *ret_millis, const char **ret_reason);
