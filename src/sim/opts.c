/* SPDX-License-Identifier: MIT */
/* The device string: "sim:" then comma-separated key=value options. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "support/log.h"

#define SIM_PREFIX "sim:"
#define SIM_NS_MAX_BYTES (1ull << 30) /* RAM per namespace unless nil */

struct opt_u64 {
	const char *key;
	uint64_t min, max;
	size_t off;  /* in struct vfn_sim_opts */
	size_t size; /* 1 (bool), 4 or 8 */
};

#define OPT(k, lo, hi, field)                                                                              \
	{                                                                                                  \
		k, lo, hi, offsetof(struct vfn_sim_opts, field), sizeof(((struct vfn_sim_opts *)0)->field) \
	}

static const struct opt_u64 opt_table[] = {
	OPT("nsze", 1, UINT64_MAX >> 16, nsze),
	OPT("lbads", 9, 16, lbads),
	OPT("nn", 1, 1024, nn),
	OPT("mqes", 1, 0xffff, mqes),
	OPT("mdts", 0, 8, mdts),
	OPT("nil", 0, 1, nil),
	OPT("ttr_ms", 0, 60000, ttr_ms),
	OPT("to", 1, 255, to),
	OPT("never_ready", 0, 1, never_ready),
	OPT("mpsmax", 0, 4, mpsmax),
	OPT("sgls", 0, 2, sgls),
	OPT("rtd3e", 0, UINT32_MAX, rtd3e),
	OPT("shn_ms", 0, 60000, shn_ms),
	OPT("ms", 0, 0xffff, ms),
	OPT("mset", 0, 1, mset),
	OPT("pi", 0, 3, pi),
	OPT("pif", 0, 2, pif),
	OPT("pil", 0, 1, pil),
	OPT("zoned", 0, 1, zoned),
	OPT("zsze", 1, UINT64_MAX >> 16, zsze),
	OPT("zcap", 0, UINT64_MAX >> 16, zcap),
	OPT("mor", 0, UINT32_MAX, mor),
	OPT("mar", 0, UINT32_MAX, mar),
	OPT("shadow_miss", 0, 1, shadow_miss),
	OPT("mptr_sgl", 0, 1, mptr_sgl),
	OPT("zdes", 0, 255, zdes),
	OPT("zrwasz", 0, 0xffff, zrwasz),
	OPT("zrwafg", 0, 0xffff, zrwafg),
	OPT("numzrwa", 0, UINT32_MAX, numzrwa),
	OPT("cmb_mb", 0, 64, cmb_mb),
	OPT("cmb_cqs", 0, 1, cmb_cqs),
	OPT("vectors", 1, VFN_SIM_NR_VECTORS, vectors),
};

static void opts_defaults(struct vfn_sim_opts *o)
{
	*o = (struct vfn_sim_opts){
		.nsze = 8192,
		.lbads = 12,
		.nn = 1,
		.mqes = 1023,
		.mdts = 5,
		.sn = "VFNSIM0001",
		.mpsmax = 4,
		.sgls = 1,
		.zsze = 1024,
		.cmb_cqs = true,
		.vectors = VFN_SIM_NR_VECTORS,
	};
}

/*
 * Parses an unsigned decimal or 0x-hex number filling all of @s (a leading
 * 0 is not octal: "010" is ten).
 */
static int parse_u64(const char *s, size_t len, uint64_t *v)
{
	bool hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	char buf[32], *end;

	if (!len || len >= sizeof(buf) || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*v = strtoull(buf, &end, hex ? 16 : 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static void opt_store(struct vfn_sim_opts *o, const struct opt_u64 *t, uint64_t v)
{
	uint8_t *p = (uint8_t *)o + t->off;

	if (t->size == sizeof(bool))
		*(bool *)p = v != 0;
	else if (t->size == sizeof(uint32_t))
		*(uint32_t *)p = (uint32_t)v;
	else
		*(uint64_t *)p = v;
}

static int opt_sn(struct vfn_sim_opts *o, const char *val, size_t len)
{
	if (!len || len >= sizeof(o->sn)) {
		log_debug("sim: option sn: 1 to %zu characters, got %zu", sizeof(o->sn) - 1, len);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		if (val[i] < 0x21 || val[i] > 0x7e) {
			log_debug("sim: option sn: character 0x%02x is not printable ASCII", (unsigned char)val[i]);
			return -EINVAL;
		}
	}
	memcpy(o->sn, val, len);
	o->sn[len] = '\0';
	return 0;
}

/* One "key=value" item of @len bytes. */
static int opt_item(struct vfn_sim_opts *o, const char *item, size_t len, bool *to_given)
{
	const char *eq = memchr(item, '=', len);
	size_t klen = eq ? (size_t)(eq - item) : len, vlen = eq ? len - klen - 1 : 0;
	uint64_t v;

	if (!eq) {
		log_debug("sim: option '%.*s' has no value", (int)len, item);
		return -EINVAL;
	}
	if (klen == 2 && !memcmp(item, "sn", 2))
		return opt_sn(o, eq + 1, vlen);
	for (size_t i = 0; i < sizeof(opt_table) / sizeof(opt_table[0]); i++) {
		const struct opt_u64 *t = &opt_table[i];

		if (strlen(t->key) != klen || memcmp(t->key, item, klen))
			continue;
		if (parse_u64(eq + 1, vlen, &v) || v < t->min || v > t->max) {
			log_debug("sim: option %s: '%.*s' is not a number in %llu..%llu", t->key, (int)vlen, eq + 1,
				  (unsigned long long)t->min, (unsigned long long)t->max);
			return -EINVAL;
		}
		opt_store(o, t, v);
		*to_given |= !strcmp(t->key, "to");
		return 0;
	}
	log_debug("sim: unknown option '%.*s'", (int)klen, item);
	return -EINVAL;
}

/* Zone Random Write Areas: whole flush units, no more resources than active zones. */
static int zrwa_check(struct vfn_sim_opts *o)
{
	if (!o->zrwasz) {
		if (o->zrwafg || o->numzrwa) {
			log_debug("sim: zrwafg and numzrwa need zrwasz (the ZRWA size)");
			return -EINVAL;
		}
		return 0;
	}
	if (!o->zrwafg)
		o->zrwafg = 1;
	if (!o->numzrwa)
		o->numzrwa = o->mar ? o->mar : (uint32_t)(o->nsze / o->zsze);
	if (o->zrwasz % o->zrwafg || 2ull * o->zrwasz > o->zcap || (o->mar && o->numzrwa > o->mar)) {
		log_debug("sim: zrwasz=%u must be a multiple of zrwafg=%u and at most half of zcap=%llu; numzrwa=%u at "
			  "most mar=%u",
			  o->zrwasz, o->zrwafg, (unsigned long long)o->zcap, o->numzrwa, o->mar);
		return -EINVAL;
	}
	return 0;
}

/* Zone geometry: whole zones, capacity within the size, open limit within the active one. */
static int zoned_check(struct vfn_sim_opts *o)
{
	if (!o->zoned) {
		if (o->zdes || o->zrwasz || o->zrwafg || o->numzrwa) {
			log_debug("sim: zdes, zrwasz, zrwafg and numzrwa need zoned=1");
			return -EINVAL;
		}
		return 0;
	}
	if (!o->zcap)
		o->zcap = o->zsze;
	if (o->nil || o->ms) {
		log_debug("sim: zoned=1 needs the data kept (no nil=1) and no metadata (ms=0)");
		return -EINVAL;
	}
	if (o->zsze > o->nsze || o->nsze % o->zsze || o->zcap > o->zsze) {
		log_debug("sim: zones of %llu blocks (capacity %llu) do not tile a namespace of %llu blocks",
			  (unsigned long long)o->zsze, (unsigned long long)o->zcap, (unsigned long long)o->nsze);
		return -EINVAL;
	}
	/* MOR is at most MAR (ZNS Identify Namespace): no open limit under an active one is that limit. */
	if (o->mar && !o->mor)
		o->mor = o->mar;
	if (o->mar && o->mor > o->mar) {
		log_debug("sim: mor=%u is over mar=%u", o->mor, o->mar);
		return -EINVAL;
	}
	return zrwa_check(o);
}

static int opts_check(struct vfn_sim_opts *o, bool to_given)
{
	if (!to_given)
		o->to = o->ttr_ms / 500 + 1;
	if (!o->nil && o->nsze > SIM_NS_MAX_BYTES >> o->lbads) {
		log_debug("sim: namespace of %llu blocks of %u bytes is over the %llu byte limit (nil=1 lifts it)",
			  (unsigned long long)o->nsze, 1u << o->lbads, SIM_NS_MAX_BYTES);
		return -EINVAL;
	}
	if (o->mptr_sgl && !o->sgls) {
		log_debug("sim: mptr_sgl=1 (metadata SGLs) needs SGL support (sgls=1 or 2)");
		return -EINVAL;
	}
	if (o->pif == 1) {
		log_debug("sim: pif=1 (32-bit guard) is not simulated");
		return -EINVAL;
	}
	if (o->pi && o->ms < (o->pif ? 16u : 8u)) {
		log_debug("sim: pi=%u needs ms >= %u for a %u-bit guard tuple", o->pi, o->pif ? 16 : 8,
			  o->pif ? 64 : 16);
		return -EINVAL;
	}
	return zoned_check(o);
}

int vfn_sim_parse_opts(const char *spec, struct vfn_sim_opts *opts)
{
	const char *p;
	bool to_given = false;
	int ret;

	if (!spec || strncmp(spec, SIM_PREFIX, strlen(SIM_PREFIX))) {
		log_debug("sim: device string does not start with '%s'", SIM_PREFIX);
		return -EINVAL;
	}
	opts_defaults(opts);
	p = spec + strlen(SIM_PREFIX);
	while (*p) {
		size_t len = strcspn(p, ",");

		ret = opt_item(opts, p, len, &to_given);
		if (ret)
			return ret;
		p += len;
		if (*p == ',' && !*++p) {
			log_debug("sim: trailing comma in '%s'", spec);
			return -EINVAL;
		}
	}
	return opts_check(opts, to_given);
}
