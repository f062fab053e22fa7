/* SPDX-License-Identifier: MIT */
/*
 * aer: Asynchronous Event Requests.
 *
 * Keeps AERs outstanding on the admin queue (vfn_nvme_aer_set_callback()),
 * makes an event happen and prints it decoded: on the simulator the event is
 * raised through its fault API (<vfn/sim.h>): a SMART / Health "temperature
 * threshold" event then a Notice "namespace attribute changed"; on another
 * controller it enables temperature warnings (Asynchronous Event
 * Configuration bit 1) and sets the over-temperature threshold (04h) one
 * kelvin below the Composite Temperature of the SMART log, which makes the
 * controller report a temperature event, and restores the threshold.  For
 * each event the log page it names is read with RAE=0, as the spec asks
 * before that event type is reported again.
 *
 *   examples/aer [DEVICE]
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <vfn/vfn.h>

static uint32_t events[8];
static int nr_events;

static void on_event(struct vfn_nvme_ctrl *ctrl, uint32_t dw0, void *arg)
{
	(void)ctrl;
	(void)arg;
	if (nr_events < 8)
		events[nr_events++] = dw0;
}

static const char *type_name(unsigned int type)
{
	switch (type) {
	case 0:
		return "Error";
	case 1:
		return "SMART / Health Status";
	case 2:
		return "Notice";
	case 6:
		return "I/O Command Specific Status";
	case 7:
		return "Vendor Specific";
	default:
		return "Reserved";
	}
}

static const char *info_name(unsigned int type, unsigned int info)
{
	if (type == 1 && info == 0)
		return "NVM Subsystem Reliability";
	if (type == 1 && info == 1)
		return "Temperature Threshold";
	if (type == 1 && info == 2)
		return "Spare Below Threshold";
	if (type == 2 && info == 0)
		return "Namespace Attribute Changed";
	if (type == 2 && info == 1)
		return "Firmware Activation Starting";
	if (type == 2 && info == 2)
		return "Telemetry Log Changed";
	return "other";
}

static int fail(const char *what, int ret)
{
	fprintf(stderr, "aer: %s: %s\n", what, strerror(-ret));
	return 1;
}

/* Polls the admin queue until @want events arrived or @ms passed. */
static void wait_events(struct vfn_nvme_ctrl *ctrl, int want, int ms)
{
	struct timespec ts = { .tv_nsec = 1000000 };

	for (int i = 0; i < ms && nr_events < want; i++) {
		vfn_nvme_admin_poll(ctrl);
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	const char *uri = argc > 1 ? argv[1] : "sim:";
	static uint8_t log[4096];
	struct vfn_nvme_ctrl *ctrl;
	struct vfn_dev *dev;
	struct vfn_sim *sim;
	int ret;

	ret = vfn_dev_open(uri, NULL, &dev);
	if (ret)
		return fail("open", ret);
	ctrl = vfn_dev_nvme_ctrl(dev);
	if (!ctrl)
		return fail("AERs need VFIO or sim: (the kernel driver owns them)", -ENOTSUP);
	ret = vfn_nvme_aer_set_callback(ctrl, on_event, NULL);
	if (ret)
		return fail("AER", ret);
	sim = vfn_dev_sim(dev);
	if (sim) {
		ret = vfn_sim_event_raise(sim, 1, 1, 0x02); /* SMART / Health, temperature, log 02h */
		if (!ret)
			ret = vfn_sim_event_raise(sim, 2, 0, 0x04); /* Notice, ns attribute changed, log 04h */
		if (ret)
			return fail("raise event", ret);
		wait_events(ctrl, 2, 5000);
	} else {
		uint32_t old, aec;
		unsigned int temp;

		/* Asynchronous Event Configuration (0Bh) bit 1: report temperature warnings. */
		ret = vfn_dev_get_features(dev, 0x0b, 0, 0, &aec, NULL, 0);
		if (!ret)
			ret = vfn_dev_set_features(dev, 0x0b, 0, aec | 0x2, NULL, NULL, 0);
		if (!ret)
			ret = vfn_dev_get_log(dev, 0x02, 0xffffffff, 0, log, 512);
		if (!ret)
			ret = vfn_dev_get_features(dev, 0x04, 0, 0, &old, NULL, 0);
		if (ret)
			return fail("SMART log / Temperature Threshold", ret);
		temp = (unsigned int)(log[1] | log[2] << 8); /* Composite Temperature, kelvin */
		printf("composite temperature %u K, over-temperature threshold %u K: setting it to %u K\n", temp,
		       old & 0xffff, temp - 1);
		ret = vfn_dev_set_features(dev, 0x04, 0, (temp - 1) & 0xffff, NULL, NULL, 0);
		if (ret)
			return fail("Set Features Temperature Threshold", ret);
		wait_events(ctrl, 1, 10000);
		vfn_dev_set_features(dev, 0x04, 0, old & 0xffff, NULL, NULL, 0);
		vfn_dev_set_features(dev, 0x0b, 0, aec, NULL, NULL, 0);
	}
	if (!nr_events)
		return fail("no asynchronous event", -ETIMEDOUT);

	for (int i = 0; i < nr_events; i++) {
		unsigned int type = events[i] & 0x7, info = events[i] >> 8 & 0xff, lid = events[i] >> 16 & 0xff;

		printf("event: dw0 %#010x type %u (%s) info 0x%02x (%s) log page 0x%02x\n", events[i], type,
		       type_name(type), info, info_name(type, info), lid);
		/* Read the log page with RAE=0: the event type is unmasked again. */
		ret = vfn_dev_get_log(dev, (uint8_t)lid, 0xffffffff, 0, log, lid == 0x04 ? 4096 : 512);
		printf("  get log page 0x%02x: %s\n", lid, ret ? strerror(-ret) : "read, event cleared");
	}
	vfn_nvme_aer_set_callback(ctrl, NULL, NULL);
	vfn_dev_close(dev);
	return 0;
}
