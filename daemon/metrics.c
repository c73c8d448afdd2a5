/* The metrics registry. Series live in a flat array per family, found by
 * their rendered label text: families are small (capped) and a scrape
 * walks them all anyway, so a linear search is the simple choice. */

#include "daemon/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_TEXT_MAX 384

struct series {
	char labels[LABEL_TEXT_MAX];	/* a="x",b="y" */
	double value;			/* counter or gauge; histogram: sum */
	unsigned long long count;	/* histogram */
	unsigned long long *buckets;	/* histogram: per bound, not cumulative */
};

struct cde_metric_family {
	const char *name, *help;
	enum cde_metric_type type;
	const char *label_names[CDE_METRIC_LABELS_MAX + 1];
	size_t n_labels;
	const double *bounds;
	size_t n_bounds;
	size_t n_series, cap;
	struct series *series;
	struct cde_metric_family *next;
};

struct cde_metrics {
	size_t max_series;
	struct cde_metric_family *first, **last;
};

struct cde_metrics *cde_metrics_new(size_t max_series)
{
	struct cde_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->max_series = max_series < 2 ? 2 : max_series;
	m->last = &m->first;
	return m;
}

void cde_metrics_free(struct cde_metrics *m)
{
	if (!m)
		return;
	while (m->first) {
		struct cde_metric_family *f = m->first;

		m->first = f->next;
		for (size_t i = 0; i < f->n_series; i++)
			free(f->series[i].buckets);
		free(f->series);
		free(f);
	}
	free(m);
}

struct cde_metric_family *cde_metrics_family(struct cde_metrics *m, const char *name, const char *help,
					     enum cde_metric_type type, const char *const *label_names,
					     const double *bounds, size_t n_bounds)
{
	struct cde_metric_family *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->name = name;
	f->help = help;
	f->type = type;
	for (; label_names && label_names[f->n_labels] && f->n_labels < CDE_METRIC_LABELS_MAX; f->n_labels++)
		f->label_names[f->n_labels] = label_names[f->n_labels];
	f->bounds = bounds;
	f->n_bounds = type == CDE_METRIC_HISTOGRAM ? n_bounds : 0;
	f->cap = m->max_series;
	*m->last = f;
	m->last = &f->next;
	return f;
}

/* Label values as the format wants them: backslash, quote and newline
 * escaped; cut short rather than overflow. */
static void format_labels(const struct cde_metric_family *f, const char *const *values, char *out)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t i = 0; i < f->n_labels; i++) {
		const char *v = values && values[i] ? values[i] : "";

		/* `,name="` without stdio: labels are formatted for every
		 * request and event counted. */
		if (i && n < LABEL_TEXT_MAX - 8)
			out[n++] = ',';
		for (const char *k = f->label_names[i]; *k && n < LABEL_TEXT_MAX - 8; k++)
			out[n++] = *k;
		if (n < LABEL_TEXT_MAX - 8) {
			out[n++] = '=';
			out[n++] = '"';
		}
		for (; *v && n < LABEL_TEXT_MAX - 8; v++) {
			if (*v == '\\' || *v == '"') {
				out[n++] = '\\';
				out[n++] = *v;
			} else if (*v == '\n') {
				out[n++] = '\\';
				out[n++] = 'n';
			} else {
				out[n++] = *v;
			}
		}
		if (n < LABEL_TEXT_MAX - 2)
			out[n++] = '"';
		out[n] = '\0';
	}
}

static struct series *find(struct cde_metric_family *f, const char *const *values)
{
	static const char *const other[CDE_METRIC_LABELS_MAX] = { "other", "other", "other" };
	char labels[LABEL_TEXT_MAX];
	struct series *s;

	format_labels(f, values, labels);
	for (size_t i = 0; i < f->n_series; i++)
		if (strcmp(f->series[i].labels, labels) == 0)
			return &f->series[i];
	/* The last slot is kept for "other". */
	if (f->n_series + 1 >= f->cap && f->n_labels) {
		format_labels(f, other, labels);
		for (size_t i = 0; i < f->n_series; i++)
			if (strcmp(f->series[i].labels, labels) == 0)
				return &f->series[i];
		if (f->n_series >= f->cap)
			return NULL;
	}
	if (!f->series) {
		f->series = calloc(f->cap, sizeof(*f->series));
		if (!f->series)
			return NULL;
	}
	s = &f->series[f->n_series];
	memset(s, 0, sizeof(*s));
	if (f->n_bounds && !(s->buckets = calloc(f->n_bounds, sizeof(*s->buckets))))
		return NULL;
	memcpy(s->labels, labels, sizeof(labels));
	f->n_series++;
	return s;
}

void cde_metric_add(struct cde_metric_family *f, double v, const char *const *values)
{
	struct series *s = f ? find(f, values) : NULL;

	if (s)
		s->value += v;
}

void cde_metric_set(struct cde_metric_family *f, double v, const char *const *values)
{
	struct series *s = f ? find(f, values) : NULL;

	if (s)
		s->value = v;
}

void cde_metric_observe(struct cde_metric_family *f, double v, const char *const *values)
{
	struct series *s = f ? find(f, values) : NULL;

	if (!s || isnan(v))
		return;
	s->value += v;
	s->count++;
	for (size_t i = 0; i < f->n_bounds; i++) {
		if (v <= f->bounds[i]) {
			s->buckets[i]++;
			break;
		}
	}
}

void cde_metric_set_histogram(struct cde_metric_family *f, const unsigned long long *buckets,
			      unsigned long long count, double sum, const char *const *values)
{
	struct series *s = f ? find(f, values) : NULL;

	if (!s || !s->buckets)
		return;
	memcpy(s->buckets, buckets, f->n_bounds * sizeof(*buckets));
	s->count = count;
	s->value = sum;
}

void cde_metric_clear(struct cde_metric_family *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_series; i++)
		free(f->series[i].buckets);
	f->n_series = 0;
}

struct text {
	char *buf;
	size_t len, cap;
	bool failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = true;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		char *b = realloc(t->buf, t->cap * 2 + (size_t)n);

		if (!b) {
			t->failed = true;
			return;
		}
		t->buf = b;
		t->cap = t->cap * 2 + (size_t)n;
	}
}

static const char *type_name(enum cde_metric_type type)
{
	return type == CDE_METRIC_COUNTER ? "counter" : type == CDE_METRIC_GAUGE ? "gauge" : "histogram";
}

/* "{labels}" or "{labels,extra}" or "". */
static void put_labels(struct text *t, const char *labels, const char *extra)
{
	if (!labels[0] && !extra)
		return;
	put(t, "{%s%s%s}", labels, labels[0] && extra ? "," : "", extra ? extra : "");
}

char *cde_metrics_render(const struct cde_metrics *m)
{
	struct text t = { .buf = malloc(16384), .cap = 16384 };

	if (!t.buf)
		return NULL;
	t.buf[0] = '\0';
	for (const struct cde_metric_family *f = m->first; f; f = f->next) {
		put(&t, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, type_name(f->type));
		for (size_t i = 0; i < f->n_series; i++) {
			const struct series *s = &f->series[i];

			if (f->type != CDE_METRIC_HISTOGRAM) {
				put(&t, "%s", f->name);
				put_labels(&t, s->labels, NULL);
				put(&t, " %.17g\n", s->value);
				continue;
			}
			unsigned long long cum = 0;
			char le[48];

			for (size_t b = 0; b < f->n_bounds; b++) {
				cum += s->buckets[b];
				snprintf(le, sizeof(le), "le=\"%g\"", f->bounds[b]);
				put(&t, "%s_bucket", f->name);
				put_labels(&t, s->labels, le);
				put(&t, " %llu\n", cum);
			}
			put(&t, "%s_bucket", f->name);
			put_labels(&t, s->labels, "le=\"+Inf\"");
			put(&t, " %llu\n%s_sum", s->count, f->name);
			put_labels(&t, s->labels, NULL);
			put(&t, " %.17g\n%s_count", s->value, f->name);
			put_labels(&t, s->labels, NULL);
			put(&t, " %llu\n", s->count);
		}
	}
	if (t.failed) {
		free(t.buf);
		return NULL;
	}
	return t.buf;
}
