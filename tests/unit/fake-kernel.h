/* SPDX-License-Identifier: MIT */
/*
 * A user-space stand-in for what the kernel shim asks of the kernel: the
 * three io_uring system calls (linked in with ld --wrap=syscall) and the
 * nvme passthrough ioctls (--wrap=ioctl), so unit tests can make the
 * kernel behave in ways a real one does rarely or on purpose only: take
 * fewer SQEs than offered, hold commands, overflow the completion queue,
 * let a wait time out.  Off until fake_kernel_on(): everything else goes
 * to the real system calls.
 *
 * The rings live in a memfd laid out as the kernel's (SQ ring, CQ ring and
 * SQEs at IORING_OFF_*), so the shim maps and uses them unchanged.  Like
 * the kernel, an io_uring_enter that takes fewer SQEs than offered returns
 * without waiting, a CQE without room goes to an overflow list
 * (IORING_SQ_CQ_OVERFLOW) that only a GETEVENTS enter moves in, and a wait
 * with a timeout (IORING_ENTER_EXT_ARG) that nothing can satisfy fails
 * with ETIME.  A wait without a timeout that nothing can satisfy would
 * block forever in a kernel: the fake counts it in fake_kernel.hangs and
 * fails with EDEADLK instead.
 */
#ifndef VFN_TEST_FAKE_KERNEL_H
#define VFN_TEST_FAKE_KERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/nvme_ioctl.h>

#define FAKE_MAX_CMDS 256

/* One URING_CMD the fake took: what the shim put in its SQE. */
struct fake_cmd {
	uint64_t user_data;
	struct nvme_uring_cmd cmd;
};

struct fake_kernel {
	/* how it behaves (set by the test) */
	uint32_t max_take;     /* SQEs one io_uring_enter takes at most; 0: all offered */
	bool hold;	       /* taken commands stay in flight until fake_kernel_complete() */
	bool overflow_next;    /* completions skip the CQ for the overflow list until a GETEVENTS enter */
	int32_t res;	       /* CQE res of completions: an NVMe status (>= 0) or -errno */
	bool complete_on_wait; /* held commands complete when a GETEVENTS enter comes */
	int32_t ioctl_ret;     /* the passthrough ioctls' return: a status (>= 0) or -errno */
	uint32_t ioctl_id;     /* > 0: what NVME_IOCTL_ID answers on any fd */
	/*
	 * sysfs: /sys/dev/char/M:m of every char device resolves to an
	 * nvme-generic namespace node "ng9n1"; @on_sysfs_lookup (may be NULL)
	 * runs at that moment.
	 */
	bool sysfs_ng;
	void (*on_sysfs_lookup)(void);
	/* what it saw */
	struct fake_cmd taken[FAKE_MAX_CMDS]; /* every command taken, in order */
	uint32_t nr_taken;
	uint32_t enters, getevents, timed_waits;
	uint32_t hangs;			       /* waits that would never have returned */
	uint32_t overflowed;		       /* CQEs that went to the overflow list */
	uint32_t posted;		       /* CQEs written into the CQ */
	struct nvme_passthru_cmd64 last_ioctl; /* the last passthrough ioctl's argument */
	unsigned long last_ioctl_req;
	uint32_t nr_ioctls;
};

extern struct fake_kernel fake_kernel;

/* Resets fake_kernel (everything 0) and routes the calls above to the fake. */
void fake_kernel_on(void);

/* Back to the real system calls; forgets the fake rings. */
void fake_kernel_off(void);

/* Completes up to @n held commands (oldest first) with fake_kernel.res; returns how many. */
uint32_t fake_kernel_complete(uint32_t n);

/* Commands taken and not completed yet. */
uint32_t fake_kernel_held(void);

/* The CQ head the shim last published on the (only) fake ring. */
uint32_t fake_kernel_cq_head(void);

#endif /* VFN_TEST_FAKE_KERNEL_H */
