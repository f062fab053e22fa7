/* SPDX-License-Identifier: MIT */
/*
 * Internal logging macros.  Each costs one predictable branch when logging
 * is off: the level check happens before any argument is evaluated.
 */
#ifndef VFN_SRC_SUPPORT_LOG_H
#define VFN_SRC_SUPPORT_LOG_H

#include <vfn/support.h>

/* Current level; read directly by the macros below.  Hidden (not exported). */
extern enum vfn_log_level vfn_log_level_cur;

void vfn_log_emit(enum vfn_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define vfn_log_at(level, ...)                                            \
	do {                                                              \
		if (vfn_unlikely((int)(level) <= (int)vfn_log_level_cur)) \
			vfn_log_emit((level), __VA_ARGS__);               \
	} while (0)

#define log_err(...) vfn_log_at(VFN_LOG_ERR, __VA_ARGS__)
#define log_warn(...) vfn_log_at(VFN_LOG_WARN, __VA_ARGS__)
#define log_info(...) vfn_log_at(VFN_LOG_INFO, __VA_ARGS__)
#define log_debug(...) vfn_log_at(VFN_LOG_DEBUG, __VA_ARGS__)

#endif
