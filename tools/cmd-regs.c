/* SPDX-License-Identifier: MIT */
/*
 * show-regs: the controller registers, raw and decoded (field names from the
 * NVMe Base Specification, section "Controller Registers").
 */
#include <stdio.h>

#include <vfn/cmb.h>

#include "cli.h"

static const char *yes_no(uint64_t bit)
{
	return bit ? "yes" : "no";
}

/* Bits @lo..@lo+@width-1 of @v. */
static uint32_t bits(uint64_t v, unsigned int lo, unsigned int width)
{
	return (uint32_t)((v >> lo) & ((1u << width) - 1));
}

static void show_cap(struct out *o, uint64_t cap)
{
	uint32_t css = vfn_nvme_cap_css(cap), ams = vfn_nvme_cap_ams(cap);

	out_reg_begin(o, "cap", cap, 16);
	out_reg_field(o, "mqes", vfn_nvme_cap_mqes(cap), "%u entries per queue", vfn_nvme_cap_mqes(cap) + 1);
	out_reg_field(o, "cqr", vfn_nvme_cap_cqr(cap), "contiguous queues required: %s", yes_no(vfn_nvme_cap_cqr(cap)));
	out_reg_field(o, "ams", ams, "weighted round robin: %s, vendor specific: %s", yes_no(ams & 1), yes_no(ams & 2));
	out_reg_field(o, "to", vfn_nvme_cap_to(cap), "%u ms to ready", vfn_nvme_cap_to(cap) * 500);
	out_reg_field(o, "dstrd", vfn_nvme_cap_dstrd(cap), "doorbells %u bytes apart", 4u << vfn_nvme_cap_dstrd(cap));
	out_reg_field(o, "nssrs", vfn_nvme_cap_nssrs(cap), "NVM subsystem reset: %s", yes_no(vfn_nvme_cap_nssrs(cap)));
	out_reg_field(o, "css", css, "NVM: %s, I/O command sets: %s, admin only: %s",
		      yes_no(css & VFN_NVME_CAP_CSS_NVM), yes_no(css & VFN_NVME_CAP_CSS_CSI),
		      yes_no(css & VFN_NVME_CAP_CSS_ADMIN_ONLY));
	out_reg_field(o, "bps", vfn_nvme_cap_bps(cap), "boot partitions: %s", yes_no(vfn_nvme_cap_bps(cap)));
	out_reg_field(o, "mpsmin", vfn_nvme_cap_mpsmin(cap), "%u bytes", 4096u << vfn_nvme_cap_mpsmin(cap));
	out_reg_field(o, "mpsmax", vfn_nvme_cap_mpsmax(cap), "%u bytes", 4096u << vfn_nvme_cap_mpsmax(cap));
	out_reg_field(o, "pmrs", vfn_nvme_cap_pmrs(cap), "persistent memory region: %s",
		      yes_no(vfn_nvme_cap_pmrs(cap)));
	out_reg_field(o, "cmbs", vfn_nvme_cap_cmbs(cap), "controller memory buffer: %s",
		      yes_no(vfn_nvme_cap_cmbs(cap)));
	out_reg_end(o);
}

static void show_vs(struct out *o, uint32_t vs)
{
	out_reg_begin(o, "vs", vs, 8);
	out_reg_field(o, "mjr", vfn_nvme_vs_mjr(vs), "NVMe %u.%u.%u", vfn_nvme_vs_mjr(vs), vfn_nvme_vs_mnr(vs),
		      vfn_nvme_vs_ter(vs));
	out_reg_field(o, "mnr", vfn_nvme_vs_mnr(vs), NULL);
	out_reg_field(o, "ter", vfn_nvme_vs_ter(vs), NULL);
	out_reg_end(o);
}

static const char *const cc_shn[] = { "no notification", "normal shutdown", "abrupt shutdown", "reserved" };
static const char *const csts_shst[] = { "normal operation", "shutdown occurring", "shutdown complete", "reserved" };

static void show_cc(struct out *o, uint32_t cc)
{
	uint32_t css = bits(cc, VFN_NVME_CC_CSS_SHIFT, 3), mps = bits(cc, VFN_NVME_CC_MPS_SHIFT, 4);
	uint32_t sqes = bits(cc, VFN_NVME_CC_IOSQES_SHIFT, 4), cqes = bits(cc, VFN_NVME_CC_IOCQES_SHIFT, 4);

	out_reg_begin(o, "cc", cc, 8);
	out_reg_field(o, "en", cc & VFN_NVME_CC_EN, "enabled: %s", yes_no(cc & VFN_NVME_CC_EN));
	out_reg_field(o, "css", css, "%s",
		      css == VFN_NVME_CC_CSS_NVM   ? "NVM command set"
		      : css == VFN_NVME_CC_CSS_CSI ? "all I/O command sets"
		      : css == 7		   ? "admin command set only"
						   : "reserved");
	out_reg_field(o, "mps", mps, "%u-byte pages", 4096u << mps);
	out_reg_field(o, "ams", bits(cc, VFN_NVME_CC_AMS_SHIFT, 3), "%s",
		      bits(cc, VFN_NVME_CC_AMS_SHIFT, 3) ? "not round robin" : "round robin");
	out_reg_field(o, "shn", bits(cc, VFN_NVME_CC_SHN_SHIFT, 2), "%s", cc_shn[bits(cc, VFN_NVME_CC_SHN_SHIFT, 2)]);
	out_reg_field(o, "iosqes", sqes, "%u-byte SQ entries", 1u << sqes);
	out_reg_field(o, "iocqes", cqes, "%u-byte CQ entries", 1u << cqes);
	out_reg_end(o);
}

static void show_csts(struct out *o, uint32_t csts)
{
	uint32_t shst = bits(csts, VFN_NVME_CSTS_SHST_SHIFT, 2);

	out_reg_begin(o, "csts", csts, 8);
	out_reg_field(o, "rdy", csts & VFN_NVME_CSTS_RDY, "ready: %s", yes_no(csts & VFN_NVME_CSTS_RDY));
	out_reg_field(o, "cfs", !!(csts & VFN_NVME_CSTS_CFS), "controller fatal status: %s",
		      yes_no(csts & VFN_NVME_CSTS_CFS));
	out_reg_field(o, "shst", shst, "%s", csts_shst[shst]);
	out_reg_field(o, "nssro", !!(csts & VFN_NVME_CSTS_NSSRO), "NVM subsystem reset occurred: %s",
		      yes_no(csts & VFN_NVME_CSTS_NSSRO));
	out_reg_field(o, "pp", !!(csts & VFN_NVME_CSTS_PP), "processing paused: %s", yes_no(csts & VFN_NVME_CSTS_PP));
	out_reg_end(o);
}

static void show_aqa(struct out *o, uint32_t aqa)
{
	uint32_t asqs = bits(aqa, VFN_NVME_AQA_ASQS_SHIFT, 12), acqs = bits(aqa, VFN_NVME_AQA_ACQS_SHIFT, 12);

	out_reg_begin(o, "aqa", aqa, 8);
	out_reg_field(o, "asqs", asqs, "%u entries", asqs + 1);
	out_reg_field(o, "acqs", acqs, "%u entries", acqs + 1);
	out_reg_end(o);
}

static void show_cmb(struct out *o, uint32_t cmbloc, uint32_t cmbsz)
{
	static const char *const szu[16] = { "4 KiB", "64 KiB", "1 MiB", "16 MiB", "256 MiB", "4 GiB", "64 GiB" };
	const char *unit = szu[bits(cmbsz, 8, 4)];

	out_reg_begin(o, "cmbloc", cmbloc, 8);
	out_reg_field(o, "bir", bits(cmbloc, 0, 3), "in BAR%u", bits(cmbloc, 0, 3));
	out_reg_field(o, "ofst", bits(cmbloc, 12, 20), "at offset %u size units", bits(cmbloc, 12, 20));
	out_reg_end(o);
	out_reg_begin(o, "cmbsz", cmbsz, 8);
	out_reg_field(o, "sqs", bits(cmbsz, 0, 1), "submission queues: %s", yes_no(cmbsz & 1));
	out_reg_field(o, "cqs", bits(cmbsz, 1, 1), "completion queues: %s", yes_no(cmbsz & 2));
	out_reg_field(o, "lists", bits(cmbsz, 2, 1), "PRP/SGL lists: %s", yes_no(cmbsz & 4));
	out_reg_field(o, "rds", bits(cmbsz, 3, 1), "read data: %s", yes_no(cmbsz & 8));
	out_reg_field(o, "wds", bits(cmbsz, 4, 1), "write data: %s", yes_no(cmbsz & 16));
	out_reg_field(o, "szu", bits(cmbsz, 8, 4), "size unit %s", unit ? unit : "reserved");
	out_reg_field(o, "sz", bits(cmbsz, 12, 20), "%u size units = %llu bytes", bits(cmbsz, 12, 20),
		      (unsigned long long)bits(cmbsz, 12, 20) * (4096ull << (4 * bits(cmbsz, 8, 4))));
	out_reg_end(o);
}

static void show_cmbmsc(struct out *o, uint64_t msc, uint32_t sts)
{
	out_reg_begin(o, "cmbmsc", msc, 16);
	out_reg_field(o, "cre", msc & VFN_NVME_CMBMSC_CRE, "CMBLOC/CMBSZ enabled: %s",
		      yes_no(msc & VFN_NVME_CMBMSC_CRE));
	out_reg_field(o, "cmse", !!(msc & VFN_NVME_CMBMSC_CMSE), "controller memory space enabled: %s",
		      yes_no(msc & VFN_NVME_CMBMSC_CMSE));
	out_reg_field(o, "cba", msc >> 12, "controller base address 0x%llx", (unsigned long long)(msc & ~0xfffull));
	out_reg_end(o);
	out_reg_begin(o, "cmbsts", sts, 8);
	out_reg_field(o, "cbai", sts & VFN_NVME_CMBSTS_CBAI, "controller base address invalid: %s",
		      yes_no(sts & VFN_NVME_CMBSTS_CBAI));
	out_reg_end(o);
}

static void show_pmr(struct out *o, uint32_t cap, uint32_t ctl, uint32_t sts)
{
	static const char *const tu[4] = { "500 ms", "minutes", "reserved", "reserved" };
	uint32_t hsts = bits(sts, VFN_NVME_PMRSTS_HSTS_SHIFT, 3);

	out_reg_begin(o, "pmrcap", cap, 8);
	out_reg_field(o, "rds", bits(cap, 3, 1), "read data: %s", yes_no(cap & 8));
	out_reg_field(o, "wds", bits(cap, 4, 1), "write data: %s", yes_no(cap & 16));
	out_reg_field(o, "bir", bits(cap, 5, 3), "in BAR%u", bits(cap, 5, 3));
	out_reg_field(o, "pmrtu", bits(cap, 8, 2), "time unit %s", tu[bits(cap, 8, 2)]);
	out_reg_field(o, "pmrwbm", bits(cap, 10, 4), "write barrier: read of PMRSTS %s, CMB/PMR read %s",
		      yes_no(bits(cap, 11, 1)), yes_no(bits(cap, 10, 1)));
	out_reg_field(o, "pmrto", bits(cap, 16, 8), "%u time units to ready", bits(cap, 16, 8));
	out_reg_field(o, "cmss", bits(cap, 24, 1), "controller memory space supported: %s", yes_no(bits(cap, 24, 1)));
	out_reg_end(o);
	out_reg_begin(o, "pmrctl", ctl, 8);
	out_reg_field(o, "en", ctl & VFN_NVME_PMRCTL_EN, "enabled: %s", yes_no(ctl & VFN_NVME_PMRCTL_EN));
	out_reg_end(o);
	out_reg_begin(o, "pmrsts", sts, 8);
	out_reg_field(o, "err", bits(sts, 0, 8), "error %u", bits(sts, 0, 8));
	out_reg_field(o, "nrdy", bits(sts, 8, 1), "not ready: %s", yes_no(sts & VFN_NVME_PMRSTS_NRDY));
	out_reg_field(o, "hsts", hsts, "%s",
		      hsts == 0	  ? "normal operation"
		      : hsts == 1 ? "restore error"
		      : hsts == 2 ? "read only"
		      : hsts == 3 ? "unreliable"
				  : "reserved");
	out_reg_field(o, "cbai", bits(sts, 12, 1), "controller base address invalid: %s",
		      yes_no(sts & VFN_NVME_PMRSTS_CBAI));
	out_reg_end(o);
}

static void show_pmr_rates(struct out *o, uint32_t ebs, uint32_t swtp, uint64_t msc)
{
	static const char *const ebu[4] = { "bytes", "KiB", "MiB", "GiB" };
	static const char *const swu[4] = { "bytes/s", "KiB/s", "MiB/s", "GiB/s" };
	uint32_t szu = bits(ebs, 0, 4), swtu = bits(swtp, 0, 4);

	out_reg_begin(o, "pmrebs", ebs, 8);
	out_reg_field(o, "pmrszu", szu, "size unit %s", szu < 4 ? ebu[szu] : "reserved");
	out_reg_field(o, "rbb", bits(ebs, 4, 1), "read bypass behavior: %s", yes_no(bits(ebs, 4, 1)));
	out_reg_field(o, "pmrwbz", bits(ebs, 8, 24), "elasticity buffer %u %s", bits(ebs, 8, 24),
		      szu < 4 ? ebu[szu] : "reserved units");
	out_reg_end(o);
	out_reg_begin(o, "pmrswtp", swtp, 8);
	out_reg_field(o, "pmrswtu", swtu, "throughput unit %s", swtu < 4 ? swu[swtu] : "reserved");
	out_reg_field(o, "pmrswtv", bits(swtp, 8, 24), "sustained write throughput %u %s", bits(swtp, 8, 24),
		      swtu < 4 ? swu[swtu] : "reserved units");
	out_reg_end(o);
	out_reg_begin(o, "pmrmsc", msc, 16);
	out_reg_field(o, "cmse", bits(msc, 1, 1), "controller memory space enabled: %s", yes_no(bits(msc, 1, 1)));
	out_reg_field(o, "cba", msc >> 12, "controller base address 0x%llx", (unsigned long long)(msc & ~0xfffull));
	out_reg_end(o);
}

/* The kernel path has no registers to show: says so, with the BDF to bind. */
static int no_regs(const char *dev)
{
	char bdf[64] = "BDF";

	cli_kernel_bdf(dev, bdf, sizeof(bdf));
	return errmsg("registers are not reachable through the kernel driver; bind it with `vfn bind %s` to use vfio",
		      bdf);
}

int cmd_show_regs(const struct cli_args *a)
{
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_dev *dev;
	struct out o;
	int ret = cli_dev_open(a->bdf, NULL, &dev);

	if (ret)
		return ret;
	if (vfn_dev_get_info(dev)->backend == VFN_DEV_KERNEL) {
		vfn_dev_close(dev);
		return no_regs(a->bdf);
	}
	ctrl = vfn_dev_nvme_ctrl(dev);
	/* A 1.4 controller reads CMBLOC/CMBSZ as 0 until CMBMSC.CRE is set: this sets it. */
	(void)vfn_nvme_cmb_get_info(ctrl, &(struct vfn_nvme_cmb_info){ 0 });
	out_init(&o, a->fmt, false, 8);
	out_begin(&o, NULL);
	show_cap(&o, vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_CAP));
	show_vs(&o, vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_VS));
	out_reg_begin(&o, "intms", vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_INTMS), 8);
	out_reg_end(&o);
	out_reg_begin(&o, "intmc", vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_INTMC), 8);
	out_reg_end(&o);
	show_cc(&o, vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CC));
	show_csts(&o, vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CSTS));
	show_aqa(&o, vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_AQA));
	out_reg_begin(&o, "asq", vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_ASQ), 16);
	out_reg_end(&o);
	out_reg_begin(&o, "acq", vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_ACQ), 16);
	out_reg_end(&o);
	show_cmb(&o, vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CMBLOC), vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CMBSZ));
	show_cmbmsc(&o, vfn_nvme_reg_read64(ctrl, VFN_NVME_REG_CMBMSC), vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_CMBSTS));
	show_pmr(&o, vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_PMRCAP), vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_PMRCTL),
		 vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_PMRSTS));
	show_pmr_rates(&o, vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_PMREBS),
		       vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_PMRSWTP),
		       (uint64_t)vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_PMRMSCU) << 32 |
			       vfn_nvme_reg_read32(ctrl, VFN_NVME_REG_PMRMSCL));
	out_end(&o);
	vfn_dev_close(dev);
	return CLI_EXIT_OK;
}
