#pragma once
/* Shared by merkle.c and merkle_proof.c; not for other layers. */

#include "sinks/audit/tlog/merkle.h"

/* The hash of the tree node over leaves [@begin, @end), @end > @begin, where
 * @begin is a multiple of a power of two >= @end - @begin (every node of an
 * RFC 9162 tree is): popcount(@end - @begin) reads. @out is scratch on
 * failure. 0, -ENOMEM or the reader's error. */
int cde_tlog_range_hash(const struct cde_tlog_reader *r, uint64_t begin, uint64_t end,
			uint8_t out[CDE_TLOG_HASH_LEN]);
