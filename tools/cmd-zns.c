/* SPDX-License-Identifier: MIT */
/*
 * vfn zns SUBCOMMAND: zoned namespaces from the command line, named and
 * optioned as nvme-cli's zns plugin: id-ctrl, id-ns, report-zones,
 * zone-mgmt-send, open-zone / close-zone / finish-zone / reset-zone /
 * offline-zone (also zone-open, zone-close, zone-finish, zone-reset,
 * zone-offline), zone-append, set-zone-desc (a zone descriptor extension;
 * report-zones -e shows them) and zrwa-flush-zone (open-zone -r allocates
 * a Zone Random Write Area).  Everything goes through <vfn/zns.h>;
 * zone errors are printed by their specification names.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vfn/mgmt.h>
#include <vfn/zns.h>

#include "cli.h"

#define ZN_USAGE "SUBCOMMAND DEVICE [OPTIONS]"

struct zn_args {
	const char *name, *usage, *dev, *data;
	char cmdname[32]; /* "zns SUBCOMMAND", for the usage line of errors */
	enum out_fmt fmt;
	bool have_nsid, all, partial, have_zsa, extended, zrwa, have_lba, have_slba;
	uint32_t nsid, descs, zsa, state, size;
	uint64_t slba, lba;
};

struct zn_cmd {
	const char *name;
	int (*run)(struct zn_args *a, struct vfn_dev *dev);
	uint8_t zsa; /* the open/close/... shorthands: their action */
	const char *usage;
	const char *help;
};

static int zn_fail(const struct zn_args *a, const char *what, int ret, const struct vfn_nvme_cqe *cqe)
{
	uint16_t status = vfn_nvme_cqe_status(cqe);

	/* A zone command the controller does not know: the namespace is not zoned. */
	if (ret == -EIO && (status & 0x7ff) == VFN_NVME_SC_INVALID_OPCODE)
		return errmsg("%s failed on %s: Invalid Command Opcode (status 0x001): namespace %u is not a zoned "
			      "namespace here; check with `vfn zns id-ns %s -n %u`",
			      what, a->dev, a->nsid, a->dev, a->nsid);

	return errmsg_admin(a->dev, what, ret, ret == -EIO ? &status : NULL);
}

/* -n, else the namespace of the kernel node the device was opened on. */
static int zn_nsid(struct zn_args *a, struct vfn_dev *dev, uint32_t *nsid)
{
	const struct vfn_dev_info *info = vfn_dev_get_info(dev);

	if (a->have_nsid)
		*nsid = a->nsid;
	else if (info->backend == VFN_DEV_KERNEL && info->io && info->nsid)
		*nsid = info->nsid;
	else
		return errmsg_usage(a->name, a->usage, "needs a namespace id (-n NSID): %s is not a namespace node",
				    a->dev);
	return 0;
}

static const char *const zn_states[] = {
	[VFN_NVME_ZS_EMPTY] = "EMPTY",	   [VFN_NVME_ZS_IMP_OPEN] = "IMP_OPENED", [VFN_NVME_ZS_EXP_OPEN] = "EXP_OPENED",
	[VFN_NVME_ZS_CLOSED] = "CLOSED",   [VFN_NVME_ZS_READ_ONLY] = "READONLY",  [VFN_NVME_ZS_FULL] = "FULL",
	[VFN_NVME_ZS_OFFLINE] = "OFFLINE",
};

/* nvme-cli's short state names (report-zones). */
static const char *zn_state(unsigned int zs)
{
	return zs < sizeof(zn_states) / sizeof(zn_states[0]) && zn_states[zs] ? zn_states[zs] : "UNKNOWN";
}

static int zn_id_ctrl(struct zn_args *a, struct vfn_dev *dev)
{
	struct vfn_identify_args ia = { .cns = VFN_NVME_CNS_CSI_CTRL, .csi = VFN_NVME_CSI_ZNS };
	struct vfn_nvme_id_ctrl_zns id;
	struct vfn_nvme_cqe cqe;
	struct out o;
	int ret = vfn_dev_identify_args(dev, &ia, &id, sizeof(id), &cqe);

	if (ret)
		return zn_fail(a, "Identify Controller (CSI 02h, zoned)", ret, &cqe);
	out_init(&o, a->fmt, false, 5);
	out_begin(&o, o.fmt == OUT_NORMAL ? "NVMe ZNS Identify Controller:" : NULL);
	out_u(&o, "zasl", id.zasl);
	out_end(&o);
	return CLI_EXIT_OK;
}

static int zn_id_ns(struct zn_args *a, struct vfn_dev *dev)
{
	struct vfn_identify_args ia = { .cns = VFN_NVME_CNS_NS };
	struct vfn_nvme_id_ns ns;
	struct vfn_nvme_id_ns_zns id;
	struct vfn_zns_info zi;
	struct vfn_nvme_cqe cqe;
	struct out o;
	int ret = zn_nsid(a, dev, &ia.nsid);

	if (ret)
		return ret;
	ret = vfn_dev_identify_args(dev, &ia, &ns, sizeof(ns), &cqe);
	if (ret)
		return zn_fail(a, "Identify Namespace", ret, &cqe);
	ia.cns = VFN_NVME_CNS_CSI_NS;
	ia.csi = VFN_NVME_CSI_ZNS;
	ret = vfn_dev_identify_args(dev, &ia, &id, sizeof(id), &cqe);
	if (ret)
		return zn_fail(a, "Identify Namespace (CSI 02h, zoned)", ret, &cqe);
	out_init(&o, a->fmt, false, 13);
	out_begin(&o, NULL);
	if (o.fmt == OUT_NORMAL)
		printf("ZNS Command Set Identify Namespace:\n");
	out_x(&o, "zoc", vfn_le16_to_cpu(id.zoc));
	out_x(&o, "ozcs", vfn_le16_to_cpu(id.ozcs));
	out_x(&o, "mar", vfn_le32_to_cpu(id.mar));
	out_x(&o, "mor", vfn_le32_to_cpu(id.mor));
	out_u(&o, "rrl", vfn_le32_to_cpu(id.rrl));
	out_u(&o, "frl", vfn_le32_to_cpu(id.frl));
	out_u(&o, "numzrwa", vfn_le32_to_cpu(id.numzrwa));
	out_u(&o, "zrwafg", vfn_le16_to_cpu(id.zrwafg));
	out_u(&o, "zrwasz", vfn_le16_to_cpu(id.zrwasz));
	out_x(&o, "zrwacap", id.zrwacap);
	/* The geometry as <vfn/zns.h> derives it (zone capacity from a one-zone report). */
	ret = vfn_dev_zns_info(dev, ia.nsid, &zi, &cqe);
	if (!ret) {
		out_u(&o, "zone_size", zi.zsze);
		out_u(&o, "zone_capacity", zi.zcap);
		out_u(&o, "nr_zones", zi.nr_zones);
		out_u(&o, "max_open", zi.mor);
		out_u(&o, "max_active", zi.mar);
		out_u(&o, "zde_size", zi.zde_size);
		out_u(&o, "zrwa_size", zi.zrwa_size);
		out_u(&o, "zrwa_fg", zi.zrwa_fg);
		out_u(&o, "nr_zrwa", zi.nr_zrwa);
	}
	out_list_begin(&o, "lbafe");
	for (unsigned int i = 0; i <= ns.nlbaf && i < 64; i++) {
		out_item_begin(&o);
		if (o.fmt == OUT_JSON) {
			json_u64(&o.json, "zsze", vfn_le64_to_cpu(id.lbafe[i].zsze));
			json_u64(&o.json, "zdes", id.lbafe[i].zdes);
		} else {
			printf("lbafe %2u: zsze:0x%llx zdes:%u%s\n", i,
			       (unsigned long long)vfn_le64_to_cpu(id.lbafe[i].zsze), id.lbafe[i].zdes,
			       i == vfn_nvme_flbas_index(ns.flbas) ? " (in use)" : "");
		}
		out_item_end(&o);
	}
	out_list_end(&o);
	out_end(&o);
	return CLI_EXIT_OK;
}

/* @len bytes at @p as lowercase hex into @out (2 x @len + 1 bytes). */
static void zn_hex(char *out, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * len] = '\0';
}

/* The zone descriptor extension size of namespace @nsid; a usage error when it has none. */
static int zn_zde_size(struct zn_args *a, struct vfn_dev *dev, uint32_t nsid, uint32_t *zde)
{
	const struct vfn_dev_info *info = vfn_dev_get_info(dev);
	struct vfn_zns_info zi;
	struct vfn_nvme_cqe cqe;
	int ret;

	if (info->zoned && info->nsid == nsid) {
		*zde = info->zde_size;
	} else {
		ret = vfn_dev_zns_info(dev, nsid, &zi, &cqe);
		if (ret)
			return zn_fail(a, "Identify Namespace (CSI 02h, zoned)", ret, &cqe);
		*zde = zi.zde_size;
	}
	if (!*zde)
		return errmsg("%s: namespace %u of %s has no zone descriptor extensions (ZDES 0 in its LBA format "
			      "extension); use report-zones without -e",
			      a->name, nsid, a->dev);
	return 0;
}

static int zn_report(struct zn_args *a, struct vfn_dev *dev)
{
	const struct vfn_dev_info *info = vfn_dev_get_info(dev);
	struct vfn_nvme_cqe cqe;
	const struct vfn_nvme_zone_report *h;
	const struct vfn_nvme_zone_desc *d;
	uint64_t nr;
	size_t len, entry, max = info->max_xfer ? info->max_xfer : (1u << 20);
	uint32_t nsid = 0, zde = 0;
	uint8_t *buf;
	const uint8_t *ext;
	char hex[2 * 255 * 64 + 1];
	struct out o;
	int ret = zn_nsid(a, dev, &nsid);

	if (ret)
		return ret;
	if (a->extended) {
		ret = zn_zde_size(a, dev, nsid, &zde);
		if (ret)
			return ret;
	}
	entry = sizeof(*d) + zde;
	if (!a->descs && max < sizeof(*h) + entry)
		return errmsg("report-zones: one %s descriptor (%zu bytes) does not fit in the transfer limit of "
			      "%zu bytes",
			      a->extended ? "extended" : "zone", sizeof(*h) + entry, max);
	len = sizeof(*h) + (size_t)(a->descs ? a->descs : (max - sizeof(*h)) / entry) * entry;
	if (len > max)
		return errmsg_usage(a->name, a->usage,
				    "-d %u descriptors need %zu bytes, over the transfer limit of %zu bytes", a->descs,
				    len, max);
	buf = calloc(1, len);
	if (!buf)
		return errmsg("report-zones: out of memory for %zu bytes", len);
	if (a->extended)
		ret = vfn_dev_zone_report_ext(dev, nsid, a->slba, (uint8_t)a->state, a->partial, buf, len, &cqe);
	else
		ret = vfn_dev_zone_report(dev, nsid, a->slba, (uint8_t)a->state, a->partial, buf, len, &cqe);
	if (ret) {
		free(buf);
		return zn_fail(a,
			       a->extended ? "Zone Management Receive (Extended Report Zones)"
					   : "Zone Management Receive (Report Zones)",
			       ret, &cqe);
	}
	h = (const void *)buf;
	nr = vfn_le64_to_cpu(h->nr_zones);
	out_init(&o, a->fmt, false, 8);
	out_begin(&o, NULL);
	out_u(&o, "nr_zones", nr);
	out_list_begin(&o, "zone_list");
	for (uint64_t i = 0; i < nr && (d = vfn_zone_report_desc(buf, len, zde, i, &ext)); i++) {
		unsigned int zs = vfn_nvme_zone_state(d);

		out_item_begin(&o);
		if (o.fmt == OUT_JSON) {
			json_u64(&o.json, "slba", vfn_le64_to_cpu(d->zslba));
			json_u64(&o.json, "wp", vfn_le64_to_cpu(d->wp));
			json_u64(&o.json, "cap", vfn_le64_to_cpu(d->zcap));
			json_str(&o.json, "state", zn_state(zs));
			json_str(&o.json, "type", d->zt == VFN_NVME_ZT_SEQ_WRITE_REQUIRED ? "SEQWRITE_REQ" : "UNKNOWN");
			json_u64(&o.json, "attrs", d->za);
			if (ext) {
				zn_hex(hex, ext, zde);
				json_str(&o.json, "ext", hex);
			}
		} else {
			printf("SLBA: 0x%-8llx WP: 0x%-8llx Cap: 0x%-8llx State: %-10s Type: %s Attrs: 0x%x\n",
			       (unsigned long long)vfn_le64_to_cpu(d->zslba),
			       (unsigned long long)vfn_le64_to_cpu(d->wp), (unsigned long long)vfn_le64_to_cpu(d->zcap),
			       zn_state(zs), d->zt == VFN_NVME_ZT_SEQ_WRITE_REQUIRED ? "SEQWRITE_REQ" : "UNKNOWN",
			       d->za);
			if (ext) {
				zn_hex(hex, ext, zde);
				printf("Ext: %s\n", hex);
			}
		}
		out_item_end(&o);
	}
	out_list_end(&o);
	out_end(&o);
	free(buf);
	return CLI_EXIT_OK;
}

static const char *zsa_name(uint32_t zsa)
{
	switch (zsa) {
	case VFN_NVME_ZSA_CLOSE:
		return "close";
	case VFN_NVME_ZSA_FINISH:
		return "finish";
	case VFN_NVME_ZSA_OPEN:
		return "open";
	case VFN_NVME_ZSA_RESET:
		return "reset";
	case VFN_NVME_ZSA_OFFLINE:
		return "offline";
	case VFN_NVME_ZSA_SET_ZDE:
		return "set-zone-desc";
	case VFN_NVME_ZSA_FLUSH_ZRWA:
		return "zrwa-flush";
	default:
		return "?";
	}
}

static int zn_read_data(const char *path, uint8_t *buf, size_t len);

/* Set Zone Descriptor Extension: the data file (or stdin), zero-padded to the namespace's extension size. */
static int zn_set_zde(struct zn_args *a, struct vfn_dev *dev, uint32_t nsid, struct vfn_nvme_cqe *cqe)
{
	uint8_t ext[255 * 64];
	uint32_t zde = 0;
	int ret = zn_zde_size(a, dev, nsid, &zde);

	if (ret)
		return ret;
	ret = zn_read_data(a->data, ext, zde);
	if (ret)
		return errmsg("%s: cannot read %s: %s; give a readable file with -d or data on stdin", a->name,
			      a->data ? a->data : "stdin", strerror(-ret));
	ret = vfn_dev_zone_set_desc_ext(dev, nsid, a->slba, ext, zde, cqe);
	return ret ? zn_fail(a, "Zone Management Send (set-zone-desc)", ret, cqe) : 0;
}

static int zn_send(struct zn_args *a, struct vfn_dev *dev)
{
	struct vfn_nvme_cqe cqe;
	char what[64];
	uint32_t nsid = 0;
	struct out o;
	int ret = zn_nsid(a, dev, &nsid);

	if (ret)
		return ret;
	if (!a->have_zsa)
		return errmsg_usage(a->name, a->usage,
				    "needs a zone send action (-z 1-5: close, finish, open, "
				    "reset, offline; 0x10 set-zone-desc, 0x11 zrwa-flush)");
	if (a->all && (a->zsa == VFN_NVME_ZSA_SET_ZDE || a->zsa == VFN_NVME_ZSA_FLUSH_ZRWA || a->zrwa))
		return errmsg_usage(a->name, a->usage, "-a (all zones) does not go with %s",
				    a->zrwa ? "-r (ZRWA allocation)" : zsa_name(a->zsa));
	if (a->zrwa && a->zsa != VFN_NVME_ZSA_OPEN)
		return errmsg_usage(a->name, a->usage, "-r (ZRWA allocation) goes with the open action only");
	snprintf(what, sizeof(what), "Zone Management Send (%s%s)", zsa_name(a->zsa), a->zrwa ? " with ZRWA" : "");
	if (a->zsa == VFN_NVME_ZSA_SET_ZDE) {
		ret = zn_set_zde(a, dev, nsid, &cqe);
		if (ret)
			return ret;
	} else {
		if (a->zsa == VFN_NVME_ZSA_FLUSH_ZRWA) {
			if (!a->have_lba && !a->have_slba)
				return errmsg_usage(a->name, a->usage, "needs the last LBA to flush (-l LBA)");
			if (a->have_lba)
				a->slba = a->lba;
			ret = vfn_dev_zone_flush_zrwa(dev, nsid, a->slba, &cqe);
		} else if (a->zrwa) {
			ret = vfn_dev_zone_open_zrwa(dev, nsid, a->slba, &cqe);
		} else {
			ret = vfn_dev_zone_mgmt_send(dev, nsid, a->slba, (uint8_t)a->zsa, a->all, &cqe);
		}
		if (ret)
			return zn_fail(a, what, ret, &cqe);
	}
	out_init(&o, a->fmt, false, 6);
	/* The shorthands print nvme-cli's lines. */
	if (o.fmt == OUT_NORMAL && !strcmp(a->cmdname, "zns set-zone-desc")) {
		printf("set-zone-desc: Success, zone:%llx nsid:%u\n", (unsigned long long)a->slba, nsid);
		return CLI_EXIT_OK;
	}
	if (o.fmt == OUT_NORMAL && !strcmp(a->cmdname, "zns zrwa-flush-zone")) {
		printf("zrwa-flush-zone: Success, lba:%llx nsid:%u\n", (unsigned long long)a->slba, nsid);
		return CLI_EXIT_OK;
	}
	if (o.fmt == OUT_NORMAL) {
		printf("zone-mgmt-send: Success, action:%s zone:%#llx all:%d nsid:%u\n", zsa_name(a->zsa),
		       (unsigned long long)a->slba, a->all, nsid);
		return CLI_EXIT_OK;
	}
	out_begin(&o, NULL);
	json_str(&o.json, "action", zsa_name(a->zsa));
	out_u(&o, "slba", a->all ? 0 : a->slba);
	out_u(&o, "all", a->all);
	out_u(&o, "nsid", nsid);
	out_end(&o);
	return CLI_EXIT_OK;
}

/* Reads @len bytes of @path ("-" or NULL: stdin) into @buf, zero-padded past the end. */
static int zn_read_data(const char *path, uint8_t *buf, size_t len)
{
	FILE *f = !path || !strcmp(path, "-") ? stdin : fopen(path, "rb");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len, f);
	/* A read error (a directory: EISDIR) is not a short file to pad with zeros. */
	if (ferror(f)) {
		int err = errno ? errno : EIO;

		if (f != stdin)
			fclose(f);
		return -err;
	}
	if (f != stdin)
		fclose(f);
	memset(buf + n, 0, len - n);
	return 0;
}

static int zn_append(struct zn_args *a, struct vfn_dev *dev)
{
	const struct vfn_dev_info *info = vfn_dev_get_info(dev);
	struct vfn_nvme_cqe cqe;
	uint64_t alba = 0;
	uint32_t nsid = 0, nlb;
	uint8_t *buf;
	struct out o;
	int ret = zn_nsid(a, dev, &nsid);

	if (ret)
		return ret;
	if (!a->size || !info->lba_size || a->size % info->lba_size)
		return errmsg_usage(a->name, a->usage, "-z DATA_SIZE: a multiple of the %u-byte block size, not %u",
				    info->lba_size, a->size);
	nlb = a->size / info->lba_size;
	buf = calloc(1, a->size);
	if (!buf)
		return errmsg("zone-append: out of memory for %u bytes", a->size);
	ret = zn_read_data(a->data, buf, a->size);
	if (ret) {
		free(buf);
		return errmsg("zone-append: cannot read %s: %s; give a readable file with -d or data on stdin", a->data,
			      strerror(-ret));
	}
	ret = vfn_dev_zone_append(dev, nsid, a->slba, nlb, buf, &alba, &cqe);
	free(buf);
	if (ret == -EINVAL)
		return errmsg_usage(a->name, a->usage, "%u blocks of %u bytes do not fit one command (limit %zu bytes)",
				    nlb, info->lba_size, info->max_xfer);
	if (ret)
		return zn_fail(a, "Zone Append", ret, &cqe);
	out_init(&o, a->fmt, false, 6);
	if (o.fmt == OUT_NORMAL) {
		printf("Success appended data to LBA %#llx\n", (unsigned long long)alba);
		return CLI_EXIT_OK;
	}
	out_begin(&o, NULL);
	out_u(&o, "alba", alba);
	out_u(&o, "nlb", nlb);
	out_end(&o);
	return CLI_EXIT_OK;
}

static const struct zn_cmd zn_cmds[] = {
	{ "id-ctrl", zn_id_ctrl, 0, "DEVICE [-o normal|json]", "ZNS Identify Controller (CNS 06h, CSI 02h)." },
	{ "id-ns", zn_id_ns, 0, "DEVICE -n NSID [-o normal|json]", "ZNS Identify Namespace (CNS 05h, CSI 02h)." },
	{ "report-zones", zn_report, 0, "DEVICE -n NSID [-s SLBA] [-d DESCS] [-S STATE] [-p] [-e] [-o normal|json]",
	  "Report Zones: STATE 0 all, 1 empty, 2 implicitly open, 3 explicitly open, 4 closed, 5 full, 6 read only, "
	  "7 offline; -p partial; -e extended (each zone's descriptor extension, hex)." },
	{ "zone-mgmt-send", zn_send, 0, "DEVICE -n NSID -z ZSA [-s SLBA | -a] [-r] [-d FILE] [-o normal|json]",
	  "Zone Management Send: ZSA 1 close, 2 finish, 3 open (-r: with a ZRWA), 4 reset, 5 offline, 0x10 set "
	  "zone descriptor extension (-d FILE), 0x11 flush ZRWA up to SLBA; -a all zones." },
	{ "open-zone", zn_send, VFN_NVME_ZSA_OPEN, "DEVICE -n NSID [-s SLBA | -a] [-r]",
	  "Open a zone (or all closed); -r (--zrwaa, --zrwa) allocates a Zone Random Write Area." },
	{ "close-zone", zn_send, VFN_NVME_ZSA_CLOSE, "DEVICE -n NSID [-s SLBA | -a]", "Close a zone (or all open)." },
	{ "finish-zone", zn_send, VFN_NVME_ZSA_FINISH, "DEVICE -n NSID [-s SLBA | -a]", "Finish a zone (or all)." },
	{ "reset-zone", zn_send, VFN_NVME_ZSA_RESET, "DEVICE -n NSID [-s SLBA | -a]", "Reset a zone (or all)." },
	{ "offline-zone", zn_send, VFN_NVME_ZSA_OFFLINE, "DEVICE -n NSID [-s SLBA | -a]", "Offline a read-only zone." },
	{ "zone-open", zn_send, VFN_NVME_ZSA_OPEN, "DEVICE -n NSID [-s SLBA | -a]", "Same as open-zone." },
	{ "zone-close", zn_send, VFN_NVME_ZSA_CLOSE, "DEVICE -n NSID [-s SLBA | -a]", "Same as close-zone." },
	{ "zone-finish", zn_send, VFN_NVME_ZSA_FINISH, "DEVICE -n NSID [-s SLBA | -a]", "Same as finish-zone." },
	{ "zone-reset", zn_send, VFN_NVME_ZSA_RESET, "DEVICE -n NSID [-s SLBA | -a]", "Same as reset-zone." },
	{ "zone-offline", zn_send, VFN_NVME_ZSA_OFFLINE, "DEVICE -n NSID [-s SLBA | -a]", "Same as offline-zone." },
	{ "zone-append", zn_append, 0, "DEVICE -n NSID -s ZSLBA -z DATA_SIZE [-d FILE] [-o normal|json]",
	  "Zone Append DATA_SIZE bytes (from FILE or stdin, zero-padded) to the zone at ZSLBA; shows the LBA "
	  "written." },
	{ "set-zone-desc", zn_send, VFN_NVME_ZSA_SET_ZDE, "DEVICE -n NSID -s ZSLBA [-d FILE] [-o normal|json]",
	  "Set Zone Descriptor Extension of the Empty zone at ZSLBA from FILE or stdin (zero-padded to the "
	  "namespace's extension size); the zone becomes Closed.  report-zones -e shows it." },
	{ "zrwa-flush-zone", zn_send, VFN_NVME_ZSA_FLUSH_ZRWA, "DEVICE -n NSID -l LBA [-o normal|json]",
	  "Flush Explicit ZRWA Range: commit a zone's Zone Random Write Area up to and including LBA (the "
	  "write pointer becomes LBA + 1).  open-zone -r opens a zone with a ZRWA." },
};

static const struct option zn_longs[] = {
	{ "namespace-id", required_argument, NULL, 'n' },
	{ "output-format", required_argument, NULL, 'o' },
	{ "start-lba", required_argument, NULL, 's' },
	{ "zslba", required_argument, NULL, 's' },
	{ "descs", required_argument, NULL, 'd' },
	{ "state", required_argument, NULL, 'S' },
	{ "partial", no_argument, NULL, 'p' },
	{ "select-all", no_argument, NULL, 'a' },
	{ "zsa", required_argument, NULL, 'z' },
	{ "data-size", required_argument, NULL, 'z' },
	{ "data", required_argument, NULL, 'D' },
	{ "extended", no_argument, NULL, 'e' },
	{ "zrwa", no_argument, NULL, 'r' },
	{ "zrwaa", no_argument, NULL, 'r' }, /* nvme-cli's open-zone */
	{ "zsaso", no_argument, NULL, 'r' }, /* nvme-cli's zone-mgmt-send: the Zone Send Action Specific Option */
	{ "lba", required_argument, NULL, 'l' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int zn_num(struct zn_args *a, const char *opt, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(optarg, &end, 0);
	if (errno || *end || optarg[0] < '0' || optarg[0] > '9' || v > max)
		return errmsg_usage(a->name, a->usage, "bad value '%s' for %s: a number (decimal or 0x hex) up to %llu",
				    optarg, opt, (unsigned long long)max),
		       -EINVAL;
	*out = v;
	return 0;
}

static void zn_help(void)
{
	printf("usage: vfn zns " ZN_USAGE "\n\nSubcommands (nvme-cli's zns plugin):\n");
	for (size_t i = 0; i < sizeof(zn_cmds) / sizeof(zn_cmds[0]); i++)
		printf("  %-14s %s\n      vfn zns %s %s\n", zn_cmds[i].name, zn_cmds[i].help, zn_cmds[i].name,
		       zn_cmds[i].usage);
}

int cmd_zns(int argc, char **argv)
{
	const struct zn_cmd *e = NULL;
	struct zn_args a = { .name = "zns" };
	struct vfn_dev *dev;
	uint64_t v;
	int c, ret;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		zn_help();
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(zn_cmds) / sizeof(zn_cmds[0]); i++)
		if (!strcmp(zn_cmds[i].name, argv[1]))
			e = &zn_cmds[i];
	if (!e)
		return errmsg_usage("zns", ZN_USAGE, "unknown subcommand '%s'; `vfn zns --help` lists them", argv[1]);
	snprintf(a.cmdname, sizeof(a.cmdname), "zns %s", e->name);
	a.name = a.cmdname;
	a.usage = e->usage;
	if (e->zsa) {
		a.zsa = e->zsa;
		a.have_zsa = true;
	}
	argc--;
	argv++;
	optind = 1;
	opterr = 0;
	while (optind < argc) {
		c = getopt_long(argc, argv, "+n:o:s:d:S:paz:D:erl:vh", zn_longs, NULL);
		if (c == -1) {
			if (a.dev)
				return errmsg_usage(a.name, a.usage, "unexpected argument '%s'", argv[optind]);
			a.dev = argv[optind++];
			continue;
		}
		switch (c) {
		case 'h':
			printf("usage: vfn zns %s %s\n%s\n", e->name, e->usage, e->help);
			return CLI_EXIT_OK;
		case 'v':
			vfn_log_set_level(VFN_LOG_DEBUG);
			break;
		case 'n':
			if (zn_num(&a, "-n", UINT32_MAX, &v))
				return CLI_EXIT_USAGE;
			a.nsid = (uint32_t)v;
			a.have_nsid = true;
			break;
		case 'o':
			if (out_parse_fmt(optarg, &a.fmt))
				return errmsg_bad_format(optarg);
			break;
		case 's':
			if (zn_num(&a, "-s", UINT64_MAX, &a.slba))
				return CLI_EXIT_USAGE;
			a.have_slba = true;
			break;
		case 'd':
			/* report-zones: descriptors; zone-append, set-zone-desc: the data file (nvme-cli's -d) */
			if (e->run != zn_report) {
				a.data = optarg;
				break;
			}
			if (zn_num(&a, "-d", 1u << 20, &v))
				return CLI_EXIT_USAGE;
			a.descs = (uint32_t)v;
			break;
		case 'D':
			a.data = optarg;
			break;
		case 'S':
			if (zn_num(&a, "-S", VFN_NVME_ZRASF_OFFLINE, &v))
				return CLI_EXIT_USAGE;
			a.state = (uint32_t)v;
			break;
		case 'p':
			a.partial = true;
			break;
		case 'e':
			a.extended = true;
			break;
		case 'r':
			a.zrwa = true;
			break;
		case 'l':
			if (zn_num(&a, "-l", UINT64_MAX, &a.lba))
				return CLI_EXIT_USAGE;
			a.have_lba = true;
			break;
		case 'a':
			a.all = true;
			break;
		case 'z':
			if (e->run == zn_append) {
				if (zn_num(&a, "-z", 64u << 20, &v))
					return CLI_EXIT_USAGE;
				a.size = (uint32_t)v;
			} else {
				if (zn_num(&a, "-z", VFN_NVME_ZSA_FLUSH_ZRWA, &v))
					return CLI_EXIT_USAGE;
				if (!v || (v > VFN_NVME_ZSA_OFFLINE && v < VFN_NVME_ZSA_SET_ZDE))
					return errmsg_usage(
						a.name, a.usage,
						"-z ZSA: 1-5 (close, finish, open, reset, offline), "
						"0x10 (set zone descriptor extension) or 0x11 (flush ZRWA)");
				a.zsa = (uint32_t)v;
				a.have_zsa = true;
			}
			break;
		default:
			return errmsg_usage(a.name, a.usage, "unknown option '%s'", argv[optind - 1]);
		}
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
