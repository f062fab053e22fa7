/* SPDX-License-Identifier: MIT */
/*
 * The per-queue command log: a ring of the last N commands posted on a
 * queue pair and their completions, and a decoder that prints them in spec
 * terms.  Recording runs behind qp->hooks (one branch when off).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "nvme/ctrl-priv.h"
#include "support/log.h"

#define CMDLOG_MAX_ENTRIES 65536u
#define CMDLOG_LINE_MAX 320

enum cmdlog_state {
	CMDLOG_POSTED,	  /* sent, no completion yet */
	CMDLOG_HELD,	  /* held back by injection */
	CMDLOG_COMPLETED, /* completion recorded */
};

struct cmdlog_entry {
	uint64_t seq; /* 1, 2, ...; 0: slot unused */
	struct vfn_nvme_sqe sqe;
	struct vfn_nvme_cqe cqe;
	int32_t err; /* rq->err at completion */
	uint8_t state;
	uint8_t rq_flags;
};

struct vfn_nvme_cmdlog {
	uint32_t entries;
	uint64_t seq; /* of the newest entry */
	struct cmdlog_entry e[];
};

int vfn_nvme_qpair_log_enable(struct vfn_nvme_qpair *qp, uint32_t entries)
{
	struct vfn_nvme_cmdlog *log = NULL;

	if (!qp || entries > CMDLOG_MAX_ENTRIES) {
		log_debug("log_enable: NULL queue pair or %u entries beyond %u", entries, CMDLOG_MAX_ENTRIES);
		return -EINVAL;
	}
	if (entries) {
		log = calloc(1, sizeof(*log) + (size_t)entries * sizeof(log->e[0]));
		if (!log)
			return -ENOMEM;
		log->entries = entries;
	}
	free(qp->cmdlog);
	qp->cmdlog = log;
	/* Requests posted before know no entry of this log. */
	for (unsigned int i = 0; i < qp->rqs.nr; i++)
		qp->rqs.rqs[i].log_seq = 0;
	vfn_nvme_qpair_update_hooks(qp);
	return 0;
}

void vfn_nvme_cmdlog_post(struct vfn_nvme_qpair *qp, struct vfn_rq *rq, const struct vfn_nvme_sqe *sqe)
{
	struct vfn_nvme_cmdlog *log = qp->cmdlog;
	struct cmdlog_entry *e;

	rq->log_seq = ++log->seq;
	e = &log->e[rq->log_seq % log->entries];
	*e = (struct cmdlog_entry){
		.seq = rq->log_seq,
		.sqe = *sqe,
		.state = (rq->flags & VFN_RQ_F_HELD) ? CMDLOG_HELD : CMDLOG_POSTED,
		.rq_flags = rq->flags,
	};
}

void vfn_nvme_cmdlog_complete(struct vfn_nvme_qpair *qp, const struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct vfn_nvme_cmdlog *log = qp->cmdlog;
	struct cmdlog_entry *e;

	if (!log || !rq->log_seq)
		return;
	e = &log->e[rq->log_seq % log->entries];
	if (e->seq != rq->log_seq)
		return; /* overwritten by newer commands */
	e->cqe = *cqe;
	e->err = rq->err;
	e->state = CMDLOG_COMPLETED;
}

static const char *cmdlog_err_str(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return " [timed out]";
	case -ECANCELED:
		return " [cancelled: controller failed or reset]";
	case -ENODEV:
		return " [cancelled: device gone]";
	default:
		return "";
	}
}

/* The completion half of a line. */
static int cmdlog_format_result(const struct cmdlog_entry *e, char *buf, size_t len)
{
	uint16_t status = vfn_nvme_cqe_status(&e->cqe);

	if (e->state == CMDLOG_POSTED)
		return snprintf(buf, len, "pending");
	if (e->state == CMDLOG_HELD)
		return snprintf(buf, len, "held back (injected timeout)");
	return snprintf(buf, len, "%s (0x%03x%s) dw0 0x%08x sqhd %u%s%s", vfn_nvme_status_str(status), status & 0x7ff,
			vfn_nvme_status_dnr(status) ? " DNR" : "", vfn_le32_to_cpu(e->cqe.dw0),
			vfn_le16_to_cpu(e->cqe.sqhd), e->rq_flags & VFN_RQ_F_INJECTED ? " [injected]" : "",
			cmdlog_err_str(e->err));
}

static void cmdlog_format(const struct vfn_nvme_qpair *qp, const struct cmdlog_entry *e, char *line)
{
	const struct vfn_nvme_sqe *s = &e->sqe;
	char result[160];
	bool admin = qp->sq.qid == 0;

	cmdlog_format_result(e, result, sizeof(result));
	snprintf(line, CMDLOG_LINE_MAX,
		 "#%" PRIu64 " SQ %u cid %u %s (0x%02x) nsid %u cdw10 0x%08x cdw11 0x%08x cdw12 0x%08x "
		 "cdw13 0x%08x cdw14 0x%08x cdw15 0x%08x -> %s",
		 e->seq, qp->sq.qid, vfn_le16_to_cpu(s->cid), vfn_nvme_opcode_str(admin, s->opcode), s->opcode,
		 vfn_le32_to_cpu(s->nsid), vfn_le32_to_cpu(s->cdw10), vfn_le32_to_cpu(s->cdw11),
		 vfn_le32_to_cpu(s->cdw12), vfn_le32_to_cpu(s->cdw13), vfn_le32_to_cpu(s->cdw14),
		 vfn_le32_to_cpu(s->cdw15), result);
}

/* Calls @emit for each entry, oldest first; stops at its first error. */
static int cmdlog_walk(const struct vfn_nvme_qpair *qp, int (*emit)(const char *line, void *arg), void *arg)
{
	const struct vfn_nvme_cmdlog *log = qp->cmdlog;
	char line[CMDLOG_LINE_MAX];
	uint64_t first;
	int n = 0, ret;

	if (!log || !log->seq)
		return 0;
	first = log->seq > log->entries ? log->seq - log->entries + 1 : 1;
	for (uint64_t seq = first; seq <= log->seq; seq++) {
		const struct cmdlog_entry *e = &log->e[seq % log->entries];

		if (e->seq != seq)
			continue;
		cmdlog_format(qp, e, line);
		ret = emit(line, arg);
		if (ret)
			return ret;
		n++;
	}
	return n;
}

static int emit_file(const char *line, void *arg)
{
	return fprintf(arg, "%s\n", line) < 0 ? -EIO : 0;
}

int vfn_nvme_qpair_log_dump(const struct vfn_nvme_qpair *qp, FILE *f)
{
	if (!qp || !f) {
		log_debug("log_dump: NULL %s", qp ? "file" : "queue pair");
		return -EINVAL;
	}
	return cmdlog_walk(qp, emit_file, f);
}

struct emit_buf {
	char *buf;
	size_t len;
	size_t total; /* length of the whole text */
};

static int emit_buf(const char *line, void *arg)
{
	struct emit_buf *b = arg;
	size_t room = b->total < b->len ? b->len - b->total : 0;
	int n = snprintf(room ? b->buf + b->total : NULL, room, "%s\n", line);

	b->total += (size_t)n;
	return 0;
}

int vfn_nvme_qpair_log_snprint(const struct vfn_nvme_qpair *qp, char *buf, size_t len)
{
	struct emit_buf b = { buf, len, 0 };

	if (!qp || (!buf && len)) {
		log_debug("log_snprint: NULL queue pair or buffer");
		return -EINVAL;
	}
	if (len)
		buf[0] = '\0';
	cmdlog_walk(qp, emit_buf, &b);
	return b.total > INT32_MAX ? INT32_MAX : (int)b.total;
}

static int emit_debug(const char *line, void *arg)
{
	(void)arg;
	log_debug("  %s", line);
	return 0;
}

void vfn_nvme_cmdlog_debug_dump(const struct vfn_nvme_qpair *qp)
{
	if (vfn_log_level_cur < VFN_LOG_DEBUG)
		return;
	log_debug("SQ %u: command log after a timeout (oldest first):", qp->sq.qid);
	cmdlog_walk(qp, emit_debug, NULL);
}
