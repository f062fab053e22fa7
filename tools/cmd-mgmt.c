/* SPDX-License-Identifier: MIT */
/*
 * Controller management from the command line, named and optioned as
 * nvme-cli: logs (smart-log, error-log, fw-log, self-test-log,
 * sanitize-log, get-log), features (get-feature, set-feature), namespaces
 * (create-ns, delete-ns, attach-ns, detach-ns, list-ctrl, ns-descs),
 * format, firmware (fw-download, fw-commit), device-self-test, sanitize.
 * Each goes through <vfn/mgmt.h> on any device string; -o json uses
 * nvme-cli's field names.  Destructive commands name what they destroy and
 * ask on a terminal; elsewhere they need --force.
 */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vfn/mgmt.h>

#include "cli.h"

#define MG_MAX_LOG_LEN (16u << 20) /* get-log -l, so that a typo cannot eat memory */

/* Everything any of these commands may be given. */
struct mg_args {
	const char *name, *usage, *dev, *file;
	enum out_fmt fmt;
	bool human, force, have_nsid, rae, save, raw, bpid, ause, oipbp, ndas, have_value;
	uint32_t nsid, log_len, data_len, cdw11, cdw12, ovrpat, timeout_ms;
	uint64_t lpo, nsze, ncap;
	uint32_t lid, lsp, lsi, uuid, csi, fid, sel, lbaf, ses, pi, pil, ms, slot, action, stc, sanact, owpass;
	uint32_t flbas, dps, nmic, entries, xfer, host_gen, data_area;
	bool ctrl_init;
	bool groups_only;
	uint32_t nssf, secp, spsp, tl, size;
	uint16_t ctrls[64];
	unsigned int nr_ctrls;
};

/* ---- option parsing ------------------------------------------------------- */

static int num(struct mg_args *a, const char *opt, uint64_t max, uint64_t *out)
{
	const char *s = optarg;
	int base = 10;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	errno = 0;
	if (*s < '0' || (*s > '9' && !(base == 16 && strchr("abcdefABCDEF", *s)))) {
		errno = EINVAL;
	} else {
		unsigned long long v = strtoull(s, &end, base);

		if (!errno && !*end && v <= max) {
			*out = v;
			return 0;
		}
	}
	errmsg_usage(a->name, a->usage, "bad value '%s' for %s: a number (decimal or 0x hex) up to %llu", optarg, opt,
		     (unsigned long long)max);
	return -EINVAL;
}

static int num32(struct mg_args *a, const char *opt, uint64_t max, uint32_t *out)
{
	uint64_t v;

	if (num(a, opt, max, &v))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* --controllers=1,2,3 */
static int ctrl_list(struct mg_args *a)
{
	char *copy = strdup(optarg), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	a->nr_ctrls = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 0);

		if (*end || v > 0xffff || a->nr_ctrls >= sizeof(a->ctrls) / sizeof(a->ctrls[0]))
			ret = -EINVAL;
		else
			a->ctrls[a->nr_ctrls++] = (uint16_t)v;
	}
	free(copy);
	if (ret || !a->nr_ctrls)
		return errmsg_usage(a->name, a->usage, "bad controller list '%s': CNTLIDs separated by commas", optarg),
		       -EINVAL;
	return 0;
}

enum {
	O_FIRST = 1000,
	O_FORCE,
	O_LOG_ID,
	O_LOG_LEN,
	O_LPO,
	O_LSP,
	O_LSI,
	O_RAE,
	O_UUID_INDEX,
	O_CSI,
	O_RAW_BINARY,
	O_FEATURE_ID,
	O_SEL,
	O_DATA_LEN,
	O_CDW11,
	O_VALUE,
	O_CDW12,
	O_SAVE,
	O_LBAF,
	O_SES,
	O_PI,
	O_PIL,
	O_MS,
	O_TIMEOUT,
	O_NSZE,
	O_NCAP,
	O_FLBAS,
	O_DPS,
	O_NMIC,
	O_CONTROLLERS,
	O_FW,
	O_XFER,
	O_SLOT,
	O_ACTION,
	O_BPID,
	O_SELF_TEST_CODE,
	O_SANACT,
	O_AUSE,
	O_OWPASS,
	O_OIPBP,
	O_OVRPAT,
	O_NO_DEALLOC,
	O_LOG_ENTRIES,
	O_OUTPUT_FILE,
	O_HOST_GENERATE,
	O_CONTROLLER_INIT,
	O_DATA_AREA,
	O_NSSF,
	O_SECP,
	O_SPSP,
	O_TL,
	O_SIZE,
	O_AL,
	O_FILE,
	O_GROUPS_ONLY,
};

static const struct option mg_longs[] = {
	{ "namespace-id", required_argument, NULL, 'n' },
	{ "output-format", required_argument, NULL, 'o' },
	{ "human-readable", no_argument, NULL, 'H' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "force", no_argument, NULL, O_FORCE },
	{ "log-id", required_argument, NULL, O_LOG_ID },
	{ "log-len", required_argument, NULL, O_LOG_LEN },
	{ "lpo", required_argument, NULL, O_LPO },
	{ "lsp", required_argument, NULL, O_LSP },
	{ "lsi", required_argument, NULL, O_LSI },
	{ "rae", no_argument, NULL, O_RAE },
	{ "uuid-index", required_argument, NULL, O_UUID_INDEX },
	{ "csi", required_argument, NULL, O_CSI },
	{ "raw-binary", no_argument, NULL, O_RAW_BINARY },
	{ "feature-id", required_argument, NULL, O_FEATURE_ID },
	{ "sel", required_argument, NULL, O_SEL },
	{ "data-len", required_argument, NULL, O_DATA_LEN },
	{ "cdw11", required_argument, NULL, O_CDW11 },
	{ "value", required_argument, NULL, O_VALUE },
	{ "cdw12", required_argument, NULL, O_CDW12 },
	{ "save", no_argument, NULL, O_SAVE },
	{ "lbaf", required_argument, NULL, O_LBAF },
	{ "ses", required_argument, NULL, O_SES },
	{ "pi", required_argument, NULL, O_PI },
	{ "pil", required_argument, NULL, O_PIL },
	{ "ms", required_argument, NULL, O_MS },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "nsze", required_argument, NULL, O_NSZE },
	{ "ncap", required_argument, NULL, O_NCAP },
	{ "flbas", required_argument, NULL, O_FLBAS },
	{ "dps", required_argument, NULL, O_DPS },
	{ "nmic", required_argument, NULL, O_NMIC },
	{ "controllers", required_argument, NULL, O_CONTROLLERS },
	{ "fw", required_argument, NULL, O_FW },
	{ "xfer", required_argument, NULL, O_XFER },
	{ "slot", required_argument, NULL, O_SLOT },
	{ "action", required_argument, NULL, O_ACTION },
	{ "bpid", no_argument, NULL, O_BPID },
	{ "self-test-code", required_argument, NULL, O_SELF_TEST_CODE },
	{ "sanact", required_argument, NULL, O_SANACT },
	{ "ause", no_argument, NULL, O_AUSE },
	{ "owpass", required_argument, NULL, O_OWPASS },
	{ "oipbp", no_argument, NULL, O_OIPBP },
	{ "ovrpat", required_argument, NULL, O_OVRPAT },
	{ "no-dealloc", no_argument, NULL, O_NO_DEALLOC },
	{ "log-entries", required_argument, NULL, O_LOG_ENTRIES },
	{ "output-file", required_argument, NULL, O_OUTPUT_FILE },
	{ "host-generate", required_argument, NULL, O_HOST_GENERATE },
	{ "controller-init", no_argument, NULL, O_CONTROLLER_INIT },
	{ "data-area", required_argument, NULL, O_DATA_AREA },
	{ "nssf", required_argument, NULL, O_NSSF },
	{ "secp", required_argument, NULL, O_SECP },
	{ "spsp", required_argument, NULL, O_SPSP },
	{ "tl", required_argument, NULL, O_TL },
	{ "size", required_argument, NULL, O_SIZE },
	{ "al", required_argument, NULL, O_AL },
	{ "file", required_argument, NULL, O_FILE },
	{ "groups", no_argument, NULL, O_GROUPS_ONLY },
	{ NULL, 0, NULL, 0 },
};

/* One option; 0, or -EINVAL after a message. */
static int mg_opt(struct mg_args *a, int c)
{
	uint64_t v;

	switch (c) {
	case 'n':
		a->have_nsid = true;
		return num32(a, "-n", UINT32_MAX, &a->nsid);
	case 'o':
		if (out_parse_fmt(optarg, &a->fmt))
			return errmsg_bad_format(optarg), -EINVAL;
		return 0;
	case 'H':
		a->human = true;
		return 0;
	case 'v':
		vfn_log_set_level(VFN_LOG_DEBUG);
		return 0;
	case O_FORCE:
		a->force = true;
		return 0;
	case O_LOG_ID:
		return num32(a, "--log-id", 0xff, &a->lid);
	case O_LOG_LEN:
		return num32(a, "--log-len", MG_MAX_LOG_LEN, &a->log_len);
	case O_LPO:
		return num(a, "--lpo", UINT64_MAX, &a->lpo);
	case O_LSP:
		return num32(a, "--lsp", 0x7f, &a->lsp);
	case O_LSI:
		return num32(a, "--lsi", 0xffff, &a->lsi);
	case O_RAE:
		a->rae = true;
		return 0;
	case O_UUID_INDEX:
		return num32(a, "--uuid-index", 0x7f, &a->uuid);
	case O_CSI:
		return num32(a, "--csi", 0xff, &a->csi);
	case O_RAW_BINARY:
		a->raw = true;
		return 0;
	case O_FEATURE_ID:
		return num32(a, "--feature-id", 0xff, &a->fid);
	case O_SEL:
		return num32(a, "--sel", 3, &a->sel);
	case O_DATA_LEN:
		return num32(a, "--data-len", 4096, &a->data_len);
	case O_CDW11:
		return num32(a, "--cdw11", UINT32_MAX, &a->cdw11);
	case O_VALUE:
		a->have_value = true;
		return num32(a, "--value", UINT32_MAX, &a->cdw11);
	case O_CDW12:
		return num32(a, "--cdw12", UINT32_MAX, &a->cdw12);
	case O_SAVE:
		a->save = true;
		return 0;
	case O_LBAF:
		return num32(a, "--lbaf", 63, &a->lbaf);
	case O_SES:
		return num32(a, "--ses", 7, &a->ses);
	case O_PI:
		return num32(a, "--pi", 7, &a->pi);
	case O_PIL:
		return num32(a, "--pil", 1, &a->pil);
	case O_MS:
		return num32(a, "--ms", 1, &a->ms);
	case O_TIMEOUT:
		return num32(a, "--timeout", UINT32_MAX, &a->timeout_ms);
	case O_NSZE:
		return num(a, "--nsze", UINT64_MAX, &a->nsze);
	case O_NCAP:
		return num(a, "--ncap", UINT64_MAX, &a->ncap);
	case O_FLBAS:
		return num32(a, "--flbas", 0xff, &a->flbas);
	case O_DPS:
		return num32(a, "--dps", 0xff, &a->dps);
	case O_NMIC:
		return num32(a, "--nmic", 0xff, &a->nmic);
	case O_CONTROLLERS:
		return ctrl_list(a);
	case O_FW:
		a->file = optarg;
		return 0;
	case O_XFER:
		return num32(a, "--xfer", 1u << 30, &a->xfer);
	case O_SLOT:
		return num32(a, "--slot", 7, &a->slot);
	case O_ACTION:
		return num32(a, "--action", 7, &a->action);
	case O_BPID:
		a->bpid = true;
		return 0;
	case O_SELF_TEST_CODE:
		return num32(a, "--self-test-code", 0xf, &a->stc);
	case O_SANACT:
		return num32(a, "--sanact", 4, &a->sanact);
	case O_AUSE:
		a->ause = true;
		return 0;
	case O_OWPASS:
		return num32(a, "--owpass", 15, &a->owpass);
	case O_OIPBP:
		a->oipbp = true;
		return 0;
	case O_OVRPAT:
		return num32(a, "--ovrpat", UINT32_MAX, &a->ovrpat);
	case O_NO_DEALLOC:
		a->ndas = true;
		return 0;
	case O_OUTPUT_FILE:
		a->file = optarg;
		return 0;
	case O_HOST_GENERATE:
		return num32(a, "--host-generate", 1, &a->host_gen);
	case O_CONTROLLER_INIT:
		a->ctrl_init = true;
		return 0;
	case O_DATA_AREA:
		return num32(a, "--data-area", 4, &a->data_area);
	case O_NSSF:
		return num32(a, "--nssf", 0xff, &a->nssf);
	case O_SECP:
		return num32(a, "--secp", 0xff, &a->secp);
	case O_SPSP:
		return num32(a, "--spsp", 0xffff, &a->spsp);
	case O_TL:
	case O_AL:
		return num32(a, c == O_TL ? "--tl" : "--al", 1u << 20, &a->tl);
	case O_SIZE:
		return num32(a, "--size", 1u << 20, &a->size);
	case O_FILE:
		a->file = optarg;
		return 0;
	case O_GROUPS_ONLY:
		a->groups_only = true;
		return 0;
	case O_LOG_ENTRIES:
		if (num(a, "--log-entries", 4096, &v))
			return -EINVAL;
		a->entries = (uint32_t)v;
		return 0;
	default:
		return errmsg_usage(a->name, a->usage, "unknown option"), -EINVAL;
	}
}

/* ---- shared helpers ---------------------------------------------------------- */

/* Reports the failure of @what: the exit status. */
static int mg_fail(const struct mg_args *a, const char *what, int ret, const struct vfn_nvme_cqe *cqe)
{
	uint16_t status = cqe ? vfn_nvme_cqe_status(cqe) : 0;

	return errmsg_admin(a->dev, what, ret, ret == -EIO && cqe ? &status : NULL);
}

/*
 * A destructive command goes ahead with --force, or when the user says yes
 * on a terminal.  @what names what it destroys.
 */
static bool mg_confirm(const struct mg_args *a, const char *what)
{
	char line[16];

	if (a->force)
		return true;
	if (!isatty(STDIN_FILENO)) {
		errmsg("%s: %s: %s; not on a terminal to ask: add --force to go ahead", a->name, a->dev, what);
		return false;
	}
	fprintf(stderr, "%s: %s: %s. Proceed? [y/N] ", a->name, a->dev, what);
	if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y')) {
		errmsg("%s: cancelled", a->name);
		return false;
	}
	return true;
}

/*
 * The namespace: -n; else, as nvme-cli, the namespace of a kernel namespace
 * node (a handle that carries I/O); else @dflt (0: -n is required).
 */
static int mg_nsid(struct mg_args *a, struct vfn_dev *dev, uint32_t dflt, uint32_t *nsid)
{
	const struct vfn_dev_info *info = vfn_dev_get_info(dev);

	if (a->have_nsid)
		*nsid = a->nsid;
	else if (info->backend == VFN_DEV_KERNEL && info->io && info->nsid)
		*nsid = info->nsid;
	else if (dflt)
		*nsid = dflt;
	else
		return errmsg_usage(a->name, a->usage, "needs a namespace id (-n NSID): %s is not a namespace node",
				    a->dev);
	return 0;
}

static uint64_t le128(const uint8_t *p)
{
	return vfn_nvme_le128_hi(p) ? UINT64_MAX : vfn_nvme_le128_lo(p);
}

/* ---- logs ----------------------------------------------------------------- */

static int smart_log(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_smart_log s;
	struct vfn_nvme_cqe cqe;
	uint32_t nsid;
	unsigned int temp;
	struct out o;
	int ret;

	nsid = a->have_nsid ? a->nsid : 0xffffffff;
	ret = vfn_dev_smart_log(dev, nsid, &s, &cqe);
	if (ret)
		return mg_fail(a, "Get Log Page SMART / Health Information", ret, &cqe);
	temp = (unsigned int)(s.temperature[0] | s.temperature[1] << 8);
	out_init(&o, a->fmt, a->human, 38);
	out_begin(&o, NULL);
	if (o.fmt == OUT_NORMAL)
		printf("Smart Log for NVME device:%s namespace-id:%x\n", a->dev, nsid);
	if (a->human && o.fmt == OUT_JSON) {
		out_reg_begin(&o, "critical_warning", s.critical_warning, 2);
		out_reg_field(&o, "available_spare", s.critical_warning & 1, NULL);
		out_reg_field(&o, "temp_threshold", (s.critical_warning >> 1) & 1, NULL);
		out_reg_field(&o, "reliability_degraded", (s.critical_warning >> 2) & 1, NULL);
		out_reg_field(&o, "ro", (s.critical_warning >> 3) & 1, NULL);
		out_reg_field(&o, "vmbu_failed", (s.critical_warning >> 4) & 1, NULL);
		out_reg_field(&o, "pmr_ro", (s.critical_warning >> 5) & 1, NULL);
		out_reg_end(&o);
	} else {
		out_x(&o, "critical_warning", s.critical_warning);
	}
	if (o.fmt == OUT_NORMAL)
		printf("%-38s: %d °C (%u K)\n", "temperature", (int)temp - 273, temp);
	else
		out_u(&o, "temperature", temp);
	out_u(&o, "avail_spare", s.avail_spare);
	out_u(&o, "spare_thresh", s.spare_thresh);
	out_u(&o, "percent_used", s.percent_used);
	out_u(&o, "endurance_grp_critical_warning_summary", s.endu_grp_crit_warn_sumry);
	out_u(&o, "data_units_read", le128(s.data_units_read));
	out_u(&o, "data_units_written", le128(s.data_units_written));
	out_u(&o, "host_read_commands", le128(s.host_reads));
	out_u(&o, "host_write_commands", le128(s.host_writes));
	out_u(&o, "controller_busy_time", le128(s.ctrl_busy_time));
	out_u(&o, "power_cycles", le128(s.power_cycles));
	out_u(&o, "power_on_hours", le128(s.power_on_hours));
	out_u(&o, "unsafe_shutdowns", le128(s.unsafe_shutdowns));
	out_u(&o, "media_errors", le128(s.media_errors));
	out_u(&o, "num_err_log_entries", le128(s.num_err_log_entries));
	out_u(&o, "warning_temp_time", vfn_le32_to_cpu(s.warning_temp_time));
	out_u(&o, "critical_comp_time", vfn_le32_to_cpu(s.critical_comp_time));
	for (int i = 0; i < 8; i++) {
		char key[24];

		if (!s.temp_sensor[i])
			continue;
		snprintf(key, sizeof(key), "temperature_sensor_%d", i + 1);
		out_u(&o, key, vfn_le16_to_cpu(s.temp_sensor[i]));
	}
	out_u(&o, "thm_temp1_trans_count", vfn_le32_to_cpu(s.thm_temp1_trans_count));
	out_u(&o, "thm_temp2_trans_count", vfn_le32_to_cpu(s.thm_temp2_trans_count));
	out_u(&o, "thm_temp1_total_time", vfn_le32_to_cpu(s.thm_temp1_total_time));
	out_u(&o, "thm_temp2_total_time", vfn_le32_to_cpu(s.thm_temp2_total_time));
	out_end(&o);
	return CLI_EXIT_OK;
}

static int error_log(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_identify_args ia = { .cns = VFN_NVME_CNS_CTRL };
	struct vfn_nvme_error_log *e;
	struct vfn_nvme_id_ctrl id;
	struct vfn_nvme_cqe cqe;
	unsigned int n = a->entries;
	struct out o;
	int ret;

	if (!n) {
		ret = vfn_dev_identify_args(dev, &ia, &id, sizeof(id), &cqe);
		if (ret)
			return mg_fail(a, "Identify Controller", ret, &cqe);
		n = id.elpe + 1u;
	}
	e = calloc(n, sizeof(*e));
	if (!e)
		return errmsg("%s: out of memory", a->name);
	ret = vfn_dev_error_log(dev, e, n, &cqe);
	if (ret) {
		free(e);
		return mg_fail(a, "Get Log Page Error Information", ret, &cqe);
	}
	out_init(&o, a->fmt, a->human, 20);
	out_begin(&o, NULL);
	if (o.fmt == OUT_NORMAL)
		printf("Error Log Entries for device:%s entries:%u\n", a->dev, n);
	out_list_begin(&o, "errors");
	for (unsigned int i = 0; i < n; i++) {
		uint16_t sf = vfn_le16_to_cpu(e[i].status_field);

		if (o.fmt == OUT_NORMAL)
			printf(" Entry[%2u]\n.................\n", i);
		out_item_begin(&o);
		out_u(&o, "error_count", vfn_le64_to_cpu(e[i].error_count));
		out_u(&o, "sqid", vfn_le16_to_cpu(e[i].sqid));
		out_u(&o, "cmdid", vfn_le16_to_cpu(e[i].cmdid));
		out_x(&o, "status_field", sf >> 1);
		if (a->human && o.fmt == OUT_NORMAL && (sf >> 1))
			printf("%-20s  (%s)\n", "", vfn_nvme_status_str(sf >> 1));
		out_u(&o, "phase_tag", sf & 1);
		out_x(&o, "parm_error_location", vfn_le16_to_cpu(e[i].parm_error_location));
		out_u(&o, "lba", vfn_le64_to_cpu(e[i].lba));
		out_u(&o, "nsid", vfn_le32_to_cpu(e[i].nsid));
		out_u(&o, "vs", e[i].vs);
		out_u(&o, "trtype", e[i].trtype);
		out_u(&o, "cs", vfn_le64_to_cpu(e[i].cs));
		out_u(&o, "trtype_spec_info", vfn_le16_to_cpu(e[i].trtype_spec_info));
		out_item_end(&o);
	}
	out_list_end(&o);
	out_end(&o);
	free(e);
	return CLI_EXIT_OK;
}

/* The key nvme-cli puts a device's logs under: the node's name ("nvme0"), else the device string. */
static const char *dev_key(const char *dev)
{
	const char *slash = strrchr(dev, '/');

	return cli_is_path(dev) && slash && slash[1] ? slash + 1 : dev;
}

/*
 * A firmware revision as nvme-cli shows it: the 8 bytes as a little-endian
 * number, then each byte that is a graphic ASCII character, '.' for any
 * other (spaces included).
 */
static void frs_str(const char *frs, char *buf, size_t len)
{
	uint64_t v = 0;
	char txt[9];

	for (int i = 7; i >= 0; i--)
		v = v << 8 | (uint8_t)frs[i];
	for (int i = 0; i < 8; i++)
		txt[i] = frs[i] >= '!' && frs[i] <= '~' ? frs[i] : '.';
	txt[8] = '\0';
	snprintf(buf, len, "%llu (%s)", (unsigned long long)v, txt);
}

static int fw_log(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_fw_slot_log fw;
	struct vfn_nvme_cqe cqe;
	char key[32], val[48];
	struct json j;
	int ret = vfn_dev_fw_slot_log(dev, &fw, &cqe);

	if (ret)
		return mg_fail(a, "Get Log Page Firmware Slot Information", ret, &cqe);
	if (a->fmt == OUT_JSON) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_obj_begin(&j, dev_key(a->dev));
		json_u64(&j, "Active Firmware Slot (afi)", fw.afi);
		for (int i = 0; i < 7; i++) {
			if (!fw.frs[i][0])
				continue;
			snprintf(key, sizeof(key), "Firmware Rev Slot %d", i + 1);
			frs_str(fw.frs[i], val, sizeof(val));
			json_str(&j, key, val);
		}
		json_obj_end(&j);
		json_obj_end(&j);
		json_finish(&j);
		return CLI_EXIT_OK;
	}
	printf("Firmware Log for device:%s\n", a->dev);
	printf("afi  : %#x\n", fw.afi);
	if (a->human)
		printf("  [2:0] : %u\tActive slot\n  [6:4] : %u\tSlot activated at the next reset (0: none)\n",
		       fw.afi & 7u, (fw.afi >> 4) & 7u);
	for (int i = 0; i < 7; i++) {
		if (!fw.frs[i][0])
			continue;
		frs_str(fw.frs[i], val, sizeof(val));
		printf("frs%d : %s\n", i + 1, val);
	}
	return CLI_EXIT_OK;
}

static const char *dst_result_str(unsigned int r)
{
	static const char *const s[] = {
		"Operation completed without error",
		"Operation was aborted by a Device Self-test command",
		"Operation was aborted by a Controller Level Reset",
		"Operation was aborted due to a removal of a namespace from the namespace inventory",
		"Operation was aborted due to the processing of a Format NVM command",
		"A fatal error or unknown test error occurred",
		"Operation completed with a segment that failed and the segment that failed is not known",
		"Operation completed with one or more failed segments",
	};

	return r < sizeof(s) / sizeof(s[0]) ? s[r] : r == 0xf ? "Entry not used" : "Reserved";
}

static int self_test_log(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_self_test_log st;
	struct vfn_nvme_cqe cqe;
	struct out o;
	int ret = vfn_dev_self_test_log(dev, &st, &cqe);

	if (ret)
		return mg_fail(a, "Get Log Page Device Self-test", ret, &cqe);
	out_init(&o, a->fmt, a->human, 36);
	out_begin(&o, NULL);
	if (o.fmt == OUT_NORMAL)
		printf("Device Self Test Log for NVME device:%s\n", a->dev);
	out_u(&o, "Current Device Self-Test Operation", st.current_operation);
	out_u(&o, "Current Device Self-Test Completion", st.completion);
	out_list_begin(&o, "List of Valid Reports");
	for (int i = 0; i < 20; i++) {
		const struct vfn_nvme_st_result *r = &st.result[i];

		if (o.fmt == OUT_NORMAL && (r->dsts & 0xf) == 0xf)
			continue;
		if (o.fmt == OUT_NORMAL)
			printf("Self Test Result[%d]:\n", i);
		out_item_begin(&o);
		out_u(&o, "Self test result", r->dsts & 0xf);
		if (a->human && o.fmt == OUT_NORMAL)
			printf("%-36s  (%s)\n", "", dst_result_str(r->dsts & 0xf));
		if ((r->dsts & 0xf) != 0xf) {
			out_u(&o, "Self test code", r->dsts >> 4);
			out_u(&o, "Segment number", r->seg);
			out_u(&o, "Valid Diagnostic Information", r->vdi);
			out_u(&o, "Power on hours", vfn_le64_to_cpu(r->poh));
			if (r->vdi & 1)
				out_u(&o, "Namespace Identifier", vfn_le32_to_cpu(r->nsid));
			if (r->vdi & 2)
				out_u(&o, "Failing LBA", vfn_le64_to_cpu(r->flba));
			if (r->vdi & 4)
				out_u(&o, "Status Code Type", r->sct);
			if (r->vdi & 8)
				out_u(&o, "Status Code", r->sc);
		}
		out_item_end(&o);
	}
	out_list_end(&o);
	out_end(&o);
	return CLI_EXIT_OK;
}

static const char *sstat_str(unsigned int s)
{
	switch (s & 7) {
	case VFN_NVME_SSTAT_NEVER:
		return "NVM Subsystem has never been sanitized.";
	case VFN_NVME_SSTAT_COMPLETED:
		return "The most recent sanitize operation completed successfully.";
	case VFN_NVME_SSTAT_IN_PROGRESS:
		return "A sanitize operation is currently in progress.";
	case VFN_NVME_SSTAT_FAILED:
		return "The most recent sanitize operation failed.";
	case VFN_NVME_SSTAT_COMPLETED_NDI:
		return "The most recent sanitize operation for which No-Deallocate After Sanitize was requested "
		       "has completed successfully with deallocation of all logical blocks.";
	default:
		return "Unknown";
	}
}

static int sanitize_log(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_sanitize_log l;
	struct vfn_nvme_cqe cqe;
	struct json j;
	char status[160];
	uint16_t sstat;
	int ret = vfn_dev_sanitize_log(dev, &l, &cqe);

	if (ret)
		return mg_fail(a, "Get Log Page Sanitize Status", ret, &cqe);
	sstat = vfn_le16_to_cpu(l.sstat);
	snprintf(status, sizeof(status), "(%u) %s", sstat & 7u, sstat_str(sstat));
	if (a->fmt == OUT_JSON) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_obj_begin(&j, dev_key(a->dev));
		json_u64(&j, "sprog", vfn_le16_to_cpu(l.sprog));
		json_obj_begin(&j, "sstat");
		json_u64(&j, "global_erased", (sstat >> 8) & 1);
		json_u64(&j, "no_cmplted_passes", (sstat >> 3) & 0x1f);
		json_str(&j, "status", status);
		json_obj_end(&j);
		json_u64(&j, "cdw10_info", vfn_le32_to_cpu(l.scdw10));
		json_u64(&j, "time_over_write", vfn_le32_to_cpu(l.eto));
		json_u64(&j, "time_block_erase", vfn_le32_to_cpu(l.etbe));
		json_u64(&j, "time_crypto_erase", vfn_le32_to_cpu(l.etce));
		json_u64(&j, "time_over_write_no_dealloc", vfn_le32_to_cpu(l.etond));
		json_u64(&j, "time_block_erase_no_dealloc", vfn_le32_to_cpu(l.etbend));
		json_u64(&j, "time_crypto_erase_no_dealloc", vfn_le32_to_cpu(l.etcend));
		json_obj_end(&j);
		json_obj_end(&j);
		json_finish(&j);
		return CLI_EXIT_OK;
	}
	printf("Sanitize Progress                      (SPROG) :  %u\n", vfn_le16_to_cpu(l.sprog));
	printf("Sanitize Status                        (SSTAT) :  %#x\n", sstat);
	if (a->human)
		printf("\t[2:0]\t%s\n\t[7:3]\tNumber of completed passes: %u\n\t[8]\tGlobal data erased: %u\n",
		       sstat_str(sstat), (sstat >> 3) & 0x1fu, (sstat >> 8) & 1u);
	printf("Sanitize Command Dword 10 Information (SCDW10) :  %#x\n", vfn_le32_to_cpu(l.scdw10));
	printf("Estimated Time For Overwrite                   :  %u\n", vfn_le32_to_cpu(l.eto));
	printf("Estimated Time For Block Erase                 :  %u\n", vfn_le32_to_cpu(l.etbe));
	printf("Estimated Time For Crypto Erase                :  %u\n", vfn_le32_to_cpu(l.etce));
	return CLI_EXIT_OK;
}

static int effects_log(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_cmd_effects_log *l = malloc(sizeof(*l));
	struct vfn_nvme_cqe cqe;
	char key[96];
	struct json j;
	int ret;

	if (!l)
		return errmsg("%s: out of memory", a->name);
	ret = vfn_dev_cmd_effects_log(dev, l, &cqe);
	if (ret) {
		free(l);
		return mg_fail(a, "Get Log Page Commands Supported and Effects", ret, &cqe);
	}
	if (a->fmt == OUT_JSON) {
		json_init(&j, stdout);
		json_arr_begin(&j, NULL);
		json_obj_begin(&j, NULL);
		json_u64(&j, "command_set_identifier", a->csi);
		for (int set = 0; set < 2; set++) {
			json_obj_begin(&j, set ? "io_cmd_set" : "admin_cmd_set");
			for (unsigned int op = 0; op < 256; op++) {
				uint32_t e = vfn_le32_to_cpu(set ? l->iocs[op] : l->acs[op]);

				if (!(e & VFN_NVME_CMD_EFFECTS_CSUPP))
					continue;
				snprintf(key, sizeof(key), "%s_%u (%s)", set ? "IOCS" : "ACS", op,
					 vfn_nvme_opcode_str(!set, (uint8_t)op));
				json_u64(&j, key, e);
			}
			json_obj_end(&j);
		}
		json_obj_end(&j);
		json_arr_end(&j);
		json_finish(&j);
		free(l);
		return CLI_EXIT_OK;
	}
	printf("%s Log Page for NVME device:%s\n", "Commands Supported and Effects", a->dev);
	for (int set = 0; set < 2; set++) {
		printf("%s Command Set\n", set ? "I/O" : "Admin");
		for (unsigned int op = 0; op < 256; op++) {
			uint32_t e = vfn_le32_to_cpu(set ? l->iocs[op] : l->acs[op]);

			if (!(e & VFN_NVME_CMD_EFFECTS_CSUPP))
				continue;
			printf("%s%-3u [%-40s] %08x", set ? "IOCS" : "ACS", op, vfn_nvme_opcode_str(!set, (uint8_t)op),
			       e);
			if (a->human)
				printf("%s%s%s%s", e & VFN_NVME_CMD_EFFECTS_LBCC ? " LBCC" : "",
				       e & VFN_NVME_CMD_EFFECTS_NCC ? " NCC" : "",
				       e & VFN_NVME_CMD_EFFECTS_NIC ? " NIC" : "",
				       e & VFN_NVME_CMD_EFFECTS_CCC ? " CCC" : "");
			printf("\n");
		}
	}
	free(l);
	return CLI_EXIT_OK;
}

static int changed_ns_list_log(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_ns_list l;
	struct vfn_nvme_cqe cqe;
	char key[16], val[16];
	struct json j;
	int ret = vfn_dev_changed_ns_log(dev, &l, &cqe);

	if (ret)
		return mg_fail(a, "Get Log Page Changed Namespace List", ret, &cqe);
	if (vfn_le32_to_cpu(l.nsid[0]) == 0xffffffff) {
		printf("more than 1024 namespaces changed\n");
		return CLI_EXIT_OK;
	}
	if (a->fmt == OUT_JSON) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "Changed Attached Namespace List Log", dev_key(a->dev));
		json_obj_begin(&j, dev_key(a->dev));
		for (int i = 0; i < 1024 && l.nsid[i]; i++) {
			snprintf(key, sizeof(key), "[%4d]", i + 1);
			snprintf(val, sizeof(val), "%#x", vfn_le32_to_cpu(l.nsid[i]));
			json_str(&j, key, val);
		}
		json_obj_end(&j);
		json_obj_end(&j);
		json_finish(&j);
		return CLI_EXIT_OK;
	}
	printf("Changed Attached Namespace List Log for NVME device:%s\n", a->dev);
	for (int i = 0; i < 1024 && l.nsid[i]; i++)
		printf("[%4d]:%#x\n", i + 1, vfn_le32_to_cpu(l.nsid[i]));
	return CLI_EXIT_OK;
}

/* A fixed-width spec string (not NUL-terminated), its padding spaces trimmed, into @buf. */
static const char *spec_str(char *buf, size_t size, const char *s, size_t len)
{
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\0'))
		len--;
	snprintf(buf, size, "%.*s", (int)len, s);
	return buf;
}

static int persistent_event_log(struct mg_args *a, struct vfn_dev *dev)
{
	const struct vfn_nvme_pel_hdr *h;
	const struct vfn_nvme_pel_event *e;
	struct vfn_nvme_cqe cqe;
	char sn[21], mn[41], nqn[257];
	uint8_t *log = NULL;
	size_t len = 0, off;
	struct json j;
	uint32_t tnev;
	int ret = vfn_dev_persistent_event_log(dev, (void **)&log, &len, &cqe);

	if (ret == -EPROTO)
		return errmsg("%s: the controller's Persistent Event Log header gives no valid length (TLL)", a->name);
	if (ret)
		return mg_fail(a, "Get Log Page Persistent Event", ret, &cqe);
	h = (const void *)log;
	tnev = vfn_le32_to_cpu(h->tnev);
	spec_str(sn, sizeof(sn), h->sn, sizeof(h->sn));
	spec_str(mn, sizeof(mn), h->mn, sizeof(h->mn));
	spec_str(nqn, sizeof(nqn), h->subnqn, sizeof(h->subnqn));
	if (a->fmt == OUT_JSON) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_u64(&j, "log_id", h->lid);
		json_u64(&j, "total_num_of_events", tnev);
		json_u64(&j, "total_log_len", vfn_le64_to_cpu(h->tll));
		json_u64(&j, "log_revision", h->lrv);
		json_u64(&j, "log_header_len", vfn_le16_to_cpu(h->lhl));
		json_u64(&j, "timestamp", vfn_le64_to_cpu(h->ts));
		json_u64(&j, "power_on_hours", vfn_nvme_le128_lo(h->poh));
		json_u64(&j, "power_cycle_count", vfn_le64_to_cpu(h->pcc));
		json_u64(&j, "pci_vid", vfn_le16_to_cpu(h->vid));
		json_u64(&j, "pci_ssvid", vfn_le16_to_cpu(h->ssvid));
		json_str(&j, "sn", sn);
		json_str(&j, "mn", mn);
		json_str(&j, "subnqn", nqn);
		json_u64(&j, "gen_number", vfn_le16_to_cpu(h->gen));
		json_u64(&j, "rci", vfn_le32_to_cpu(h->rci));
		json_arr_begin(&j, "list_of_event_entries");
		off = sizeof(*h);
		for (uint32_t i = 0; i < tnev && (e = vfn_nvme_pel_next(log, len, &off)); i++) {
			json_obj_begin(&j, NULL);
			json_u64(&j, "event_number", i);
			json_str(&j, "event_type", vfn_nvme_pel_type_str(e->etype));
			json_u64(&j, "event_type_rev", e->etype_rev);
			json_u64(&j, "event_header_len", e->ehl);
			json_u64(&j, "event_header_additional_info", e->ehai);
			json_u64(&j, "ctrl_id", vfn_le16_to_cpu(e->cntlid));
			json_u64(&j, "event_time_stamp", vfn_le64_to_cpu(e->ets));
			json_u64(&j, "port_id", vfn_le16_to_cpu(e->pelpid));
			json_u64(&j, "vu_info_len", vfn_le16_to_cpu(e->vsil));
			json_u64(&j, "event_len", vfn_le16_to_cpu(e->el));
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
		free(log);
		return CLI_EXIT_OK;
	}
	printf("Persistent Event Log for device: %s\n", a->dev);
	printf("Log Identifier: %u\n", h->lid);
	printf("Total Number of Events: %u\n", tnev);
	printf("Total Log Length : %" PRIu64 "\n", vfn_le64_to_cpu(h->tll));
	printf("Log Revision: %u\n", h->lrv);
	printf("Log Header Length: %u\n", vfn_le16_to_cpu(h->lhl));
	printf("Timestamp: %" PRIu64 "\n", vfn_le64_to_cpu(h->ts));
	printf("Power On Hours (POH): %" PRIu64 "\n", vfn_nvme_le128_lo(h->poh));
	printf("Power Cycle Count: %" PRIu64 "\n", vfn_le64_to_cpu(h->pcc));
	printf("PCI Vendor ID (VID): %u\n", vfn_le16_to_cpu(h->vid));
	printf("PCI Subsystem Vendor ID (SSVID): %u\n", vfn_le16_to_cpu(h->ssvid));
	printf("Serial Number (SN): %s\n", sn);
	printf("Model Number (MN): %s\n", mn);
	printf("NVM Subsystem NVMe Qualified Name (SUBNQN): %s\n", nqn);
	printf("Generation Number: %u\n", vfn_le16_to_cpu(h->gen));
	printf("Reporting Context Information (RCI): %u\n", vfn_le32_to_cpu(h->rci));
	if (a->human) {
		printf("Supported Events Bitmap:\n");
		for (unsigned int t = 0; t < 256; t++)
			if (h->seb[t / 8] & (1u << (t % 8)))
				printf("\t%#04x\t%s\n", t, vfn_nvme_pel_type_str((uint8_t)t));
	}
	printf("\nPersistent Event Entries:\n");
	off = sizeof(*h);
	for (uint32_t i = 0; i < tnev && (e = vfn_nvme_pel_next(log, len, &off)); i++) {
		printf("Event Number: %u\n", i);
		printf("Event Type: %s (%#04x)\n", vfn_nvme_pel_type_str(e->etype), e->etype);
		printf("Event Type Revision: %u\n", e->etype_rev);
		printf("Event Header Length: %u\n", e->ehl);
		printf("Controller Identifier: %u\n", vfn_le16_to_cpu(e->cntlid));
		printf("Event Timestamp: %" PRIu64 "\n", vfn_le64_to_cpu(e->ets));
		printf("Port Identifier: %u\n", vfn_le16_to_cpu(e->pelpid));
		printf("Vendor Specific Information Length: %u\n", vfn_le16_to_cpu(e->vsil));
		printf("Event Length: %u\n\n", vfn_le16_to_cpu(e->el));
	}
	free(log);
	return CLI_EXIT_OK;
}

static int ana_log(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_identify_args ia = { .cns = VFN_NVME_CNS_CTRL };
	const struct vfn_nvme_ana_log *h;
	const struct vfn_nvme_ana_group *g;
	struct vfn_nvme_id_ctrl id;
	struct vfn_nvme_cqe cqe;
	size_t len, off;
	uint8_t *log;
	struct json j;
	uint16_t ngrps;
	int ret = vfn_dev_identify_args(dev, &ia, &id, sizeof(id), &cqe);

	if (ret)
		return mg_fail(a, "Identify Controller", ret, &cqe);
	/* As nvme-cli sizes it: the header, NANAGRPID groups and (without --groups) NN namespace ids. */
	len = sizeof(*h) + (size_t)(vfn_le32_to_cpu(id.nanagrpid) ? vfn_le32_to_cpu(id.nanagrpid) : 1) * sizeof(*g) +
	      (a->groups_only ? 0 : 4 * (size_t)vfn_le32_to_cpu(id.nn));
	if (len > (1u << 24))
		len = 1u << 24;
	log = calloc(1, len);
	if (!log)
		return errmsg("%s: out of memory", a->name);
	ret = vfn_dev_ana_log(dev, a->groups_only, log, len, &cqe);
	if (ret) {
		free(log);
		return mg_fail(a, "Get Log Page Asymmetric Namespace Access", ret, &cqe);
	}
	h = (const void *)log;
	ngrps = vfn_le16_to_cpu(h->ngrps);
	if (a->fmt == OUT_JSON) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "Asymmetric Namespace Access Log for NVMe device", dev_key(a->dev));
		json_u64(&j, "chgcnt", vfn_le64_to_cpu(h->chgcnt));
		json_u64(&j, "ngrps", ngrps);
		json_arr_begin(&j, "ANA DESC LIST ");
		off = sizeof(*h);
		for (unsigned int i = 0; i < ngrps && (g = vfn_nvme_ana_next(log, len, a->groups_only, &off)); i++) {
			vfn_le32 v;

			json_obj_begin(&j, NULL);
			json_u64(&j, "grpid", vfn_le32_to_cpu(g->grpid));
			json_u64(&j, "nnsids", vfn_le32_to_cpu(g->nnsids));
			json_u64(&j, "chgcnt", vfn_le64_to_cpu(g->chgcnt));
			json_str(&j, "state", vfn_nvme_ana_state_str(g->state));
			json_arr_begin(&j, "NSIDS");
			for (uint32_t k = 0; !a->groups_only && k < vfn_le32_to_cpu(g->nnsids); k++) {
				memcpy(&v, (const uint8_t *)(g + 1) + 4 * k, 4);
				json_obj_begin(&j, NULL);
				json_u64(&j, "nsid", vfn_le32_to_cpu(v));
				json_obj_end(&j);
			}
			json_arr_end(&j);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		json_finish(&j);
		free(log);
		return CLI_EXIT_OK;
	}
	printf("Asymmetric Namespace Access Log for NVMe device: %s\n", a->dev);
	printf("ANA LOG HEADER :-\n");
	printf("chgcnt\t:\t%" PRIu64 "\n", vfn_le64_to_cpu(h->chgcnt));
	printf("ngrps\t:\t%u\n", ngrps);
	printf("ANA Log Desc :-\n");
	off = sizeof(*h);
	for (unsigned int i = 0; i < ngrps && (g = vfn_nvme_ana_next(log, len, a->groups_only, &off)); i++) {
		vfn_le32 v;

		printf("grpid\t:\t%u\n", vfn_le32_to_cpu(g->grpid));
		printf("nnsids\t:\t%u\n", vfn_le32_to_cpu(g->nnsids));
		printf("chgcnt\t:\t%" PRIu64 "\n", vfn_le64_to_cpu(g->chgcnt));
		printf("state\t:\t%s\n", vfn_nvme_ana_state_str(g->state));
		for (uint32_t k = 0; !a->groups_only && k < vfn_le32_to_cpu(g->nnsids); k++) {
			memcpy(&v, (const uint8_t *)(g + 1) + 4 * k, 4);
			printf("\t%u\n", vfn_le32_to_cpu(v));
		}
	}
	free(log);
	return CLI_EXIT_OK;
}

static int telemetry_log(struct mg_args *a, struct vfn_dev *dev)
{
	unsigned int da = a->data_area ? a->data_area : 3;
	struct vfn_nvme_cqe cqe;
	void *log = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	if (!a->file)
		return errmsg_usage(a->name, a->usage, "needs the output file (-o FILE)");
	ret = vfn_dev_telemetry_log(dev, !a->ctrl_init, a->host_gen == 1, da, &log, &len, &cqe);
	if (ret)
		return mg_fail(a,
			       a->ctrl_init ? "Get Log Page Telemetry Controller-Initiated"
					    : "Get Log Page Telemetry Host-Initiated",
			       ret, &cqe);
	f = fopen(a->file, "wb");
	if (!f || fwrite(log, 1, len, f) != len || fclose(f)) {
		ret = errno;
		free(log);
		return errmsg("%s: cannot write %s: %s", a->name, a->file, strerror(ret));
	}
	free(log);
	printf("Telemetry %s log, data area %u: %zu bytes to %s\n",
	       a->ctrl_init ? "controller-initiated" : "host-initiated", da, len, a->file);
	return CLI_EXIT_OK;
}

static void hexdump(const uint8_t *p, size_t len);

static int security_send(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_cqe cqe;
	uint8_t *buf = NULL;
	size_t len = 0;
	int ret;

	if (a->file) {
		FILE *f = fopen(a->file, "rb");

		buf = calloc(1, 1u << 20);
		if (!f || !buf) {
			ret = errno;
			free(buf);
			if (f)
				fclose(f);
			return errmsg("%s: cannot read %s: %s", a->name, a->file, strerror(ret));
		}
		len = fread(buf, 1, 1u << 20, f);
		fclose(f);
	}
	if (a->tl && a->tl < len)
		len = a->tl;
	ret = vfn_dev_security_send(dev, a->nsid, (uint8_t)a->secp, (uint16_t)a->spsp, (uint8_t)a->nssf, buf, len,
				    &cqe);
	free(buf);
	if (ret)
		return mg_fail(a, "Security Send", ret, &cqe);
	printf("NVME Security Send Command Success\n");
	return CLI_EXIT_OK;
}

static int security_recv(struct mg_args *a, struct vfn_dev *dev)
{
	size_t len = a->size ? a->size : a->tl;
	struct vfn_nvme_cqe cqe;
	uint8_t *buf;
	int ret;

	if (!len)
		return errmsg_usage(a->name, a->usage, "needs the size to receive (-x BYTES)");
	buf = calloc(1, len);
	if (!buf)
		return errmsg("%s: out of memory", a->name);
	ret = vfn_dev_security_recv(dev, a->nsid, (uint8_t)a->secp, (uint16_t)a->spsp, (uint8_t)a->nssf, buf, len,
				    &cqe);
	if (ret) {
		free(buf);
		return mg_fail(a, "Security Receive", ret, &cqe);
	}
	if (a->raw) {
		fwrite(buf, 1, len, stdout);
	} else {
		printf("NVME Security Receive Command Success\n");
		hexdump(buf, len);
	}
	free(buf);
	return CLI_EXIT_OK;
}

static void hexdump(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i += 16) {
		printf("%04zx:", i);
		for (size_t k = i; k < i + 16 && k < len; k++)
			printf(" %02x", p[k]);
		printf("\n");
	}
}

static int get_log(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_log_args l = {
		.lid = (uint8_t)a->lid,
		.lsp = (uint8_t)a->lsp,
		.rae = a->rae,
		.lsi = (uint16_t)a->lsi,
		.uuid_idx = (uint8_t)a->uuid,
		.csi = (uint8_t)a->csi,
		.nsid = a->have_nsid ? a->nsid : 0xffffffff,
		.offset = a->lpo,
	};
	struct vfn_nvme_cqe cqe;
	uint8_t *buf;
	int ret;

	if (!a->log_len || a->log_len % 4)
		return errmsg_usage(a->name, a->usage, "--log-len must be a multiple of 4 and not 0");
	buf = calloc(1, a->log_len);
	if (!buf)
		return errmsg("%s: out of memory", a->name);
	ret = vfn_dev_log_page(dev, &l, buf, a->log_len, &cqe);
	if (ret == -EINVAL) {
		free(buf);
		return errmsg("%s: log page 0x%02x is %zu bytes: %u at offset %llu do not fit", a->name, a->lid,
			      vfn_nvme_log_size((uint8_t)a->lid), a->log_len, (unsigned long long)a->lpo);
	}
	if (ret) {
		free(buf);
		return mg_fail(a, "Get Log Page", ret, &cqe);
	}
	if (a->raw) {
		fwrite(buf, 1, a->log_len, stdout);
	} else {
		printf("Device:%s log-id:%u namespace-id:%#x\n", a->dev, a->lid, l.nsid);
		hexdump(buf, a->log_len);
	}
	free(buf);
	return CLI_EXIT_OK;
}

/* ---- features --------------------------------------------------------------- */

static const char *feat_name(uint32_t fid)
{
	switch (fid) {
	case VFN_NVME_FEAT_ARBITRATION:
		return "Arbitration";
	case VFN_NVME_FEAT_POWER_MGMT:
		return "Power Management";
	case VFN_NVME_FEAT_LBA_RANGE:
		return "LBA Range Type";
	case VFN_NVME_FEAT_TEMP_THRESH:
		return "Temperature Threshold";
	case VFN_NVME_FEAT_ERR_RECOVERY:
		return "Error Recovery";
	case VFN_NVME_FEAT_VOLATILE_WC:
		return "Volatile Write Cache";
	case VFN_NVME_FEAT_NUM_QUEUES:
		return "Number of Queues";
	case VFN_NVME_FEAT_IRQ_COALESCE:
		return "Interrupt Coalescing";
	case VFN_NVME_FEAT_IRQ_CONFIG:
		return "Interrupt Vector Configuration";
	case VFN_NVME_FEAT_WRITE_ATOMIC:
		return "Write Atomicity Normal";
	case VFN_NVME_FEAT_ASYNC_EVENT:
		return "Asynchronous Event Configuration";
	case VFN_NVME_FEAT_AUTO_PST:
		return "Autonomous Power State Transition";
	case VFN_NVME_FEAT_HOST_MEM_BUF:
		return "Host Memory Buffer";
	case VFN_NVME_FEAT_TIMESTAMP:
		return "Timestamp";
	case VFN_NVME_FEAT_KEEP_ALIVE:
		return "Keep Alive Timer";
	case VFN_NVME_FEAT_HCTM:
		return "Host Controlled Thermal Management";
	case VFN_NVME_FEAT_HOST_BEHAVIOR:
		return "Host Behavior Support";
	default:
		return "Unknown";
	}
}

/* The fields of the standard features' DW0 (NVMe Base 2.0, 5.27.1), for -H. */
static const struct {
	uint8_t fid, hi, lo;
	const char *name;
} feat_fields[] = {
	{ VFN_NVME_FEAT_ARBITRATION, 31, 24, "High Priority Weight (HPW)" },
	{ VFN_NVME_FEAT_ARBITRATION, 23, 16, "Medium Priority Weight (MPW)" },
	{ VFN_NVME_FEAT_ARBITRATION, 15, 8, "Low Priority Weight (LPW)" },
	{ VFN_NVME_FEAT_ARBITRATION, 2, 0, "Arbitration Burst (AB)" },
	{ VFN_NVME_FEAT_POWER_MGMT, 7, 5, "Workload Hint (WH)" },
	{ VFN_NVME_FEAT_POWER_MGMT, 4, 0, "Power State (PS)" },
	{ VFN_NVME_FEAT_TEMP_THRESH, 21, 20, "Threshold Type Select (THSEL)" },
	{ VFN_NVME_FEAT_TEMP_THRESH, 19, 16, "Threshold Temperature Select (TMPSEL)" },
	{ VFN_NVME_FEAT_TEMP_THRESH, 15, 0, "Temperature Threshold (TMPTH), K" },
	{ VFN_NVME_FEAT_ERR_RECOVERY, 16, 16, "Deallocated or Unwritten Logical Block Error Enable (DULBE)" },
	{ VFN_NVME_FEAT_ERR_RECOVERY, 15, 0, "Time Limited Error Recovery (TLER), 100 ms" },
	{ VFN_NVME_FEAT_VOLATILE_WC, 0, 0, "Volatile Write Cache Enable (WCE)" },
	{ VFN_NVME_FEAT_NUM_QUEUES, 31, 16, "Number of I/O Completion Queues Allocated (NCQA), 0's based" },
	{ VFN_NVME_FEAT_NUM_QUEUES, 15, 0, "Number of I/O Submission Queues Allocated (NSQA), 0's based" },
	{ VFN_NVME_FEAT_IRQ_COALESCE, 15, 8, "Aggregation Time (TIME), 100 us" },
	{ VFN_NVME_FEAT_IRQ_COALESCE, 7, 0, "Aggregation Threshold (THR), 0's based" },
	{ VFN_NVME_FEAT_IRQ_CONFIG, 16, 16, "Coalescing Disable (CD)" },
	{ VFN_NVME_FEAT_IRQ_CONFIG, 15, 0, "Interrupt Vector (IV)" },
	{ VFN_NVME_FEAT_WRITE_ATOMIC, 0, 0, "Disable Normal (DN)" },
	{ VFN_NVME_FEAT_ASYNC_EVENT, 31, 31, "Discovery Log Page Change Notices" },
	{ VFN_NVME_FEAT_ASYNC_EVENT, 14, 14, "Endurance Group Event Aggregate Log Change Notices" },
	{ VFN_NVME_FEAT_ASYNC_EVENT, 13, 13, "LBA Status Information Notices" },
	{ VFN_NVME_FEAT_ASYNC_EVENT, 12, 12, "Predictable Latency Event Aggregate Log Change Notices" },
	{ VFN_NVME_FEAT_ASYNC_EVENT, 11, 11, "Asymmetric Namespace Access Change Notices" },
	{ VFN_NVME_FEAT_ASYNC_EVENT, 10, 10, "Telemetry Log Notices" },
	{ VFN_NVME_FEAT_ASYNC_EVENT, 9, 9, "Firmware Activation Notices" },
	{ VFN_NVME_FEAT_ASYNC_EVENT, 8, 8, "Namespace Attribute Notices" },
	{ VFN_NVME_FEAT_ASYNC_EVENT, 7, 0, "SMART / Health Critical Warnings" },
	{ VFN_NVME_FEAT_AUTO_PST, 0, 0, "Autonomous Power State Transition Enable (APSTE)" },
	{ VFN_NVME_FEAT_KEEP_ALIVE, 31, 0, "Keep Alive Timeout (KATO), ms" },
	{ VFN_NVME_FEAT_HCTM, 31, 16, "Thermal Management Temperature 1 (TMT1), K" },
	{ VFN_NVME_FEAT_HCTM, 15, 0, "Thermal Management Temperature 2 (TMT2), K" },
	{ VFN_NVME_FEAT_NOPSC, 0, 0, "Non-Operational Power State Permissive Mode Enable (NOPPME)" },
};

/* -H: the fields of @v for feature @fid (nothing for a feature not in the table). */
static void feat_decode(struct out *o, uint32_t fid, uint32_t v)
{
	for (size_t i = 0; i < sizeof(feat_fields) / sizeof(feat_fields[0]); i++) {
		unsigned int hi = feat_fields[i].hi, lo = feat_fields[i].lo;
		uint32_t mask = hi - lo == 31 ? 0xffffffffu : ((1u << (hi - lo + 1)) - 1);
		uint32_t f = (v >> lo) & mask;

		if (feat_fields[i].fid != fid)
			continue;
		if (o->fmt == OUT_JSON)
			out_u(o, feat_fields[i].name, f);
		else if (hi == lo)
			printf("\t[%u]\t%s: %u\n", hi, feat_fields[i].name, f);
		else
			printf("\t[%u:%u]\t%s: %u (%#x)\n", hi, lo, feat_fields[i].name, f, f);
	}
	if (o->fmt == OUT_NORMAL && fid == VFN_NVME_FEAT_TEMP_THRESH)
		printf("\t\t= %d °C\n", (int)(v & 0xffff) - 273);
}

static int get_feature(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_feat_args f = {
		.fid = (uint8_t)a->fid, .sel = (uint8_t)a->sel, .nsid = a->nsid, .cdw11 = a->cdw11, .cdw14 = a->uuid
	};
	uint8_t buf[4096];
	struct vfn_nvme_cqe cqe;
	uint32_t result = 0;
	struct out o;
	int ret;

	if (!a->fid)
		return errmsg_usage(a->name, a->usage, "needs a feature id (-f FID)");
	ret = vfn_dev_get_feature(dev, &f, &result, a->data_len ? buf : NULL, a->data_len, &cqe);
	if (ret)
		return mg_fail(a, "Get Features", ret, &cqe);
	out_init(&o, a->fmt, a->human, 12);
	if (o.fmt == OUT_NORMAL) {
		printf("get-feature:%#04x (%s), %s value:0x%08x\n", a->fid, feat_name(a->fid),
		       a->sel == 0   ? "Current"
		       : a->sel == 1 ? "Default"
		       : a->sel == 2 ? "Saved"
				     : "Supported capabilities",
		       result);
		if (a->human && a->sel == VFN_NVME_FEAT_SEL_SUPPORTED)
			printf("\tsaveable: %u, namespace specific: %u, changeable: %u\n", result & 1,
			       (result >> 1) & 1, (result >> 2) & 1);
		else if (a->human)
			feat_decode(&o, a->fid, result);
		if (a->data_len)
			hexdump(buf, a->data_len);
		return CLI_EXIT_OK;
	}
	out_begin(&o, NULL);
	out_u(&o, "feature_id", a->fid);
	out_u(&o, "sel", a->sel);
	out_u(&o, "value", result);
	if (a->human && a->sel != VFN_NVME_FEAT_SEL_SUPPORTED)
		feat_decode(&o, a->fid, result);
	out_end(&o);
	return CLI_EXIT_OK;
}

static int set_feature(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_feat_args f = { .fid = (uint8_t)a->fid,
				   .sv = a->save,
				   .nsid = a->nsid,
				   .cdw11 = a->cdw11,
				   .cdw12 = a->cdw12,
				   .cdw14 = a->uuid };
	struct vfn_nvme_cqe cqe;
	uint32_t result = 0;
	struct out o;
	int ret;

	if (!a->fid)
		return errmsg_usage(a->name, a->usage, "needs a feature id (-f FID)");
	ret = vfn_dev_set_feature(dev, &f, &result, NULL, 0, &cqe);
	if (ret)
		return mg_fail(a, "Set Features", ret, &cqe);
	out_init(&o, a->fmt, a->human, 12);
	if (o.fmt == OUT_NORMAL) {
		printf("set-feature:%#04x (%s), value:0x%08x, cdw12:0x%08x, save:%d\n", a->fid, feat_name(a->fid),
		       a->cdw11, a->cdw12, a->save);
		return CLI_EXIT_OK;
	}
	out_begin(&o, NULL);
	out_u(&o, "feature_id", a->fid);
	out_u(&o, "value", a->cdw11);
	out_u(&o, "result", result);
	out_end(&o);
	return CLI_EXIT_OK;
}

/* ---- namespaces, format ------------------------------------------------------ */

static int format_nvm(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_format_args f = { .lbaf = (uint8_t)a->lbaf,
				     .mset = a->ms,
				     .pi = (uint8_t)a->pi,
				     .pil = a->pil,
				     .ses = (uint8_t)a->ses,
				     .timeout_ms = a->timeout_ms };
	struct vfn_nvme_cqe cqe;
	char what[160];
	int ret = mg_nsid(a, dev, 0xffffffff, &f.nsid);

	if (ret)
		return ret;
	if (f.nsid == 0xffffffff)
		snprintf(what, sizeof(what), "format every namespace to LBA format %u: ALL DATA WILL BE LOST", a->lbaf);
	else
		snprintf(what, sizeof(what), "format namespace %u to LBA format %u: ITS DATA WILL BE LOST", f.nsid,
			 a->lbaf);
	if (!mg_confirm(a, what))
		return CLI_EXIT_USAGE;
	ret = vfn_dev_format(dev, &f, &cqe);
	if (ret)
		return mg_fail(a, "Format NVM", ret, &cqe);
	printf("Success formatting namespace:%x\n", f.nsid);
	return CLI_EXIT_OK;
}

static int create_ns(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_id_ns ns;
	struct vfn_nvme_cqe cqe;
	uint32_t nsid = 0;
	int ret;

	if (!a->nsze)
		return errmsg_usage(a->name, a->usage, "needs --nsze (blocks)");
	memset(&ns, 0, sizeof(ns));
	ns.nsze = vfn_cpu_to_le64(a->nsze);
	ns.ncap = vfn_cpu_to_le64(a->ncap ? a->ncap : a->nsze);
	ns.flbas = (uint8_t)a->flbas;
	ns.dps = (uint8_t)a->dps;
	ns.nmic = (uint8_t)a->nmic;
	ret = vfn_dev_ns_create(dev, &ns, (uint8_t)a->csi, &nsid, &cqe);
	if (ret)
		return mg_fail(a, "Namespace Management (create)", ret, &cqe);
	printf("create-ns: Success, created nsid:%u\n", nsid);
	return CLI_EXIT_OK;
}

static int delete_ns(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_cqe cqe;
	char what[96];
	uint32_t nsid = 0;
	int ret = mg_nsid(a, dev, 0, &nsid);

	if (ret)
		return ret;
	snprintf(what, sizeof(what), "delete namespace %u and all its data", nsid);
	if (!mg_confirm(a, what))
		return CLI_EXIT_USAGE;
	ret = vfn_dev_ns_delete(dev, nsid, &cqe);
	if (ret)
		return mg_fail(a, "Namespace Management (delete)", ret, &cqe);
	printf("delete-ns: Success, deleted nsid:%u\n", nsid);
	return CLI_EXIT_OK;
}

static int attach_detach(struct mg_args *a, struct vfn_dev *dev, bool detach)
{
	struct vfn_nvme_cqe cqe;
	uint16_t self;
	uint32_t nsid = 0;
	int ret = mg_nsid(a, dev, 0, &nsid);

	if (ret)
		return ret;
	if (!a->nr_ctrls) { /* nvme-cli: the controller the command goes to */
		self = vfn_dev_get_info(dev)->cntlid;
		a->ctrls[0] = self;
		a->nr_ctrls = 1;
	}
	ret = vfn_dev_ns_attach(dev, nsid, detach, a->ctrls, a->nr_ctrls, &cqe);
	if (ret)
		return mg_fail(a, detach ? "Namespace Attachment (detach)" : "Namespace Attachment (attach)", ret,
			       &cqe);
	printf("%s: Success, nsid:%u\n", a->name, nsid);
	return CLI_EXIT_OK;
}

static int attach_ns(struct mg_args *a, struct vfn_dev *dev)
{
	return attach_detach(a, dev, false);
}

static int detach_ns(struct mg_args *a, struct vfn_dev *dev)
{
	return attach_detach(a, dev, true);
}

static int list_ctrl(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_identify_args ia = { .cns = a->have_nsid ? VFN_NVME_CNS_NS_CTRL_LIST : VFN_NVME_CNS_CTRL_LIST,
					.nsid = a->nsid };
	struct vfn_nvme_ctrl_list cl;
	struct vfn_nvme_cqe cqe;
	struct out o;
	uint16_t n;
	int ret = vfn_dev_identify_args(dev, &ia, &cl, sizeof(cl), &cqe);

	if (ret)
		return mg_fail(a, "Identify Controller List", ret, &cqe);
	n = vfn_le16_to_cpu(cl.num);
	n = n > 2047 ? 2047 : n;
	out_init(&o, a->fmt, a->human, 8);
	if (o.fmt == OUT_NORMAL) {
		printf("num of ctrls present: %u\n", n);
		for (unsigned int i = 0; i < n; i++)
			printf("[%4u]:%#x\n", i, vfn_le16_to_cpu(cl.identifier[i]));
		return CLI_EXIT_OK;
	}
	out_begin(&o, NULL);
	out_u(&o, "num_ctrl", n);
	out_list_begin(&o, "ctrl_list");
	for (unsigned int i = 0; i < n; i++) {
		out_item_begin(&o);
		out_u(&o, "ctrl_id", vfn_le16_to_cpu(cl.identifier[i]));
		out_item_end(&o);
	}
	out_list_end(&o);
	out_end(&o);
	return CLI_EXIT_OK;
}

static int ns_descs(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_identify_args ia = { .cns = VFN_NVME_CNS_NS_DESC_LIST };
	uint8_t buf[4096];
	struct vfn_nvme_cqe cqe;
	struct out o;
	int ret = mg_nsid(a, dev, 0, &ia.nsid);

	if (ret)
		return ret;
	ret = vfn_dev_identify_args(dev, &ia, buf, sizeof(buf), &cqe);
	if (ret)
		return mg_fail(a, "Identify Namespace Identification Descriptor list", ret, &cqe);
	out_init(&o, a->fmt, a->human, 6);
	out_begin(&o, NULL);
	if (o.fmt == OUT_NORMAL)
		printf("NVME Namespace Identification Descriptors NS %u:\n", ia.nsid);
	for (size_t off = 0; off + 4 <= sizeof(buf);) {
		struct vfn_nvme_ns_id_desc desc; /* copied: a descriptor may start at any byte (NIDL is free) */
		const struct vfn_nvme_ns_id_desc *d = &desc;
		const uint8_t *nid = buf + off + 4;
		char hex[80] = "";

		memcpy(&desc, buf + off, sizeof(desc));
		if (!d->nidt || off + 4 + d->nidl > sizeof(buf) || d->nidl > 32)
			break;
		if (d->nidt == VFN_NVME_NIDT_UUID && d->nidl == 16) {
			snprintf(hex, sizeof(hex),
				 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", nid[0], nid[1],
				 nid[2], nid[3], nid[4], nid[5], nid[6], nid[7], nid[8], nid[9], nid[10], nid[11],
				 nid[12], nid[13], nid[14], nid[15]);
		} else {
			for (unsigned int i = 0; i < d->nidl; i++)
				snprintf(hex + 2 * i, sizeof(hex) - 2 * i, "%02x", nid[i]);
		}
		switch (d->nidt) {
		case VFN_NVME_NIDT_EUI64:
			out_s(&o, "eui64", hex, sizeof(hex));
			break;
		case VFN_NVME_NIDT_NGUID:
			out_s(&o, "nguid", hex, sizeof(hex));
			break;
		case VFN_NVME_NIDT_UUID:
			out_s(&o, "uuid", hex, sizeof(hex));
			break;
		case VFN_NVME_NIDT_CSI:
			out_u(&o, "csi", nid[0]);
			break;
		default:
			break;
		}
		off += 4 + d->nidl;
	}
	out_end(&o);
	return CLI_EXIT_OK;
}

/* ---- firmware, self-test, sanitize ------------------------------------------ */

static int fw_download(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_cqe cqe;
	FILE *f;
	uint8_t *img;
	long len;
	int ret;

	if (!a->file)
		return errmsg_usage(a->name, a->usage, "needs the image (--fw FILE)");
	f = fopen(a->file, "rb");
	if (!f)
		return errmsg("%s: cannot open %s: %s", a->name, a->file, strerror(errno));
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) <= 0 || len % 4 || len > (1l << 30) || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return errmsg("%s: %s: an image must be a non-empty multiple of 4 bytes (up to 1 GiB)", a->name,
			      a->file);
	}
	img = malloc((size_t)len);
	if (!img || fread(img, 1, (size_t)len, f) != (size_t)len) {
		free(img);
		fclose(f);
		return errmsg("%s: cannot read %s", a->name, a->file);
	}
	fclose(f);
	ret = vfn_dev_fw_download(dev, img, (size_t)len, a->xfer, &cqe);
	free(img);
	if (ret == -EINVAL)
		return errmsg_usage(a->name, a->usage, "--xfer must be a multiple of 4");
	if (ret)
		return mg_fail(a, "Firmware Image Download", ret, &cqe);
	printf("Firmware download success\n");
	return CLI_EXIT_OK;
}

static int fw_commit(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_cqe cqe;
	char what[128];
	uint16_t sc;
	int ret;

	if (a->action != VFN_NVME_FW_COMMIT_CA_REPLACE) {
		snprintf(what, sizeof(what), "activate the firmware in slot %u (commit action %u)", a->slot, a->action);
		if (!mg_confirm(a, what))
			return CLI_EXIT_USAGE;
	}
	ret = vfn_dev_fw_commit(dev, (uint8_t)a->slot, (uint8_t)a->action, a->bpid, &cqe);
	sc = vfn_nvme_cqe_status(&cqe) & 0x7ff;
	if (ret == -EIO && (sc == VFN_NVME_SC_FW_NEEDS_CONV_RESET || sc == VFN_NVME_SC_FW_NEEDS_SUBSYS_RESET ||
			    sc == VFN_NVME_SC_FW_NEEDS_RESET)) {
		printf("Success committing firmware action:%u slot:%u, but a reset is required: %s\n", a->action,
		       a->slot, vfn_nvme_status_str(sc));
		return CLI_EXIT_OK;
	}
	if (ret)
		return mg_fail(a, "Firmware Commit", ret, &cqe);
	printf("Success committing firmware action:%u slot:%u\n", a->action, a->slot);
	return CLI_EXIT_OK;
}

static int device_self_test(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_cqe cqe;
	uint32_t nsid = a->have_nsid ? a->nsid : 0xffffffff;
	int ret;

	if (!a->stc)
		return errmsg_usage(a->name, a->usage, "needs --self-test-code (1 short, 2 extended, 0xf abort)");
	ret = vfn_dev_self_test(dev, nsid, (uint8_t)a->stc, &cqe);
	if (ret)
		return mg_fail(a, "Device Self-test", ret, &cqe);
	if (a->stc == VFN_NVME_DST_ABORT)
		printf("Aborting device self-test operation\n");
	else
		printf("%s device self-test started\n", a->stc == VFN_NVME_DST_SHORT ? "Short" : "Extended");
	return CLI_EXIT_OK;
}

static int sanitize(struct mg_args *a, struct vfn_dev *dev)
{
	struct vfn_sanitize_args s = { .sanact = (uint8_t)a->sanact,
				       .ause = a->ause,
				       .owpass = (uint8_t)a->owpass,
				       .oipbp = a->oipbp,
				       .ndas = a->ndas,
				       .ovrpat = a->ovrpat };
	struct vfn_nvme_cqe cqe;
	int ret;

	if (!a->sanact)
		return errmsg_usage(a->name, a->usage,
				    "needs --sanact (1 exit failure, 2 block erase, 3 overwrite, "
				    "4 crypto erase)");
	if (a->sanact != VFN_NVME_SANACT_EXIT_FAILURE &&
	    !mg_confirm(a, "sanitize the whole NVM subsystem: EVERY NAMESPACE'S DATA WILL BE LOST"))
		return CLI_EXIT_USAGE;
	ret = vfn_dev_sanitize(dev, &s, &cqe);
	if (ret)
		return mg_fail(a, "Sanitize", ret, &cqe);
	printf("Sanitize started (sanact %u); follow it with `vfn sanitize-log %s`\n", a->sanact, a->dev);
	return CLI_EXIT_OK;
}

/* ---- the commands ------------------------------------------------------------ */

struct mg_entry {
	const char *name;
	int (*run)(struct mg_args *a, struct vfn_dev *dev);
	const char *shorts;
	const char *usage;
};

/* Short options per command, as nvme-cli gives them: "letter=long-name ..." */
static const struct mg_entry mg_cmds[] = {
	{ "smart-log", smart_log, "", "DEVICE [-n NSID] [-o normal|json] [-H]" },
	{ "error-log", error_log, "e=log-entries", "DEVICE [-e ENTRIES] [-o normal|json] [-H]" },
	{ "fw-log", fw_log, "", "DEVICE [-o normal|json] [-H]" },
	{ "self-test-log", self_test_log, "", "DEVICE [-o normal|json] [-H]" },
	{ "sanitize-log", sanitize_log, "", "DEVICE [-o normal|json] [-H]" },
	{ "effects-log", effects_log, "", "DEVICE [-o normal|json] [-H]" },
	{ "changed-ns-list-log", changed_ns_list_log, "", "DEVICE [-o normal|json]" },
	{ "persistent-event-log", persistent_event_log, "", "DEVICE [-o normal|json] [-H]" },
	{ "ana-log", ana_log, "g=groups", "DEVICE [-g] [-o normal|json]" },
	{ "security-send", security_send, "f=file N=nssf p=secp s=spsp t=tl",
	  "DEVICE [-n NSID] -p SECP -s SPSP [-N NSSF] [-f FILE] [-t TL]" },
	{ "security-recv", security_recv, "x=size N=nssf p=secp s=spsp t=al b=raw-binary",
	  "DEVICE [-n NSID] -p SECP -s SPSP [-N NSSF] -x SIZE [-b]" },
	{ "telemetry-log", telemetry_log, "o=output-file g=host-generate c=controller-init d=data-area",
	  "DEVICE -o FILE [-g 0|1] [-c] [-d 1-4]" },
	{ "get-log", get_log, "i=log-id l=log-len L=lpo s=lsp S=lsi r=rae U=uuid-index y=csi b=raw-binary",
	  "DEVICE -i LID -l LEN [-n NSID] [-L OFFSET] [-s LSP] [-S LSI] [-r] [-U UUID] [-y CSI] [-b]" },
	{ "get-feature", get_feature, "f=feature-id s=sel l=data-len c=cdw11 U=uuid-index",
	  "DEVICE -f FID [-n NSID] [-s SEL] [-c CDW11] [-l LEN] [-U UUID] [-o normal|json] [-H]" },
	{ "set-feature", set_feature, "f=feature-id V=value c=cdw12 s=save U=uuid-index",
	  "DEVICE -f FID -V VALUE [-n NSID] [-c CDW12] [-s] [-o normal|json]" },
	{ "format", format_nvm, "l=lbaf s=ses i=pi p=pil m=ms t=timeout",
	  "DEVICE [-n NSID] [-l LBAF] [-s SES] [-i PI] [-p 0|1] [-m 0|1] [-t MS] [--force]" },
	{ "create-ns", create_ns, "s=nsze c=ncap f=flbas d=dps m=nmic y=csi",
	  "DEVICE -s NSZE [-c NCAP] [-f FLBAS] [-d DPS] [-m NMIC] [-y CSI]" },
	{ "delete-ns", delete_ns, "", "DEVICE -n NSID [--force]" },
	{ "attach-ns", attach_ns, "c=controllers", "DEVICE -n NSID [-c CNTLID,...]" },
	{ "detach-ns", detach_ns, "c=controllers", "DEVICE -n NSID [-c CNTLID,...]" },
	{ "list-ctrl", list_ctrl, "", "DEVICE [-n NSID] [-o normal|json]" },
	{ "ns-descs", ns_descs, "", "DEVICE -n NSID [-o normal|json]" },
	{ "fw-download", fw_download, "f=fw x=xfer", "DEVICE -f FILE [-x XFER]" },
	{ "fw-commit", fw_commit, "s=slot a=action b=bpid", "DEVICE [-s SLOT] [-a ACTION] [-b] [--force]" },
	{ "device-self-test", device_self_test, "s=self-test-code", "DEVICE [-n NSID] -s 1|2|0xf" },
	{ "sanitize", sanitize, "a=sanact u=ause n=owpass i=oipbp p=ovrpat d=no-dealloc",
	  "DEVICE -a 1-4 [-u] [-n OWPASS] [-i] [-p PATTERN] [-d] [--force]" },
};

/* The long option @name. */
static const struct option *mg_long(const char *name, size_t len)
{
	for (const struct option *o = mg_longs; o->name; o++)
		if (strlen(o->name) == len && !strncmp(o->name, name, len))
			return o;
	return NULL;
}

/*
 * The getopt string of @e into @buf, and @map[c]: the long option value a
 * short letter @c stands for in this command.
 */
static void mg_shorts(const struct mg_entry *e, char *buf, size_t len, int map[128])
{
	const char *p = e->shorts;
	size_t n;

	memset(map, 0, 128 * sizeof(map[0]));
	n = (size_t)snprintf(buf, len, "+Hvh");
	if (!strstr(e->shorts, "n="))
		n += (size_t)snprintf(buf + n, len - n, "n:");
	if (!strstr(e->shorts, "o="))
		n += (size_t)snprintf(buf + n, len - n, "o:");
	while (*p) {
		const char *name = p + 2, *end = strchr(name, ' ');
		size_t nlen = end ? (size_t)(end - name) : strlen(name);
		const struct option *o = mg_long(name, nlen);

		if (o && n + 3 < len) {
			map[(unsigned char)p[0]] = o->val;
			buf[n++] = p[0];
			if (o->has_arg)
				buf[n++] = ':';
			buf[n] = '\0';
		}
		p = end ? end + 1 : name + nlen;
	}
}

int cmd_mgmt(int argc, char **argv)
{
	const struct mg_entry *e = NULL;
	struct mg_args a = { .name = argv[0] };
	char shorts[64];
	int map[128];
	struct vfn_dev *dev;
	int c, ret;

	for (size_t i = 0; i < sizeof(mg_cmds) / sizeof(mg_cmds[0]); i++)
		if (!strcmp(mg_cmds[i].name, argv[0]))
			e = &mg_cmds[i];
	if (!e)
		return errmsg_unknown_cmd(argv[0]);
	a.usage = e->usage;
	mg_shorts(e, shorts, sizeof(shorts), map);
	optind = 1;
	opterr = 0; /* one message, ours */
	while (optind < argc) {
		c = getopt_long(argc, argv, shorts, mg_longs, NULL);
		if (c == -1) { /* a positional argument: the device, wherever it is */
			if (a.dev)
				return errmsg_usage(a.name, a.usage, "unexpected argument '%s'", argv[optind]);
			a.dev = argv[optind++];
			continue;
		}
		if (c == 'h') {
			printf("usage: vfn %s %s\n", e->name, e->usage);
			return CLI_EXIT_OK;
		}
		if (c == '?')
			return errmsg_usage(a.name, a.usage, "unknown option '%s'", argv[optind - 1]);
		if (c > 0 && c < 128 && map[c])
			c = map[c];
		if (mg_opt(&a, c))
			return CLI_EXIT_USAGE;
	}
	if (!a.dev)
		return errmsg_usage(a.name, a.usage, "needs a device");
	ret = cli_dev_open(a.dev, NULL, &dev);
	if (ret)
		return ret;
	ret = e->run(&a, dev);
	vfn_dev_close(dev);
	return ret;
}
