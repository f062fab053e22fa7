/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <limits.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <vfn/support.h>

#include "log.h"

size_t vfn_page_size(void)
{
	/* Racing first callers all store the same value: relaxed is enough. */
	static size_t page;
	size_t p = __atomic_load_n(&page, __ATOMIC_RELAXED);

	if (vfn_unlikely(!p)) {
		p = (size_t)sysconf(_SC_PAGESIZE);
		__atomic_store_n(&page, p, __ATOMIC_RELAXED);
	}
	return p;
}

ssize_t vfn_mem_alloc(size_t len, void **vaddr)
{
	size_t page = vfn_page_size();
	void *p;

	if (!len || len > SSIZE_MAX - page) {
		log_debug("mem_alloc: invalid length %zu", len);
		return -EINVAL;
	}
	len = (len + page - 1) & ~(page - 1);

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		log_debug("mem_alloc: mmap of %zu bytes failed: errno %d", len, errno);
		return -ENOMEM;
	}
	*vaddr = p;
	return (ssize_t)len;
}

void vfn_mem_free(void *vaddr, size_t len)
{
	size_t page = vfn_page_size();

	if (!vaddr)
		return;
	munmap(vaddr, (len + page - 1) & ~(page - 1));
}

uint64_t vfn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
