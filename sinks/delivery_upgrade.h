#pragma once
/* The delivery engine's part for sinks with `upgrade_to`
 * (sinks/delivery_upgrade.c); shared by the engine's files only. */

#include <stddef.h>
#include <stdint.h>

#include "sinks/delivery_internal.h"

/* Loads the catalog the upgrades check against (opts->catalog_dir, else
 * the default), when a sink of @opts has upgrade_to; nothing otherwise.
 * Returns 0 or -errno with the reason in @err. */
int cde_delivery_upgrade_setup(struct cde_delivery *d, const struct cde_delivery_options *opts, char *err,
			       size_t err_size);

/* Frees what setup made; safe when it made nothing. */
void cde_delivery_upgrade_release(struct cde_delivery *d);

/* The event @s sends for the stored row @seq: @ev itself when @s has no
 * upgrade_to, @ev is 0.5.1 already or has no 0.5.1 form (said in a log
 * line), else its upgraded form. Takes the caller's reference on @ev and
 * returns one on the result. */
struct cde_event *cde_delivery_upgrade(struct sink *s, uint64_t seq, struct cde_event *ev);

/* The releases the per-sink counts are kept for, by index (NULL past
 * CDE_UPGRADE_FROM_MAX). */
const char *cde_delivery_upgrade_release_name(size_t i);
