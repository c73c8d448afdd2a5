/* cdevctl sizing: what Spark's Kubernetes backend will request for a job's
 * driver and executor pods, and how they fit a cluster's nodes, from the
 * command line.
 *
 * The options are turned into the very request POST /v1/sizing takes and
 * read by the same parser (sizing/parse.c), so the command and the daemon
 * cannot disagree; the parser's JSON pointers are mapped back to the
 * options that produced them, so that a mistake names what to retype.
 * A job that does not fit is an answer, not an error: exit 0, with the
 * verdict said plainly. Exit 2 on a bad option. */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/commands.h"
#include "config/config.h"
#include "daemon/config_load.h"
#include "sizing/sizing.h"

static const char usage[] =
	"usage: cdevctl sizing [--conf KEY=VALUE]... [--language jvm|python|r] [--spark-version X.Y.Z]\n"
	"         [--provider gke|eks|aks|none --node CPU,MEMORY [--nodes N] [--max-pods N]\n"
	"          [--aks-version X.Y] [--pod-overhead CPU,MEMORY]]\n"
	"         [--cluster NAME -c FILE] [--json]\n"
	"  What Spark's Kubernetes backend requests for the driver and executor pods\n"
	"  of a job, and how they fit a node pool: heap, overhead, memory request and\n"
	"  limit, CPU, executors per node, nodes needed, warnings.\n"
	"  --conf          a Spark setting in Spark's own units (spark.executor.memory=8g;\n"
	"                  a bare number is MiB for the memory keys); repeat it\n"
	"  --language      jvm (default), python or r: non-JVM jobs get more overhead\n"
	"  --spark-version the rules of that version (default: the newest)\n"
	"  --provider      gke, eks, aks (each reserves its share of a node) or none\n"
	"  --node          one node's capacity in Kubernetes quantities: 16,64Gi\n"
	"  --nodes         how many nodes the pool has\n"
	"  --max-pods      pods per node (required for eks, and aks from 1.29)\n"
	"  --aks-version   the AKS version, whose rules changed in 1.29\n"
	"  --pod-overhead  a RuntimeClass's per-pod overhead: 250m,120Mi\n"
	"  --cluster       a cluster named in the `clusters:` of cdeventsd's config -c FILE\n"
	"  --json          the answer as POST /v1/sizing gives it\n"
	"  Exit 0 with the answer (also when the job does not fit), 2 on a bad option.\n";

/* The options, as given: the request is built from them in one place. */
struct sizing_opts {
	cJSON *conf;
	const char *language, *spark_version;
	const char *provider, *node, *nodes, *max_pods, *aks_version, *pod_overhead;
	const char *cluster_name, *config_file;
	bool json;
};

/* Maps a pointer of the request to the option that gave it. */
static void option_of(const char *pointer, char *buf, size_t size)
{
	static const struct {
		const char *pointer, *option;
	} map[] = {
		{ "/language", "--language" },
		{ "/sparkVersion", "--spark-version" },
		{ "/cluster/provider", "--provider" },
		{ "/cluster/nodeCpu", "--node (its CPU)" },
		{ "/cluster/nodeMemory", "--node (its memory)" },
		{ "/cluster/nodes", "--nodes" },
		{ "/cluster/maxPods", "--max-pods" },
		{ "/cluster/aksVersion", "--aks-version" },
		{ "/cluster/podOverhead/cpu", "--pod-overhead (its CPU)" },
		{ "/cluster/podOverhead/memory", "--pod-overhead (its memory)" },
		{ "/cluster/podOverhead", "--pod-overhead" },
		{ "/cluster", "--cluster" },
		{ "/conf", "--conf" },
	};
	size_t off;

	if (strncmp(pointer, "/conf/", 6) == 0) {
		/* The key unescaped (RFC 6901: ~1 is '/', ~0 is '~'), as typed. */
		off = (size_t)snprintf(buf, size, "--conf ");
		for (const char *s = pointer + 6; *s && off + 1 < size; s++) {
			if (s[0] == '~' && (s[1] == '0' || s[1] == '1')) {
				buf[off++] = s[1] == '0' ? '~' : '/';
				s++;
			} else {
				buf[off++] = *s;
			}
		}
		buf[off] = '\0';
		return;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(pointer, map[i].pointer) == 0) {
			snprintf(buf, size, "%s", map[i].option);
			return;
		}
	}
	snprintf(buf, size, "%s", *pointer ? pointer : "the request");
}

static void print_errors(const struct cde_errors *errs)
{
	char option[160];

	for (size_t i = 0; i < errs->count; i++) {
		option_of(errs->items[i].pointer, option, sizeof(option));
		fprintf(stderr, "cdevctl sizing: %s: %s\n", option, errs->items[i].reason);
	}
	if (errs->dropped)
		fprintf(stderr, "cdevctl sizing: and %zu more errors\n", errs->dropped);
}

/* Splits "A,B" into two strings added to @obj under @first and @second.
 * Returns 0, -EINVAL (after saying so) or -ENOMEM. */
static int add_pair(cJSON *obj, const char *option, const char *value, const char *first,
		    const char *second, const char *example)
{
	const char *comma = strchr(value, ',');
	char *a;
	int r = 0;

	if (!comma || comma == value || !comma[1] || strchr(comma + 1, ',')) {
		fprintf(stderr, "cdevctl sizing: %s %s: give CPU,MEMORY, such as %s\n", option, value,
			example);
		return -EINVAL;
	}
	a = strndup(value, (size_t)(comma - value));
	if (!a)
		return -ENOMEM;
	if (!cJSON_AddStringToObject(obj, first, a) || !cJSON_AddStringToObject(obj, second, comma + 1))
		r = -ENOMEM;
	free(a);
	return r;
}

/* Adds "KEY=VALUE" to the conf object. Returns 0, -EINVAL or -ENOMEM. */
static int add_conf(cJSON *conf, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char *key;
	int r = 0;

	if (!eq || eq == kv) {
		fprintf(stderr, "cdevctl sizing: --conf %s: give KEY=VALUE, such as "
			"spark.executor.memory=8g\n", kv);
		return -EINVAL;
	}
	key = strndup(kv, (size_t)(eq - kv));
	if (!key)
		return -ENOMEM;
	/* Spark keeps the last of a key given twice; a sizing that silently
	 * did the same would hide a typo in a long command line. */
	if (cJSON_GetObjectItemCaseSensitive(conf, key)) {
		fprintf(stderr, "cdevctl sizing: --conf %s: given twice\n", key);
		r = -EINVAL;
	} else if (!cJSON_AddStringToObject(conf, key, eq + 1)) {
		r = -ENOMEM;
	}
	free(key);
	return r;
}

static bool has_cluster_options(const struct sizing_opts *o)
{
	return o->provider || o->node || o->nodes || o->max_pods || o->aks_version || o->pod_overhead;
}

/* The request POST /v1/sizing would get. Returns 0 and it in *@ret, or
 * -EINVAL (said) or -ENOMEM. Takes o->conf. */
static int build_request(struct sizing_opts *o, cJSON **ret)
{
	cJSON *req = cJSON_CreateObject(), *cluster;
	int r = -ENOMEM;

	if (!req)
		return -ENOMEM;
	if (!cJSON_AddItemToObject(req, "conf", o->conf))
		goto err_free_req;
	o->conf = NULL;
	if (!cJSON_AddStringToObject(req, "language", o->language ? o->language : "jvm"))
		goto err_free_req;
	if (o->spark_version && !cJSON_AddStringToObject(req, "sparkVersion", o->spark_version))
		goto err_free_req;
	if (has_cluster_options(o)) {
		cluster = cJSON_AddObjectToObject(req, "cluster");
		if (!cluster || (o->provider && !cJSON_AddStringToObject(cluster, "provider", o->provider)) ||
		    (o->nodes && !cJSON_AddStringToObject(cluster, "nodes", o->nodes)) ||
		    (o->max_pods && !cJSON_AddStringToObject(cluster, "maxPods", o->max_pods)) ||
		    (o->aks_version && !cJSON_AddStringToObject(cluster, "aksVersion", o->aks_version)))
			goto err_free_req;
		if (o->node && (r = add_pair(cluster, "--node", o->node, "nodeCpu", "nodeMemory",
					     "16,64Gi")) < 0)
			goto err_free_req;
		if (o->pod_overhead) {
			cJSON *po = cJSON_AddObjectToObject(cluster, "podOverhead");

			r = -ENOMEM;
			if (!po || (r = add_pair(po, "--pod-overhead", o->pod_overhead, "cpu", "memory",
						 "250m,120Mi")) < 0)
				goto err_free_req;
		}
	}
	*ret = req;
	return 0;

err_free_req:
	cJSON_Delete(req);
	return r;
}

/* Reads the request, and the named cluster when there is one, into *@ret.
 * Returns 0, -EINVAL (said) or -ENOMEM. */
static int read_input(struct sizing_opts *o, struct cde_sizing_input *ret)
{
	static struct cde_config cfg;	/* large: not on the stack */
	static struct cde_sizing_named_cluster clusters[CDE_CONFIG_CLUSTERS_MAX];
	struct cde_sizing_input in;
	struct cde_sizing_cluster c;
	struct cde_errors errs;
	cJSON *req = NULL, *name;
	int r = build_request(o, &req);

	if (r < 0)
		return r;
	cde_sizing_input_init(&in);
	cde_errors_reset(&errs);
	r = cde_sizing_input_parse(req, &in, &errs);
	cJSON_Delete(req);
	if (o->cluster_name) {
		struct cde_errors file_errs;

		cde_errors_reset(&file_errs);
		cde_config_defaults(&cfg);
		if (cde_daemon_config_load(o->config_file, &cfg, &file_errs) < 0 ||
		    cde_daemon_clusters_read(&cfg, o->config_file, clusters, &file_errs) < 0) {
			for (size_t i = 0; i < file_errs.count; i++)
				fprintf(stderr, "cdevctl sizing: -c %s\n", file_errs.items[i].reason);
			return -EINVAL;
		}
		name = cJSON_CreateString(o->cluster_name);
		if (!name)
			return -ENOMEM;
		if (cde_sizing_cluster_resolve(name, "/cluster", clusters, cfg.n_clusters, &c,
					       &errs) == 0 && r == 0) {
			in.cluster = c;
			in.has_cluster = true;
		}
		cJSON_Delete(name);
	}
	if (!cde_errors_empty(&errs)) {
		print_errors(&errs);
		return -EINVAL;
	}
	*ret = in;
	return 0;
}

/* Millicores as cores: "4", "0.5", "15.89". */
static const char *cores(uint64_t millis, char *buf, size_t size)
{
	if (millis % 1000 == 0) {
		snprintf(buf, size, "%llu", (unsigned long long)(millis / 1000));
	} else {
		size_t n;

		snprintf(buf, size, "%llu.%03llu", (unsigned long long)(millis / 1000),
			 (unsigned long long)(millis % 1000));
		n = strlen(buf);
		while (n && buf[n - 1] == '0')
			buf[--n] = '\0';
	}
	return buf;
}

static const char *mib(uint64_t v, char *buf, size_t size)
{
	snprintf(buf, size, "%llu MiB", (unsigned long long)v);
	return buf;
}

/* Bytes in the unit a node is sold in: GiB when whole, else MiB. */
static const char *node_memory(uint64_t bytes, char *buf, size_t size)
{
	if (bytes % (UINT64_C(1) << 30) == 0)
		snprintf(buf, size, "%llu GiB", (unsigned long long)(bytes >> 30));
	else
		snprintf(buf, size, "%.1f MiB", (double)bytes / (1 << 20));
	return buf;
}

static void print_pod(const char *role, const struct cde_sizing_pod *p, bool executor, bool has_node)
{
	char heap[32], overhead[48], extra[32], memory[32], cpu[32], limit[32];

	if (p->overhead_explicit)
		snprintf(overhead, sizeof(overhead), "%llu MiB (set)", (unsigned long long)p->overhead_mib);
	else
		snprintf(overhead, sizeof(overhead), "%llu MiB (x%g)", (unsigned long long)p->overhead_mib,
			 p->overhead_factor);
	if (executor)
		mib(p->pyspark_mib + p->offheap_mib, extra, sizeof(extra));
	else
		snprintf(extra, sizeof(extra), "-");
	printf("%-9s  %-10s  %-17s  %-19s  %-17s  %-7s  %-9s  %s\n", role,
	       mib(p->heap_mib, heap, sizeof(heap)), overhead, extra,
	       mib(p->memory_mib, memory, sizeof(memory)), cores(p->cpu_request_millis, cpu, sizeof(cpu)),
	       p->has_cpu_limit ? cores(p->cpu_limit_millis, limit, sizeof(limit)) : "-",
	       !has_node ? "-" : p->fits_node ? "yes" : "NO");
}

static const char *const provider_names[] = { "none", "gke", "eks", "aks" };
static const char *const language_names[] = { "jvm", "python", "r" };

/* The one line that answers "will it run": said plainly, first word
 * first, so that a person skimming and a grep both find it. */
static void print_verdict(const struct cde_sizing_input *in, const struct cde_sizing_result *r)
{
	const struct cde_sizing_cluster *c = &in->cluster;

	if (!r->has_node) {
		printf("fits                 unknown: no cluster given (--provider and --node place the pods)\n");
	} else if (!r->fits) {
		printf("fits                 NO: %s larger than what one node can give; the job "
		       "would stay Pending\n",
		       !r->executor.fits_node && !r->driver.fits_node ?
			       "the driver pod and an executor pod are each" :
		       !r->executor.fits_node ? "an executor pod is" : "the driver pod is");
	} else if (c->nodes && r->nodes_needed > c->nodes) {
		printf("fits                 NOT ALL: each pod fits a node, but the job needs %u nodes "
		       "and the pool has %u\n", r->nodes_needed, c->nodes);
	} else {
		printf("fits                 yes\n");
	}
}

static void print_table(const struct cde_sizing_input *in, const struct cde_sizing_result *r)
{
	const struct cde_sizing_cluster *c = &in->cluster;
	char a[32], b[32], d[32];

	printf("Spark %s rules, %s job, %u executor%s\n\n", r->rules, language_names[in->language],
	       r->executors, r->executors == 1 ? "" : "s");
	printf("%-9s  %-10s  %-17s  %-19s  %-17s  %-7s  %-9s  %s\n", "POD", "HEAP", "OVERHEAD",
	       "PYSPARK+OFF-HEAP", "MEMORY REQ=LIMIT", "CPU REQ", "CPU LIMIT", "FITS NODE");
	print_pod("executor", &r->executor, true, r->has_node);
	print_pod("driver", &r->driver, false, r->has_node);
	printf("\n");
	if (r->has_node) {
		printf("node                 %s: %s CPU, %s; allocatable %s CPU, %llu MiB\n",
		       provider_names[c->provider], cores(c->node_cpu_millis, a, sizeof(a)),
		       node_memory(c->node_memory_bytes, b, sizeof(b)),
		       cores(r->allocatable_cpu_millis, d, sizeof(d)),
		       (unsigned long long)r->allocatable_memory_mib);
		printf("executors per node   %u (%u beside the driver)\n", r->executors_per_node,
		       r->executors_beside_driver);
		if (r->has_nodes_needed && c->nodes)
			printf("nodes needed         %u of %u\n", r->nodes_needed, c->nodes);
		else if (r->has_nodes_needed)
			printf("nodes needed         %u\n", r->nodes_needed);
		else
			printf("nodes needed         -\n");
	}
	print_verdict(in, r);
	printf("total requests       %u pods, %s CPU, %llu MiB\n", r->total_pods,
	       cores(r->total_cpu_request_millis, a, sizeof(a)),
	       (unsigned long long)r->total_memory_request_mib);
	if (!r->n_warnings) {
		printf("warnings             none\n");
		return;
	}
	printf("\nwarnings\n");
	for (size_t i = 0; i < r->n_warnings; i++)
		printf("  %-34s %s\n", cde_sizing_code_name(r->warnings[i].code), r->warnings[i].message);
	if (r->dropped_warnings)
		printf("  and %zu more\n", r->dropped_warnings);
}

static int print_json(const struct cde_sizing_result *r)
{
	cJSON *o = cde_sizing_result_to_json(r);
	char *text = o ? cJSON_Print(o) : NULL;

	cJSON_Delete(o);
	if (!text)
		return -ENOMEM;
	printf("%s\n", text);
	cJSON_free(text);
	return 0;
}

static const struct option long_options[] = {
	{ "conf", required_argument, NULL, 'C' },
	{ "language", required_argument, NULL, 'l' },
	{ "spark-version", required_argument, NULL, 'v' },
	{ "provider", required_argument, NULL, 'p' },
	{ "node", required_argument, NULL, 'n' },
	{ "nodes", required_argument, NULL, 'N' },
	{ "max-pods", required_argument, NULL, 'm' },
	{ "aks-version", required_argument, NULL, 'a' },
	{ "pod-overhead", required_argument, NULL, 'o' },
	{ "cluster", required_argument, NULL, 'k' },
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

/* What getopt cannot check: no stray argument, and the cluster either
 * named (with the configuration that names it) or described. Returns 0 or
 * -EINVAL (said). */
static int check_args(int argc, char **argv, const struct sizing_opts *o)
{
	if (optind != argc) {
		fprintf(stderr, "cdevctl sizing: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->cluster_name && has_cluster_options(o)) {
		fprintf(stderr, "cdevctl sizing: --cluster names a configured cluster; give it or "
			"--provider and --node, not both\n");
		return -EINVAL;
	}
	if (!o->cluster_name != !o->config_file) {
		fprintf(stderr, "cdevctl sizing: %s\n", o->cluster_name ?
			"--cluster needs -c FILE, the configuration that names it" :
			"-c FILE is only read for --cluster NAME");
		return -EINVAL;
	}
	return 0;
}

/* Sizes @in and prints it, as JSON with --json. Returns the exit status. */
static int print_sizing(const struct sizing_opts *o, const struct cde_sizing_input *in)
{
	struct cde_sizing_result res;

	cde_sizing_compute(in, &res);
	if (o->json) {
		if (print_json(&res) < 0) {
			fprintf(stderr, "cdevctl sizing: out of memory\n");
			return 2;
		}
		return 0;
	}
	print_table(in, &res);
	return 0;
}

int cde_cmd_sizing(int argc, char **argv)
{
	struct sizing_opts o = { 0 };
	struct cde_sizing_input in;
	int c, r = 0;

	o.conf = cJSON_CreateObject();
	if (!o.conf) {
		fprintf(stderr, "cdevctl sizing: out of memory\n");
		return 2;
	}
	optind = 1;
	while (r == 0 && (c = getopt_long(argc, argv, "c:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'C':
			r = add_conf(o.conf, optarg);
			break;
		case 'l':
			o.language = optarg;
			break;
		case 'v':
			o.spark_version = optarg;
			break;
		case 'p':
			o.provider = optarg;
			break;
		case 'n':
			o.node = optarg;
			break;
		case 'N':
			o.nodes = optarg;
			break;
		case 'm':
			o.max_pods = optarg;
			break;
		case 'a':
			o.aks_version = optarg;
			break;
		case 'o':
			o.pod_overhead = optarg;
			break;
		case 'k':
			o.cluster_name = optarg;
			break;
		case 'c':
			o.config_file = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			cJSON_Delete(o.conf);
			fputs(usage, stdout);
			return 0;
		default:
			cJSON_Delete(o.conf);
			fputs(usage, stderr);
			return 2;
		}
	}
	if (r == 0)
		r = check_args(argc, argv, &o);
	if (r == 0)
		r = read_input(&o, &in);	/* takes o.conf */
	cJSON_Delete(o.conf);
	if (r == -ENOMEM)
		fprintf(stderr, "cdevctl sizing: out of memory\n");
	if (r < 0)
		return 2;
	return print_sizing(&o, &in);
}
