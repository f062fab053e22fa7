/* SPDX-License-Identifier: MIT */
/*
 * vfn support: compiler hints, memory barriers, MMIO accessors, little-endian
 * types, logging, page-aligned memory and time.  Every other vfn module
 * builds on these; nothing here talks to a device.
 */
#ifndef VFN_SUPPORT_H
#define VFN_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <endian.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a function the shared library exports (see src/libvfn.map). */
#define VFN_API __attribute__((visibility("default")))

#define vfn_likely(x) __builtin_expect(!!(x), 1)
#define vfn_unlikely(x) __builtin_expect(!!(x), 0)

/* A single, untorn access that the compiler may not merge, split or elide. */
#define VFN_READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define VFN_WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/* Stops the compiler (not the CPU) from moving memory accesses across it. */
#define vfn_barrier() __asm__ __volatile__("" ::: "memory")

/*
 * CPU memory barriers.
 *
 * vfn_mb/vfn_rmb/vfn_wmb order accesses to normal memory against MMIO
 * (doorbells): e.g. vfn_wmb() between writing an SQE and the SQ tail doorbell.
 * vfn_dma_rmb/vfn_dma_wmb order accesses to DMA-coherent host memory only,
 * e.g. vfn_dma_rmb() between reading a CQE's phase tag and the rest of it.
 */
/* clang-format off: one-line barriers and byte-order helpers, read as a table */
#if defined(__x86_64__) || defined(__i386__)
static inline void vfn_mb(void)
{
	__asm__ __volatile__("mfence" ::: "memory");
}
static inline void vfn_rmb(void)
{
	__asm__ __volatile__("lfence" ::: "memory");
}
static inline void vfn_wmb(void)
{
	__asm__ __volatile__("sfence" ::: "memory");
}
/* x86 is TSO: loads are not reordered with loads, stores not with stores. */
static inline void vfn_dma_rmb(void)
{
	vfn_barrier();
}
static inline void vfn_dma_wmb(void)
{
	vfn_barrier();
}
#elif defined(__aarch64__)
static inline void vfn_mb(void)
{
	__asm__ __volatile__("dsb sy" ::: "memory");
}
static inline void vfn_rmb(void)
{
	__asm__ __volatile__("dsb ld" ::: "memory");
}
static inline void vfn_wmb(void)
{
	__asm__ __volatile__("dsb st" ::: "memory");
}
static inline void vfn_dma_rmb(void)
{
	__asm__ __volatile__("dmb oshld" ::: "memory");
}
static inline void vfn_dma_wmb(void)
{
	__asm__ __volatile__("dmb oshst" ::: "memory");
}
#else
static inline void vfn_mb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
static inline void vfn_rmb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
static inline void vfn_wmb(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}
static inline void vfn_dma_rmb(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}
static inline void vfn_dma_wmb(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}
#endif

/*
 * Little-endian wire types.  They are plain integers; the names say that the
 * value is stored little-endian and must pass through vfn_leXX_to_cpu().
 */
typedef uint16_t vfn_le16;
typedef uint32_t vfn_le32;
typedef uint64_t vfn_le64;

static inline uint16_t vfn_le16_to_cpu(vfn_le16 v)
{
	return le16toh(v);
}
static inline uint32_t vfn_le32_to_cpu(vfn_le32 v)
{
	return le32toh(v);
}
static inline uint64_t vfn_le64_to_cpu(vfn_le64 v)
{
	return le64toh(v);
}
static inline vfn_le16 vfn_cpu_to_le16(uint16_t v)
{
	return htole16(v);
}
static inline vfn_le32 vfn_cpu_to_le32(uint32_t v)
{
	return htole32(v);
}
static inline vfn_le64 vfn_cpu_to_le64(uint64_t v)
{
	return htole64(v);
}
/* clang-format on */

/*
 * MMIO accessors for mapped device registers (little-endian).  64-bit
 * registers are accessed as two 32-bit halves, low then high, which every
 * NVMe controller must accept.
 */
static inline uint32_t vfn_mmio_read32(const void *addr)
{
	return le32toh(*(const volatile uint32_t *)addr);
}

static inline void vfn_mmio_write32(void *addr, uint32_t v)
{
	*(volatile uint32_t *)addr = htole32(v);
}

static inline uint64_t vfn_mmio_read64(const void *addr)
{
	uint64_t lo = vfn_mmio_read32(addr);
	uint64_t hi = vfn_mmio_read32((const uint8_t *)addr + 4);

	return lo | hi << 32;
}

static inline void vfn_mmio_write64(void *addr, uint64_t v)
{
	vfn_mmio_write32(addr, (uint32_t)v);
	vfn_mmio_write32((uint8_t *)addr + 4, (uint32_t)(v >> 32));
}

/* Log levels, most severe first.  The default is VFN_LOG_NONE (silent). */
enum vfn_log_level {
	VFN_LOG_NONE = -1,
	VFN_LOG_ERR = 0,
	VFN_LOG_WARN = 1,
	VFN_LOG_INFO = 2,
	VFN_LOG_DEBUG = 3,
};

/*
 * Log sink: receives one formatted line (no trailing newline).  The library
 * never prints unless a level above VFN_LOG_NONE is set, either with
 * vfn_log_set_level() or with the environment variable VFN_LOG
 * (err|warn|info|debug) read at load time.  It may be called with the
 * library's internal locks held (e.g. the registry of open VFIO devices
 * during a PCI hot reset's check, the VFIO group list while a group
 * opens): it must not call back into vfn, nor fork().
 */
typedef void (*vfn_log_fn)(enum vfn_log_level level, const char *msg, void *arg);

/* Sets the most verbose level that is emitted (VFN_LOG_NONE: nothing). */
VFN_API void vfn_log_set_level(enum vfn_log_level level);

/* Returns the current level. */
VFN_API enum vfn_log_level vfn_log_get_level(void);

/* Routes log lines to @fn (NULL: back to stderr with a "vfn: " prefix). */
VFN_API void vfn_log_set_fn(vfn_log_fn fn, void *arg);

/* The system page size in bytes. */
VFN_API size_t vfn_page_size(void);

/*
 * Allocates @len bytes (rounded up to whole pages) of zeroed, page-aligned
 * anonymous memory suitable for DMA mapping.  On success stores the address
 * in *@vaddr and returns the rounded length; -ENOMEM or -EINVAL on failure.
 * Free with vfn_mem_free() using the same @len.
 */
VFN_API ssize_t vfn_mem_alloc(size_t len, void **vaddr);

/* Frees memory from vfn_mem_alloc(); NULL is ignored. */
VFN_API void vfn_mem_free(void *vaddr, size_t len);

/* Monotonic time in nanoseconds. */
VFN_API uint64_t vfn_now_ns(void);

#ifdef __cplusplus
}
#endif

#endif /* VFN_SUPPORT_H */
