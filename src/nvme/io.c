/* SPDX-License-Identifier: MIT */
/* NVM command helpers: read, write, write zeroes, flush, dataset management. */
#include <errno.h>
#include <string.h>

#include <vfn/cmb.h>
#include <vfn/iommu.h>
#include <vfn/pi.h>
#include <vfn/rq.h>

#include "nvme/ctrl-priv.h"
#include "nvme/rq-priv.h"
#include "support/log.h"

#define IO_NLB_MAX 65536u /* NLB is a 16-bit, 0's based field */
#define IO_DSM_RANGES_MAX 256u

static uint32_t io_timeout(const struct vfn_nvme_io_opts *opts)
{
	return opts ? opts->timeout_ms : 0;
}

int vfn_nvme_io_async(struct vfn_nvme_qpair *qp, struct vfn_nvme_sqe *sqe, void *buf, size_t len, bool sgl,
		      vfn_rq_cb cb, void *opaque)
{
	struct vfn_rq *rq;
	int ret;

	if (!qp || !sqe || !cb) {
		log_debug("io_async: NULL %s", !qp ? "queue pair" : !sqe ? "sqe" : "callback");
		return -EINVAL;
	}
	rq = vfn_rq_alloc(qp);
	if (!rq)
		return -EBUSY;
	ret = vfn_rq_map(qp, rq, sqe, buf, len, sgl);
	if (ret)
		goto free_rq;
	rq->cb = cb;
	rq->opaque = opaque;
	ret = vfn_rq_post(qp, rq, sqe);
	if (ret)
		goto free_rq;
	return 0;

free_rq:
	vfn_rq_free(qp, rq);
	return ret;
}

/*
 * The device address of metadata at @p: DMA-mapped host memory, or else the
 * controller's CMB (as vfn_rq_map() / vfn_rq_map_meta() translate).
 */
static int io_translate(struct vfn_nvme_qpair *qp, const void *p, uint64_t *iova, size_t *mapped)
{
	if (!vfn_iommu_translate(qp->iommu, p, iova, mapped))
		return 0;
	return qp->ctrl ? vfn_nvme_cmb_translate(qp->ctrl, p, iova, mapped) : -EFAULT;
}

/*
 * Whether separate metadata of @len bytes at @meta goes as an SGL under
 * @opts (see vfn_nvme_io_opts meta_sgl): 1 yes, 0 contiguous, or -EINVAL
 * (_FORCE without SGL data, or contiguous across mappings) / -ENOTSUP
 * (across mappings, _AUTO with SGL data, no metadata SGLs) before anything
 * is sent.
 */
static int io_meta_sgl(struct vfn_nvme_qpair *qp, const void *meta, size_t len, const struct vfn_nvme_io_opts *opts)
{
	uint8_t mode = opts ? opts->meta_sgl : VFN_NVME_META_SGL_AUTO;
	bool sgl = opts && opts->sgl;
	uint64_t iova;
	size_t mapped;

	if (mode > VFN_NVME_META_SGL_FORCE || (mode == VFN_NVME_META_SGL_FORCE && !sgl)) {
		log_debug("io: metadata SGL policy %u with%s SGL data", mode, sgl ? "" : "out");
		return -EINVAL;
	}
	if (sgl && (mode == VFN_NVME_META_SGL_FORCE || (mode == VFN_NVME_META_SGL_AUTO && qp->sgl_mptr)))
		return 1;
	if (!io_translate(qp, meta, &iova, &mapped) && mapped >= len)
		return 0;
	log_debug("io: metadata buffer %p: not one DMA mapping of %zu bytes%s", meta, len,
		  sgl && mode == VFN_NVME_META_SGL_AUTO ? ", and the controller has no metadata SGLs" : "");
	return sgl && mode == VFN_NVME_META_SGL_AUTO ? -ENOTSUP : -EINVAL;
}

/* Takes a request, fills the data and metadata pointers (@meta_sgl: 1 SGL, 0 contiguous, < 0 none) and posts. */
static int io_post_meta(struct vfn_nvme_qpair *qp, struct vfn_nvme_sqe *sqe, void *buf, size_t len, bool sgl,
			const void *meta, size_t meta_len, int meta_sgl, vfn_rq_cb cb, void *opaque,
			struct vfn_rq **out)
{
	struct vfn_rq *rq = vfn_rq_alloc(qp);
	int ret;

	if (!rq)
		return -EBUSY;
	ret = vfn_rq_map(qp, rq, sqe, buf, len, sgl);
	if (!ret && meta_sgl > 0)
		ret = vfn_rq_map_meta_sgl(qp, rq, sqe, meta, meta_len);
	else if (!ret && meta_sgl == 0)
		ret = vfn_rq_map_meta_contig(qp, sqe, meta, meta_len);
	if (!ret) {
		rq->cb = cb;
		rq->opaque = opaque;
		ret = vfn_rq_post(qp, rq, sqe);
	}
	if (ret) {
		vfn_rq_free(qp, rq);
		return ret;
	}
	if (out)
		*out = rq;
	return 0;
}

static int io_sync(struct vfn_nvme_qpair *qp, struct vfn_nvme_sqe *sqe, void *buf, size_t len, const void *meta,
		   size_t meta_len, int meta_sgl, const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_cqe c;
	struct vfn_rq *rq;
	int ret;

	ret = io_post_meta(qp, sqe, buf, len, opts && opts->sgl, meta, meta_len, meta_sgl, NULL, NULL, &rq);
	if (ret)
		return ret;
	vfn_nvme_qpair_submit(qp);
	ret = vfn_rq_wait(qp, rq, io_timeout(opts));
	if (ret)
		return ret; /* abandoned: the request comes back with its late completion */
	c = rq->cqe;
	vfn_rq_free(qp, rq);
	if (cqe)
		*cqe = c;
	return vfn_nvme_status_to_errno(vfn_nvme_cqe_status(&c));
}

int vfn_nvme_io_sync(struct vfn_nvme_qpair *qp, struct vfn_nvme_sqe *sqe, void *buf, size_t len,
		     const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe)
{
	if (!qp || !sqe) {
		log_debug("io_sync: NULL %s", qp ? "sqe" : "queue pair");
		return -EINVAL;
	}
	return io_sync(qp, sqe, buf, len, NULL, 0, -1, opts, cqe);
}

int vfn_nvme_io_sync_meta(struct vfn_nvme_qpair *qp, struct vfn_nvme_sqe *sqe, void *buf, size_t len, void *meta,
			  size_t meta_len, const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe)
{
	int meta_sgl = -1;

	if (!qp || !sqe || !meta != !meta_len) {
		log_debug("io_sync_meta: NULL %s", !qp ? "queue pair" : !sqe ? "sqe" : "metadata or length");
		return -EINVAL;
	}
	if (meta_len > qp->max_xfer) {
		log_debug("io_sync_meta: %zu bytes of metadata beyond the transfer limit %zu", meta_len, qp->max_xfer);
		return -EINVAL;
	}
	if (meta_len) {
		meta_sgl = io_meta_sgl(qp, meta, meta_len, opts);
		if (meta_sgl < 0)
			return meta_sgl;
	}
	return io_sync(qp, sqe, buf, len, meta, meta_len, meta_sgl, opts, cqe);
}

/* ---- Split transfers ---------------------------------------------------- */

/* One logical-block command split into pieces the queue can carry. */
struct io_split {
	struct vfn_nvme_qpair *qp;
	uint8_t opcode;
	uint32_t nsid;
	uint64_t slba, nlb;  /* what is left to post */
	uint8_t *buf;	     /* NULL for commands without data */
	uint32_t lba_size;   /* bytes per block in @buf (data, + metadata if interleaved) */
	uint32_t max_blocks; /* per command */
	uint64_t meta_iova;  /* separate metadata of the next piece, contiguous; 0: none */
	uint8_t *meta;	     /* ... as an SGL (PSDT 10b): its address; NULL: none */
	uint32_t meta_size;  /* its bytes per block */
	uint32_t cdw12;	     /* PRINFO, FUA */
	uint32_t cdw15;	     /* app tag, mask */
	uint64_t ref_tag;    /* of the next piece */
	bool ref_inc;	     /* PI types 1/2: + blocks per piece */
	bool ref48;	     /* 64-bit guard: bits 47:32 in CDW3 */
	bool sgl;
	unsigned int pending; /* posted, not completed */
	bool failed;
	struct vfn_nvme_cqe cqe; /* the first error completion */
};

static void io_split_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct io_split *s = rq->opaque;

	s->pending--;
	if (vfn_nvme_status_to_errno(vfn_nvme_cqe_status(cqe)) && !s->failed) {
		s->failed = true;
		s->cqe = *cqe;
	}
}

/* Posts the next piece with @cb/@opaque; -EBUSY when no request is free. */
static int io_split_post(struct io_split *s, vfn_rq_cb cb, void *opaque)
{
	uint32_t n = s->nlb < s->max_blocks ? (uint32_t)s->nlb : s->max_blocks;
	size_t len = s->buf ? (size_t)n * s->lba_size : 0;
	struct vfn_nvme_sqe sqe = {
		.opcode = s->opcode,
		.nsid = vfn_cpu_to_le32(s->nsid),
		.cdw10 = vfn_cpu_to_le32((uint32_t)s->slba),
		.cdw11 = vfn_cpu_to_le32((uint32_t)(s->slba >> 32)),
		.cdw12 = vfn_cpu_to_le32((n - 1) | s->cdw12),
		.cdw14 = vfn_cpu_to_le32((uint32_t)s->ref_tag),
		.cdw15 = vfn_cpu_to_le32(s->cdw15),
		.cdw3 = vfn_cpu_to_le32(s->ref48 ? (uint32_t)(s->ref_tag >> 32) & 0xffff : 0),
		.mptr = vfn_cpu_to_le64(s->meta_iova),
	};
	int ret;

	if (vfn_unlikely(s->meta))
		ret = io_post_meta(s->qp, &sqe, s->buf, len, s->sgl, s->meta, (size_t)n * s->meta_size, 1, cb, opaque,
				   NULL);
	else
		ret = vfn_nvme_io_async(s->qp, &sqe, s->buf, len, s->sgl, cb, opaque);
	if (ret)
		return ret;
	s->pending++;
	s->slba += n;
	s->nlb -= n;
	if (s->ref_inc)
		s->ref_tag += n;
	if (s->meta_iova)
		s->meta_iova += (uint64_t)n * s->meta_size;
	if (s->meta)
		s->meta += (size_t)n * s->meta_size;
	if (s->buf)
		s->buf += len;
	return 0;
}

/* Something to do: all pieces done, or one can be posted. */
static bool io_split_progress(const void *arg)
{
	const struct io_split *s = arg;

	return !s->pending || (s->nlb && !s->failed && s->qp->rqs.nr_free);
}

static bool io_split_done(const void *arg)
{
	return !((const struct io_split *)arg)->pending;
}

static bool io_split_mine(const struct vfn_rq *rq, const void *arg)
{
	return rq->cb == io_split_cb && rq->opaque == arg;
}

/* Gives up on the pieces still in flight (timeout, device gone). */
static void io_split_abandon(struct io_split *s)
{
	struct vfn_rq_tracker *t = &s->qp->rqs;

	for (unsigned int i = 0; i < t->nr; i++)
		if (t->rqs[i].state == VFN_RQ_INFLIGHT && t->rqs[i].opaque == s)
			t->rqs[i].state = VFN_RQ_ABANDONED;
	log_err("SQ %u: %u commands abandoned", s->qp->sq.qid, s->pending);
}

/* Posts as many pieces as requests allow; 0, or the error of a piece that cannot be posted. */
static int io_split_post_some(struct io_split *s)
{
	bool posted = false;
	int ret = 0;

	while (s->nlb && !s->failed) {
		ret = io_split_post(s, io_split_cb, s);
		if (ret)
			break;
		posted = true;
	}
	if (posted)
		vfn_nvme_qpair_submit(s->qp);
	if (ret == -EBUSY && s->pending)
		return 0; /* more once some complete */
	if (ret)
		s->failed = true; /* post nothing more, let the posted ones finish */
	return ret;
}

static int io_split_run(struct io_split *s, const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe)
{
	int post_err = 0, ret;

	while (s->pending || (s->nlb && !s->failed)) {
		ret = io_split_post_some(s);
		if (ret && !post_err)
			post_err = ret;
		if (!s->pending)
			break;
		ret = vfn_rq_wait_cond(s->qp, io_split_progress, s, io_timeout(opts));
		if (ret == -ETIMEDOUT)
			ret = vfn_nvme_qpair_sync_timeout(s->qp, io_timeout(opts), io_split_done, io_split_mine, s);
		if (ret) {
			if (s->pending) /* no controller to quiesce, or it failed meanwhile */
				io_split_abandon(s);
			return ret;
		}
	}
	if (cqe)
		*cqe = s->cqe;
	if (post_err)
		return post_err;
	return s->failed ? -EIO : 0;
}

static int io_check_range(const struct vfn_nvme_ns_info *ns, uint64_t slba, uint64_t nlb)
{
	if (!ns || !ns->lba_size) {
		log_debug("io: no namespace information");
		return -EINVAL;
	}
	if (!nlb || slba + nlb < slba) {
		log_debug("io: %llu blocks at LBA %llu: empty or wrapping range", (unsigned long long)nlb,
			  (unsigned long long)slba);
		return -EINVAL;
	}
	return 0;
}

/*
 * The metadata of a transfer that goes as an SGL: every byte of it must be
 * DMA-mapped (checked before anything is sent; each piece's descriptors
 * are made when it is posted).
 */
static int io_meta_mapped(struct io_split *s, uint8_t *meta, size_t len)
{
	for (size_t off = 0; off < len;) {
		uint64_t iova;
		size_t mapped;

		if (io_translate(s->qp, meta + off, &iova, &mapped) || !mapped) {
			log_debug("io: metadata buffer %p: byte %zu of %zu not DMA-mapped", (void *)meta, off, len);
			return -EINVAL;
		}
		off += mapped < len - off ? mapped : len - off;
	}
	s->meta = meta;
	return 0;
}

/* PRINFO and the metadata buffer of @opts checked against @ns; what @s carries set. */
static int io_split_meta(struct io_split *s, const struct vfn_nvme_ns_info *ns, uint64_t nlb, bool data,
			 const struct vfn_nvme_io_opts *opts)
{
	uint8_t prinfo = opts ? opts->prinfo : 0;
	bool moves = data && vfn_pi_meta_moves(ns->ms, ns->pi_type, ns->pif, prinfo);
	size_t need = (size_t)nlb * ns->ms, mapped;
	int msgl;

	if ((prinfo & ~0xfu) || (prinfo && !ns->pi_type)) {
		log_debug("io: PRINFO 0x%x on namespace %u with PI type %u", prinfo, ns->nsid, ns->pi_type);
		return -EINVAL;
	}
	if (opts && ns->pi_type && opts->ref_tag > (ns->pif == VFN_PI_PIF_64 ? 0xffffffffffffULL : 0xffffffffULL)) {
		log_debug("io: reference tag 0x%llx does not fit namespace %u's %u-bit tags",
			  (unsigned long long)opts->ref_tag, ns->nsid, ns->pif == VFN_PI_PIF_64 ? 48 : 32);
		return -EINVAL;
	}
	if (opts && opts->meta && (!moves || ns->mset)) {
		log_debug("io: a metadata buffer, but namespace %u moves none here (ms %u%s)", ns->nsid, ns->ms,
			  ns->mset ? ", extended LBA" : "");
		return -EINVAL;
	}
	s->lba_size = moves && ns->mset ? ns->block_size : ns->lba_size;
	s->cdw12 = (uint32_t)prinfo << VFN_PI_PRINFO_SHIFT | (opts && opts->fua ? 1u << 30 : 0);
	if (opts) {
		s->cdw15 = (uint32_t)opts->app_mask << 16 | opts->app_tag;
		s->ref_tag = opts->ref_tag;
	}
	s->ref_inc = ns->pi_type == VFN_PI_TYPE1 || ns->pi_type == VFN_PI_TYPE2;
	s->ref48 = ns->pif == VFN_PI_PIF_64;
	if (!moves || ns->mset)
		return 0;
	if (!opts || !opts->meta || (opts->meta_len && opts->meta_len < need) || nlb > SIZE_MAX / ns->ms) {
		log_debug("io: namespace %u needs %zu bytes of separate metadata, given %zu", ns->nsid, need,
			  opts && opts->meta ? opts->meta_len : 0);
		return -EINVAL;
	}
	msgl = io_meta_sgl(s->qp, opts->meta, need, opts);
	if (msgl < 0)
		return msgl;
	s->meta_size = ns->ms;
	if (msgl)
		return io_meta_mapped(s, opts->meta, need);
	if (io_translate(s->qp, opts->meta, &s->meta_iova, &mapped) || mapped < need) {
		log_debug("io: metadata buffer %p: not one DMA mapping of %zu bytes", opts->meta, need);
		return -EINVAL;
	}
	return 0;
}

/* Checks a logical-block command and sets @s up to post it in pieces. */
static int io_split_init(struct io_split *s, struct vfn_nvme_qpair *qp, uint8_t opcode,
			 const struct vfn_nvme_ns_info *ns, uint64_t slba, uint64_t nlb, void *buf,
			 const struct vfn_nvme_io_opts *opts, bool sgl)
{
	int ret = io_check_range(ns, slba, nlb);

	if (ret)
		return ret;
	if (!qp || (!buf && opcode != VFN_NVME_CMD_WRITE_ZEROES)) {
		log_debug("io: NULL %s", qp ? "buffer" : "queue pair");
		return -EINVAL;
	}
	*s = (struct io_split){
		.qp = qp,
		.opcode = opcode,
		.nsid = ns->nsid,
		.slba = slba,
		.nlb = nlb,
		.buf = buf,
		.sgl = sgl,
	};
	ret = io_split_meta(s, ns, nlb, buf != NULL, opts);
	if (ret)
		return ret;
	if (buf && (nlb > SIZE_MAX / s->lba_size || qp->max_xfer < s->lba_size)) {
		log_debug("io: %llu blocks of %u bytes do not fit the transfer limit", (unsigned long long)nlb,
			  s->lba_size);
		return -EINVAL;
	}
	if (buf && opts && opts->buf_len && opts->buf_len < nlb * s->lba_size) {
		log_debug("io: %llu blocks of %u bytes do not fit a %zu-byte buffer", (unsigned long long)nlb,
			  s->lba_size, opts->buf_len);
		return -EINVAL;
	}
	/* MDTS counts the data and interleaved metadata (s->lba_size), not a separate metadata buffer. */
	s->max_blocks =
		buf && qp->max_xfer / s->lba_size < IO_NLB_MAX ? (uint32_t)(qp->max_xfer / s->lba_size) : IO_NLB_MAX;
	return 0;
}

static int io_rw(struct vfn_nvme_qpair *qp, uint8_t opcode, const struct vfn_nvme_ns_info *ns, uint64_t slba,
		 uint64_t nlb, void *buf, const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe)
{
	struct io_split s;
	int ret = io_split_init(&s, qp, opcode, ns, slba, nlb, buf, opts, opts && opts->sgl);

	if (ret)
		return ret;
	return io_split_run(&s, opts, cqe);
}

int vfn_nvme_read(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba, uint64_t nlb, void *buf,
		  const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe)
{
	return io_rw(qp, VFN_NVME_CMD_READ, ns, slba, nlb, buf, opts, cqe);
}

int vfn_nvme_write(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba, uint64_t nlb,
		   const void *buf, const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe)
{
	/* The controller only reads @buf. */
	return io_rw(qp, VFN_NVME_CMD_WRITE, ns, slba, nlb, (void *)buf, opts, cqe);
}

int vfn_nvme_write_zeroes(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba, uint64_t nlb,
			  const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe)
{
	return io_rw(qp, VFN_NVME_CMD_WRITE_ZEROES, ns, slba, nlb, NULL, opts, cqe);
}

int vfn_nvme_flush(struct vfn_nvme_qpair *qp, uint32_t nsid, const struct vfn_nvme_io_opts *opts,
		   struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(nsid) };

	return vfn_nvme_io_sync(qp, &sqe, NULL, 0, opts, cqe);
}

static int io_dsm_sqe(struct vfn_nvme_sqe *sqe, uint32_t nsid, const struct vfn_nvme_dsm_range *ranges, unsigned int nr)
{
	if (!ranges || nr == 0 || nr > IO_DSM_RANGES_MAX) {
		log_debug("dsm: %u ranges outside 1..%u", nr, IO_DSM_RANGES_MAX);
		return -EINVAL;
	}
	*sqe = (struct vfn_nvme_sqe){
		.opcode = VFN_NVME_CMD_DSM,
		.nsid = vfn_cpu_to_le32(nsid),
		.cdw10 = vfn_cpu_to_le32(nr - 1), /* NR, 0's based */
		.cdw11 = vfn_cpu_to_le32(VFN_NVME_DSM_AD),
	};
	return 0;
}

int vfn_nvme_dsm_deallocate(struct vfn_nvme_qpair *qp, uint32_t nsid, const struct vfn_nvme_dsm_range *ranges,
			    unsigned int nr, const struct vfn_nvme_io_opts *opts, struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_sqe sqe;
	int ret = io_dsm_sqe(&sqe, nsid, ranges, nr);

	if (ret)
		return ret;
	/* The controller only reads the ranges. */
	return vfn_nvme_io_sync(qp, &sqe, (void *)ranges, nr * sizeof(*ranges), opts, cqe);
}

/* ---- Asynchronous commands ---------------------------------------------- */

/* A piece of an asynchronous split transfer completed; the last one completes @rq->opaque. */
static void io_piece_cb(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct vfn_rq *parent = rq->opaque;
	bool parent_failed = vfn_nvme_status_to_errno(vfn_nvme_cqe_status(&parent->cqe));

	if (!parent_failed && vfn_nvme_status_to_errno(vfn_nvme_cqe_status(cqe)))
		parent->cqe = *cqe;
	if (rq->err && !parent->err)
		parent->err = rq->err; /* the driver gave up on a piece: so on the whole */
	if (--parent->pieces)
		return;
	if (!parent_failed)
		parent->cqe = *cqe;
	parent->state = VFN_RQ_DONE;
	parent->cb(qp, parent, &parent->cqe);
	if (parent->state == VFN_RQ_DONE)
		vfn_rq_release(qp, parent);
}

/* Takes back the pieces of @parent posted after SQ tail @tail (not rung yet), and @parent. */
static void io_split_unpost(struct vfn_nvme_qpair *qp, struct vfn_rq *parent, uint16_t tail)
{
	struct vfn_rq_tracker *t = &qp->rqs;

	qp->sq.tail = tail;
	for (unsigned int i = 0; i < t->nr; i++)
		if (t->rqs[i].state == VFN_RQ_INFLIGHT && t->rqs[i].opaque == parent)
			vfn_rq_release(qp, &t->rqs[i]);
	vfn_rq_release(qp, parent);
}

/* Posts all pieces of @s or none, under one request that stands for them. */
static int io_split_async(struct io_split *s, vfn_rq_cb cb, void *opaque)
{
	struct vfn_nvme_qpair *qp = s->qp;
	uint64_t pieces = (s->nlb + s->max_blocks - 1) / s->max_blocks;
	uint16_t tail = qp->sq.tail;
	struct vfn_rq *parent;
	int ret;

	if (pieces >= qp->rqs.nr || pieces >= qp->sq.entries) {
		/* Never fits, however many complete: -EBUSY would have the caller retry forever. */
		log_debug("io_async: %llu pieces of %u blocks need more than the queue's %u requests / %u slots",
			  (unsigned long long)pieces, s->max_blocks, qp->rqs.nr, qp->sq.entries);
		return -EINVAL;
	}
	if (pieces >= qp->rqs.nr_free || pieces > vfn_sq_space(&qp->sq))
		return -EBUSY;
	parent = vfn_rq_alloc(qp);
	parent->state = VFN_RQ_SPLIT;
	parent->cb = cb;
	parent->opaque = opaque;
	parent->pieces = (uint32_t)pieces;
	memset(&parent->cqe, 0, sizeof(parent->cqe));
	while (s->nlb) {
		ret = io_split_post(s, io_piece_cb, parent);
		if (ret) {
			io_split_unpost(qp, parent, tail);
			return ret;
		}
	}
	return 0;
}

static int io_rw_async(struct vfn_nvme_qpair *qp, uint8_t opcode, const struct vfn_nvme_ns_info *ns, uint64_t slba,
		       uint32_t nlb, void *buf, const struct vfn_nvme_io_opts *opts, bool sgl, vfn_rq_cb cb,
		       void *opaque)
{
	struct io_split s;
	int ret;

	if (!cb) {
		log_debug("io_async: no callback");
		return -EINVAL;
	}
	ret = io_split_init(&s, qp, opcode, ns, slba, nlb, buf, opts, sgl);
	if (ret)
		return ret;
	if (nlb <= s.max_blocks)
		return io_split_post(&s, cb, opaque);
	return io_split_async(&s, cb, opaque);
}

int vfn_nvme_read_async(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba, uint32_t nlb,
			void *buf, bool sgl, vfn_rq_cb cb, void *opaque)
{
	return io_rw_async(qp, VFN_NVME_CMD_READ, ns, slba, nlb, buf, NULL, sgl, cb, opaque);
}

int vfn_nvme_write_async(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba, uint32_t nlb,
			 const void *buf, bool sgl, vfn_rq_cb cb, void *opaque)
{
	return io_rw_async(qp, VFN_NVME_CMD_WRITE, ns, slba, nlb, (void *)buf, NULL, sgl, cb, opaque);
}

int vfn_nvme_write_zeroes_async(struct vfn_nvme_qpair *qp, const struct vfn_nvme_ns_info *ns, uint64_t slba,
				uint32_t nlb, vfn_rq_cb cb, void *opaque)
{
	return io_rw_async(qp, VFN_NVME_CMD_WRITE_ZEROES, ns, slba, nlb, NULL, NULL, false, cb, opaque);
}

int vfn_nvme_flush_async(struct vfn_nvme_qpair *qp, uint32_t nsid, vfn_rq_cb cb, void *opaque)
{
	struct vfn_nvme_sqe sqe = { .opcode = VFN_NVME_CMD_FLUSH, .nsid = vfn_cpu_to_le32(nsid) };

	return vfn_nvme_io_async(qp, &sqe, NULL, 0, false, cb, opaque);
}

int vfn_nvme_dsm_deallocate_async(struct vfn_nvme_qpair *qp, uint32_t nsid, const struct vfn_nvme_dsm_range *ranges,
				  unsigned int nr, vfn_rq_cb cb, void *opaque)
{
	struct vfn_nvme_sqe sqe;
	int ret = io_dsm_sqe(&sqe, nsid, ranges, nr);

	if (ret)
		return ret;
	return vfn_nvme_io_async(qp, &sqe, (void *)ranges, nr * sizeof(*ranges), false, cb, opaque);
}

int vfn_nvme_rw_async(struct vfn_nvme_qpair *qp, uint8_t opcode, const struct vfn_nvme_ns_info *ns, uint64_t slba,
		      uint32_t nlb, void *buf, const struct vfn_nvme_io_opts *opts, vfn_rq_cb cb, void *opaque)
{
	if (opcode != VFN_NVME_CMD_READ && opcode != VFN_NVME_CMD_WRITE && opcode != VFN_NVME_CMD_COMPARE &&
	    opcode != VFN_NVME_CMD_WRITE_ZEROES) {
		log_debug("rw_async: opcode 0x%02x is not Read, Write, Compare or Write Zeroes", opcode);
		return -EINVAL;
	}
	return io_rw_async(qp, opcode, ns, slba, nlb, opcode == VFN_NVME_CMD_WRITE_ZEROES ? NULL : buf, opts,
			   opts && opts->sgl, cb, opaque);
}
