/* SPDX-License-Identifier: MIT */
/*
 * The "sim:" device string parser, vfn_sim_parse_opts(), on arbitrary
 * strings (no controller is started).  It never reads past the string; it
 * accepts only strings starting with "sim:" whose comma-separated items are
 * all known keys with in-range values; what it accepts is within the
 * documented ranges and equal to what a model of docs/sim.md gives (the
 * defaults, then each item in order; numbers decimal or 0x hex); and the
 * options, printed back as a device string with every key, parse again to
 * the same options.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NS_MAX_BYTES (1ull << 30)

static void check_ranges(const struct vfn_sim_opts *o)
{
	size_t sn_len = strlen(o->sn);

	assert(o->nsze >= 1 && o->nsze <= UINT64_MAX >> 16);
	assert(o->lbads >= 9 && o->lbads <= 16);
	assert(o->nn >= 1 && o->nn <= 1024);
	assert(o->mqes >= 1 && o->mqes <= 0xffff);
	assert(o->mdts <= 8 && o->ttr_ms <= 60000);
	assert(o->to >= 1 && o->to <= 255);
	assert(o->ms <= 0xffff && o->mpsmax <= 4 && o->sgls <= 2 && o->shn_ms <= 60000);
	assert(!o->mptr_sgl || o->sgls); /* metadata SGLs only with SGLs */
	assert(o->cmb_mb <= 64);
	assert(o->nil || o->nsze <= NS_MAX_BYTES >> o->lbads);
	assert(o->pi <= 3 && (o->pif == 0 || o->pif == 2) && (!o->pi || o->ms >= (o->pif ? 16u : 8u)));
	assert(sn_len >= 1 && sn_len < sizeof(o->sn));
	for (size_t i = 0; i < sn_len; i++)
		assert(o->sn[i] >= 0x21 && o->sn[i] <= 0x7e && o->sn[i] != ',');
}

static void check_same(const struct vfn_sim_opts *a, const struct vfn_sim_opts *b)
{
	assert(a->nsze == b->nsze && a->lbads == b->lbads && a->nn == b->nn);
	assert(a->mqes == b->mqes && a->mdts == b->mdts && !strcmp(a->sn, b->sn));
	assert(a->nil == b->nil && a->ttr_ms == b->ttr_ms && a->to == b->to);
	assert(a->never_ready == b->never_ready && a->ms == b->ms && a->mset == b->mset);
	assert(a->mpsmax == b->mpsmax && a->sgls == b->sgls && a->rtd3e == b->rtd3e && a->shn_ms == b->shn_ms);
	assert(a->pi == b->pi && a->pif == b->pif && a->pil == b->pil);
	assert(a->zoned == b->zoned && a->zsze == b->zsze && a->zcap == b->zcap && a->mor == b->mor &&
	       a->mar == b->mar);
	assert(a->shadow_miss == b->shadow_miss);
	assert(a->mptr_sgl == b->mptr_sgl);
	assert(a->zdes == b->zdes && a->zrwasz == b->zrwasz && a->zrwafg == b->zrwafg && a->numzrwa == b->numzrwa);
	assert(a->cmb_mb == b->cmb_mb && a->cmb_cqs == b->cmb_cqs);
	assert(a->vectors == b->vectors);
}

/* Prints @o as a device string with every option and checks it parses to @o again. */
static void check_round_trip(const struct vfn_sim_opts *o)
{
	struct vfn_sim_opts again;
	char spec[640];
	int n = snprintf(spec, sizeof(spec),
			 "sim:nsze=%llu,lbads=%u,nn=%u,mqes=%u,mdts=%u,sn=%s,nil=%d,ttr_ms=%u,to=%u,never_ready=%d,"
			 "ms=%u,mset=%d,mpsmax=%u,sgls=%u,rtd3e=%u,shn_ms=%u,pi=%u,pif=%u,pil=%d,zoned=%d,zsze=%llu,"
			 "zcap=%llu,mor=%u,mar=%u,shadow_miss=%d,mptr_sgl=%d,zdes=%u,zrwasz=%u,zrwafg=%u,numzrwa=%u,"
			 "cmb_mb=%u,cmb_cqs=%d,vectors=%u",
			 (unsigned long long)o->nsze, o->lbads, o->nn, o->mqes, o->mdts, o->sn, o->nil, o->ttr_ms,
			 o->to, o->never_ready, o->ms, o->mset, o->mpsmax, o->sgls, o->rtd3e, o->shn_ms, o->pi, o->pif,
			 o->pil, o->zoned, (unsigned long long)o->zsze, (unsigned long long)o->zcap, o->mor, o->mar,
			 o->shadow_miss, o->mptr_sgl, o->zdes, o->zrwasz, o->zrwafg, o->numzrwa, o->cmb_mb, o->cmb_cqs,
			 o->vectors);

	assert(n > 0 && (size_t)n < sizeof(spec));
	memset(&again, 0x5a, sizeof(again));
	assert(vfn_sim_parse_opts(spec, &again) == 0);
	check_same(&again, o);
}

/* A number as docs/sim.md defines it: decimal, or hex after 0x. */
static uint64_t model_number(const char *v, size_t len)
{
	bool hex = len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
	unsigned int base = hex ? 16 : 10;
	uint64_t n = 0;

	for (size_t i = hex ? 2 : 0; i < len; i++) {
		unsigned int d = v[i] <= '9' ? (unsigned int)(v[i] - '0') : (unsigned int)((v[i] | 0x20) - 'a' + 10);

		assert(d < base);
		assert(n <= (UINT64_MAX - d) / base); /* accepted, so in range: no overflow */
		n = n * base + d;
	}
	return n;
}

static bool key_is(const char *item, size_t klen, const char *key)
{
	return klen == strlen(key) && !memcmp(item, key, klen);
}

/* Applies one item of an accepted string to the model @o. */
static void model_item(struct vfn_sim_opts *o, const char *item, size_t len, bool *to_given)
{
	const char *eq = memchr(item, '=', len);
	size_t klen, vlen;
	uint64_t v;

	assert(eq);
	klen = (size_t)(eq - item);
	vlen = len - klen - 1;
	if (key_is(item, klen, "sn")) {
		memcpy(o->sn, eq + 1, vlen);
		o->sn[vlen] = '\0';
		return;
	}
	v = model_number(eq + 1, vlen);
	if (key_is(item, klen, "nsze"))
		o->nsze = v;
	else if (key_is(item, klen, "lbads"))
		o->lbads = (uint32_t)v;
	else if (key_is(item, klen, "nn"))
		o->nn = (uint32_t)v;
	else if (key_is(item, klen, "mqes"))
		o->mqes = (uint32_t)v;
	else if (key_is(item, klen, "mdts"))
		o->mdts = (uint32_t)v;
	else if (key_is(item, klen, "nil"))
		o->nil = v;
	else if (key_is(item, klen, "ttr_ms"))
		o->ttr_ms = (uint32_t)v;
	else if (key_is(item, klen, "never_ready"))
		o->never_ready = v;
	else if (key_is(item, klen, "mpsmax"))
		o->mpsmax = (uint32_t)v;
	else if (key_is(item, klen, "sgls"))
		o->sgls = (uint32_t)v;
	else if (key_is(item, klen, "rtd3e"))
		o->rtd3e = (uint32_t)v;
	else if (key_is(item, klen, "shn_ms"))
		o->shn_ms = (uint32_t)v;
	else if (key_is(item, klen, "ms"))
		o->ms = (uint32_t)v;
	else if (key_is(item, klen, "mset"))
		o->mset = v;
	else if (key_is(item, klen, "pi"))
		o->pi = (uint32_t)v;
	else if (key_is(item, klen, "pif"))
		o->pif = (uint32_t)v;
	else if (key_is(item, klen, "pil"))
		o->pil = v;
	else if (key_is(item, klen, "to"))
		o->to = (uint32_t)v, *to_given = true;
	else if (key_is(item, klen, "zoned"))
		o->zoned = v;
	else if (key_is(item, klen, "zsze"))
		o->zsze = v;
	else if (key_is(item, klen, "zcap"))
		o->zcap = v;
	else if (key_is(item, klen, "mor"))
		o->mor = (uint32_t)v;
	else if (key_is(item, klen, "mar"))
		o->mar = (uint32_t)v;
	else if (key_is(item, klen, "shadow_miss"))
		o->shadow_miss = v;
	else if (key_is(item, klen, "mptr_sgl"))
		o->mptr_sgl = v;
	else if (key_is(item, klen, "zdes"))
		o->zdes = (uint32_t)v;
	else if (key_is(item, klen, "zrwasz"))
		o->zrwasz = (uint32_t)v;
	else if (key_is(item, klen, "zrwafg"))
		o->zrwafg = (uint32_t)v;
	else if (key_is(item, klen, "numzrwa"))
		o->numzrwa = (uint32_t)v;
	else if (key_is(item, klen, "cmb_mb"))
		o->cmb_mb = (uint32_t)v;
	else if (key_is(item, klen, "cmb_cqs"))
		o->cmb_cqs = v;
	else if (key_is(item, klen, "vectors"))
		o->vectors = (uint32_t)v;
	else
		assert(!"accepted an unknown key");
}

/* The options an accepted string must give: the defaults, then each item in order. */
static void check_model(const char *spec, const struct vfn_sim_opts *got)
{
	struct vfn_sim_opts o = { .nsze = 8192,
				  .lbads = 12,
				  .nn = 1,
				  .mqes = 1023,
				  .mdts = 5,
				  .sn = "VFNSIM0001",
				  .mpsmax = 4,
				  .sgls = 1,
				  .zsze = 1024,
				  .cmb_cqs = true,
				  .vectors = VFN_SIM_NR_VECTORS };
	const char *p = spec + 4;
	bool to_given = false;

	while (*p) {
		size_t len = strcspn(p, ",");

		assert(len > 0);
		model_item(&o, p, len, &to_given);
		p += len;
		if (*p == ',')
			p++;
	}
	if (!to_given)
		o.to = o.ttr_ms / 500 + 1;
	/* Zoned: capacity defaults to the zone size, the open limit to the active one. */
	if (o.zoned && !o.zcap)
		o.zcap = o.zsze;
	if (o.zoned && o.mar && !o.mor)
		o.mor = o.mar;
	/* ZRWA: flush unit 1, resources as active zones (else one per zone). */
	if (o.zoned && o.zrwasz && !o.zrwafg)
		o.zrwafg = 1;
	if (o.zoned && o.zrwasz && !o.numzrwa)
		o.numzrwa = o.mar ? o.mar : (uint32_t)(o.nsze / o.zsze);
	check_same(got, &o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vfn_sim_opts o;
	char *spec = malloc(size + 1); /* exactly the string: ASan sees any overread */
	int ret;

	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	ret = vfn_sim_parse_opts(spec, &o);
	assert(ret == 0 || ret == -EINVAL);
	if (ret == 0) {
		assert(!strncmp(spec, "sim:", 4));
		assert(spec[strlen(spec) - 1] != ',' && !strstr(spec, ",,") && strncmp(spec, "sim:,", 5));
		check_ranges(&o);
		check_model(spec, &o);
		check_round_trip(&o);
	}
	free(spec);
	return 0;
}
