/* What a node can give to pods: capacity minus the provider's
 * kube-reserved and minus its hard eviction threshold. The reservations
 * are computed exactly (in bytes times percent, millicores times basis
 * points) and only the allocatable result is floored, so no rounding step
 * of ours can make a pod fit that the kubelet would refuse.
 *
 * GKE ("Standard node sizes", cloud.google.com/kubernetes-engine/docs/
 * concepts/plan-node-sizes):
 *   memory: 255 MiB on machines with less than 1 GiB; otherwise 25% of the
 *           first 4 GiB, 20% of the next 4, 10% of the next 8, 6% of the
 *           next 112 and 2% above 128 GiB; eviction threshold 100 MiB.
 *   CPU:    6% of the first core, 1% of the second, 0.5% of the next 2,
 *           0.25% of every core above 4.
 * EKS (the EKS-optimized AMI's bootstrap, which sets kubeReserved):
 *   memory: 255 MiB + 11 MiB per pod the node may run (maxPods);
 *           eviction threshold 100 MiB.
 *   CPU:    GKE's tiers, each tier truncated to whole millicores as the
 *           bootstrap's shell arithmetic does.
 * AKS ("Node resource reservations", learn.microsoft.com/azure/aks/
 * node-resource-reservations):
 *   CPU:    the published table (1 core 60m, 2: 100m, 4: 140m, 8: 180m,
 *           16: 260m, 32: 420m, 64: 740m), which is 60m for the first
 *           core, 40m for the second, 20m for each of the next 2 and 10m
 *           for each above 4; sizes between the table's are interpolated.
 *   memory before 1.29: GKE's tiers (without the small-machine rule) and an
 *           eviction threshold of 750 MiB.
 *   memory from 1.29: the lesser of 20 MiB * maxPods + 50 MiB and 25% of
 *           the memory, and an eviction threshold of 100 MiB. The page says
 *           MB but its worked examples count 1024 MB to the GB, so MiB.
 * none: allocatable = capacity. */

#include "sizing/sizing_internal.h"

struct tier {
	uint64_t upto;		/* end of the tier, in the resource's unit */
	uint64_t rate;		/* per unit, scaled by the caller's scale */
};

/* Sum of rate * (amount inside each tier), exact. */
static uint64_t tiered(uint64_t amount, const struct tier *tiers, size_t n, uint64_t scale,
		       bool truncate_each)
{
	uint64_t from = 0, total = 0;

	for (size_t i = 0; i < n && amount > from; i++) {
		uint64_t to = amount < tiers[i].upto ? amount : tiers[i].upto;
		uint64_t part = (to - from) * tiers[i].rate;

		total += truncate_each ? part / scale * scale : part;
		from = tiers[i].upto;
	}
	return total;
}

#define GIB (UINT64_C(1) << 30)

/* Memory tiers in bytes, rates in percent. */
static const struct tier memory_tiers[] = {
	{ 4 * GIB, 25 }, { 8 * GIB, 20 }, { 16 * GIB, 10 }, { 128 * GIB, 6 }, { UINT64_MAX, 2 },
};

/* CPU tiers in millicores, rates in basis points (1/10000). */
static const struct tier gke_cpu_tiers[] = {
	{ 1000, 600 }, { 2000, 100 }, { 4000, 50 }, { UINT64_MAX, 25 },
};

static const struct tier aks_cpu_tiers[] = {
	{ 1000, 600 }, { 2000, 400 }, { 4000, 200 }, { UINT64_MAX, 100 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static bool aks_new_rules(const struct cde_sizing_cluster *c)
{
	return (c->aks_major == 0 && c->aks_minor == 0) || c->aks_major > 1 ||
	       (c->aks_major == 1 && c->aks_minor >= 29);
}

static uint64_t sub_floor(uint64_t a, uint64_t b, uint64_t scale)
{
	return a > b ? (a - b) / scale : 0;
}

void cde_sizing_allocatable(const struct cde_sizing_cluster *c, uint64_t *ret_cpu_millis,
			    uint64_t *ret_memory_mib)
{
	uint64_t cpu = c->node_cpu_millis, mem = c->node_memory_bytes;
	/* Reservations scaled by 10000 (CPU) and 100 (memory). */
	uint64_t cpu_reserved = 0, mem_reserved = 0;

	/* Clamped so that cpu * 10000 cannot overflow (see sizing.h). */
	if (cpu > (UINT64_C(1) << 40))
		cpu = UINT64_C(1) << 40;
	if (mem > CDE_SIZING_BYTES_MAX)
		mem = CDE_SIZING_BYTES_MAX;
	switch (c->provider) {
	case CDE_SIZING_GKE:
		cpu_reserved = tiered(cpu, gke_cpu_tiers, N(gke_cpu_tiers), 10000, false);
		if (mem < GIB)
			mem_reserved = 255 * CDE_MIB * 100;
		else
			mem_reserved = tiered(mem, memory_tiers, N(memory_tiers), 100, false);
		mem_reserved += 100 * CDE_MIB * 100;
		break;
	case CDE_SIZING_EKS:
		cpu_reserved = tiered(cpu, gke_cpu_tiers, N(gke_cpu_tiers), 10000, true);
		mem_reserved = (255 + 11 * (uint64_t)c->max_pods + 100) * CDE_MIB * 100;
		break;
	case CDE_SIZING_AKS:
		cpu_reserved = tiered(cpu, aks_cpu_tiers, N(aks_cpu_tiers), 10000, false);
		if (aks_new_rules(c)) {
			uint64_t per_pods = (20 * (uint64_t)c->max_pods + 50) * CDE_MIB * 100;
			uint64_t quarter = mem * 25;

			mem_reserved = per_pods < quarter ? per_pods : quarter;
			mem_reserved += 100 * CDE_MIB * 100;
		} else {
			mem_reserved = tiered(mem, memory_tiers, N(memory_tiers), 100, false);
			mem_reserved += 750 * CDE_MIB * 100;
		}
		break;
	case CDE_SIZING_NONE:
		break;
	}
	*ret_cpu_millis = sub_floor(cpu * 10000, cpu_reserved, 10000);
	*ret_memory_mib = sub_floor(mem * 100, mem_reserved, 100 * CDE_MIB);
}

void cde_sizing_demand_of(const struct cde_sizing_pod *pod, const struct cde_sizing_cluster *c,
			  bool with_overhead, struct cde_sizing_demand *ret)
{
	ret->cpu_millis = pod->cpu_request_millis;
	ret->memory_bytes = pod->memory_mib * CDE_MIB;
	if (with_overhead) {
		ret->cpu_millis += c->pod_overhead_cpu_millis;
		ret->memory_bytes += c->pod_overhead_memory_bytes;
	}
}

unsigned cde_sizing_pods_fitting(const struct cde_sizing_demand *d, uint64_t cpu_millis,
				 uint64_t memory_bytes, unsigned max_pods)
{
	uint64_t n = max_pods ? max_pods : UINT32_MAX;

	/* A pod may request no CPU (request.cores "0"); memory is never 0. */
	if (d->cpu_millis && cpu_millis / d->cpu_millis < n)
		n = cpu_millis / d->cpu_millis;
	if (d->memory_bytes && memory_bytes / d->memory_bytes < n)
		n = memory_bytes / d->memory_bytes;
	return (unsigned)n;
}
