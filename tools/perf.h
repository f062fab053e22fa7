/* SPDX-License-Identifier: MIT */
/* vfn perf: parses its own options (cmd-perf.c). */
#ifndef VFN_TOOLS_PERF_H
#define VFN_TOOLS_PERF_H

/*
 * Runs `vfn perf` with @argv[0] "perf" and its options; prints its help
 * for -h.  Returns the exit status (CLI_EXIT_*).
 */
int cmd_perf(int argc, char **argv);

#endif
