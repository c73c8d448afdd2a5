/* Reading typed values out of a JSON document for the sizing parsers:
 * each reader either stores a value or adds one error at the pointer it
 * is given, never both, so callers can go on and report every problem of
 * a request at once. */

#include "sizing/sizing_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cde_sizing_fail(struct cde_errors *errs, const struct cde_ptr *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cde_errors_addv(errs, cde_ptr_str(p), fmt, ap);
	va_end(ap);
}

/* A JSON number as the text a properties file would hold: integers
 * without a fraction, others with 15 significant digits, so that 0.1
 * stays "0.1". */
static void number_text(double v, char *buf, size_t size)
{
	if (cde_json_is_whole(v))
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.15g", v);
}

const char *cde_sizing_scalar_text(const cJSON *v, char *buf, size_t size,
				   struct cde_errors *errs, const struct cde_ptr *p)
{
	if (cJSON_IsString(v))
		return v->valuestring;
	if (cJSON_IsNumber(v)) {
		number_text(v->valuedouble, buf, size);
		return buf;
	}
	cde_sizing_fail(errs, p, "must be a string or a number");
	return NULL;
}

int cde_sizing_parse_version(const char *s, unsigned *ret_major, unsigned *ret_minor)
{
	unsigned long major, minor;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	major = strtoul(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9' || major > 1000)
		return -EINVAL;
	minor = strtoul(end + 1, &end, 10);
	if (minor > 1000)
		return -EINVAL;
	if (*end == '.') {
		if (end[1] < '0' || end[1] > '9')
			return -EINVAL;
		strtoul(end + 1, &end, 10);
	}
	if (*end && *end != '-')
		return -EINVAL;
	*ret_major = (unsigned)major;
	*ret_minor = (unsigned)minor;
	return 0;
}

/* Spark's conf counts also arrive as strings ("4"), which Spark reads
 * with Integer.parseInt after trim(). */
bool cde_sizing_read_count(const cJSON *v, double min, double max, uint64_t *ret,
			   struct cde_errors *errs, const struct cde_ptr *p)
{
	double d;

	if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		char *end;

		while (*s && (unsigned char)*s <= ' ')
			s++;
		if (*s == '+' || *s == '-' || (*s >= '0' && *s <= '9')) {
			errno = 0;
			d = (double)strtoll(s, &end, 10);
			while (*end && (unsigned char)*end <= ' ')
				end++;
			if (errno || *end || end == s) {
				cde_sizing_fail(errs, p, "must be a whole number");
				return false;
			}
		} else {
			cde_sizing_fail(errs, p, "must be a whole number");
			return false;
		}
	} else if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
		if (!cde_json_is_whole(d)) {
			cde_sizing_fail(errs, p, "must be a whole number");
			return false;
		}
	} else {
		cde_sizing_fail(errs, p, "must be a whole number");
		return false;
	}
	if (d < 0 && min >= 0) {
		cde_sizing_fail(errs, p, "must not be negative");
		return false;
	}
	if (d < min || d > max) {
		cde_sizing_fail(errs, p, "must be between %.0f and %.0f", min, max);
		return false;
	}
	*ret = (uint64_t)d;
	return true;
}
