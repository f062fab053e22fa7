/* SPDX-License-Identifier: MIT */
/* vfn perf -j THREADS: the benchmark over the block API (cmd-perf-blk.c). */
#ifndef VFN_TOOLS_PERF_BLK_H
#define VFN_TOOLS_PERF_BLK_H

#include <stdbool.h>

/* True if `vfn perf` was given -j/--threads: the block API run takes over. */
bool perf_blk_wanted(int argc, char **argv);

/* Runs `vfn perf -j ...` (@argv[0] "perf").  Returns the exit status (CLI_EXIT_*). */
int cmd_perf_blk(int argc, char **argv);

#endif
