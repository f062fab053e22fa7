/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

enum vfn_log_level vfn_log_level_cur = VFN_LOG_NONE;

static vfn_log_fn log_fn;
static void *log_arg;

static const char *const level_names[] = { "err", "warn", "info", "debug" };

/* VFN_LOG=err|warn|info|debug (or 0..3) sets the initial level. */
__attribute__((constructor)) static void log_init_from_env(void)
{
	const char *v = getenv("VFN_LOG");

	if (!v || !*v)
		return;
	for (int i = 0; i < 4; i++) {
		if (!strcasecmp(v, level_names[i]) || (v[0] == '0' + i && !v[1])) {
			vfn_log_level_cur = (enum vfn_log_level)i;
			return;
		}
	}
}

void vfn_log_set_level(enum vfn_log_level level)
{
	if (level < VFN_LOG_NONE)
		level = VFN_LOG_NONE;
	if (level > VFN_LOG_DEBUG)
		level = VFN_LOG_DEBUG;
	vfn_log_level_cur = level;
}

enum vfn_log_level vfn_log_get_level(void)
{
	return vfn_log_level_cur;
}

void vfn_log_set_fn(vfn_log_fn fn, void *arg)
{
	log_fn = fn;
	log_arg = arg;
}

void vfn_log_emit(enum vfn_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (log_fn) {
		log_fn(level, msg, log_arg);
		return;
	}
	fprintf(stderr, "vfn: %s: %s\n", level_names[level], msg);
}
