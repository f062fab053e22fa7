/* SPDX-License-Identifier: MIT */
/*
 * Command logs: a ring of the last N commands posted on a queue and their
 * completions, and a decoder that prints them in spec terms.  An I/O queue
 * pair records behind qp->hooks (one branch when off); the admin queue
 * records under its lock, from admin.c.
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
	CMDLOG_ABANDONED, /* admin: the driver gave up waiting (err says why) */
	CMDLOG_LATE,	  /* admin: completed after it was abandoned (err says why it was) */
};

struct cmdlog_entry {
	uint64_t seq; /* 1, 2, ...; 0: slot unused */
	struct vfn_nvme_sqe sqe;
	struct vfn_nvme_cqe cqe;
	int32_t err; /* rq->err at completion; admin: why it was abandoned */
	uint8_t state;
	uint8_t rq_flags;
};

struct vfn_nvme_cmdlog {
	uint32_t entries;
	uint64_t seq; /* of the newest entry */
	struct cmdlog_entry e[];
};

int vfn_nvme_cmdlog_new(uint32_t entries, struct vfn_nvme_cmdlog **out)
{
	struct vfn_nvme_cmdlog *log;

	*out = NULL;
	if (entries > CMDLOG_MAX_ENTRIES) {
		log_debug("command log: %u entries beyond %u", entries, CMDLOG_MAX_ENTRIES);
		return -EINVAL;
	}
	if (!entries)
		return 0;
	log = calloc(1, sizeof(*log) + (size_t)entries * sizeof(log->e[0]));
	if (!log)
		return -ENOMEM;
	log->entries = entries;
	*out = log;
	return 0;
}

/* Records @sqe as the newest entry; returns its sequence number. */
static uint64_t cmdlog_add(struct vfn_nvme_cmdlog *log, const struct vfn_nvme_sqe *sqe, uint8_t state, uint8_t rq_flags)
{
	uint64_t seq = ++log->seq;

	log->e[seq % log->entries] = (struct cmdlog_entry){
		.seq = seq,
		.sqe = *sqe,
		.state = state,
		.rq_flags = rq_flags,
	};
	return seq;
}

/* The entry of @seq, or NULL if newer commands overwrote it. */
static struct cmdlog_entry *cmdlog_entry(struct vfn_nvme_cmdlog *log, uint64_t seq)
{
	struct cmdlog_entry *e = &log->e[seq % log->entries];

	return seq && e->seq == seq ? e : NULL;
}

int vfn_nvme_qpair_log_enable(struct vfn_nvme_qpair *qp, uint32_t entries)
{
	struct vfn_nvme_cmdlog *log;
	int ret;

	if (!qp) {
		log_debug("log_enable: NULL queue pair");
		return -EINVAL;
	}
	ret = vfn_nvme_cmdlog_new(entries, &log);
	if (ret)
		return ret;
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
	uint8_t state = (rq->flags & VFN_RQ_F_HELD) ? CMDLOG_HELD : CMDLOG_POSTED;

	rq->log_seq = cmdlog_add(qp->cmdlog, sqe, state, (uint8_t)rq->flags);
}

void vfn_nvme_cmdlog_complete(struct vfn_nvme_qpair *qp, const struct vfn_rq *rq, const struct vfn_nvme_cqe *cqe)
{
	struct cmdlog_entry *e;

	if (!qp->cmdlog)
		return;
	e = cmdlog_entry(qp->cmdlog, rq->log_seq);
	if (!e)
		return; /* not logged, or overwritten by newer commands */
	e->cqe = *cqe;
	e->err = rq->err;
	e->state = CMDLOG_COMPLETED;
}

/*
 * The newest admin entry of command id @cid in @state.  An admin command id
 * is not reused while its command is outstanding or abandoned, so that is
 * the command a completion of @cid belongs to.
 */
static struct cmdlog_entry *cmdlog_find_cid(struct vfn_nvme_cmdlog *log, uint16_t cid, uint8_t state)
{
	uint64_t oldest = log->seq > log->entries ? log->seq - log->entries + 1 : 1;

	for (uint64_t seq = log->seq; seq >= oldest; seq--) {
		struct cmdlog_entry *e = cmdlog_entry(log, seq);

		if (e && e->state == state && vfn_le16_to_cpu(e->sqe.cid) == cid)
			return e;
	}
	return NULL;
}

void vfn_nvme_admin_log_post(struct vfn_nvme_admin *a, const struct vfn_nvme_sqe *sqe)
{
	if (a->log)
		cmdlog_add(a->log, sqe, CMDLOG_POSTED, 0);
}

void vfn_nvme_admin_log_complete(struct vfn_nvme_admin *a, const struct vfn_nvme_cqe *cqe, bool late)
{
	struct cmdlog_entry *e;

	if (!a->log)
		return;
	e = cmdlog_find_cid(a->log, vfn_le16_to_cpu(cqe->cid), late ? CMDLOG_ABANDONED : CMDLOG_POSTED);
	if (!e)
		return; /* overwritten by newer commands */
	e->cqe = *cqe;
	e->state = late ? CMDLOG_LATE : CMDLOG_COMPLETED;
}

void vfn_nvme_admin_log_abandon(struct vfn_nvme_admin *a, uint16_t cid, int err)
{
	struct cmdlog_entry *e;

	if (!a->log)
		return;
	e = cmdlog_find_cid(a->log, cid, CMDLOG_POSTED);
	if (!e)
		return;
	e->err = err;
	e->state = CMDLOG_ABANDONED;
}

void vfn_nvme_admin_log_reset(struct vfn_nvme_admin *a)
{
	struct vfn_nvme_cmdlog *log = a->log;

	if (!log)
		return;
	for (uint32_t i = 0; i < log->entries; i++) {
		struct cmdlog_entry *e = &log->e[i];

		if (e->seq && e->state == CMDLOG_POSTED) {
			e->err = -ECANCELED;
			e->state = CMDLOG_ABANDONED;
		}
	}
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

/* Why the driver gave up on an admin command (the err of CMDLOG_ABANDONED and CMDLOG_LATE). */
static const char *cmdlog_abandon_str(int err)
{
	switch (err) {
	case -ETIMEDOUT:
		return "timed out";
	case -ECANCELED:
		return "cancelled: controller reset";
	case -ENODEV:
		return "abandoned: device gone";
	case -EIO:
		return "abandoned: controller fatal status";
	default:
		return "abandoned";
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
	if (e->state == CMDLOG_ABANDONED)
		return snprintf(buf, len, "no completion [%s]", cmdlog_abandon_str(e->err));
	if (e->state == CMDLOG_LATE)
		return snprintf(buf, len, "%s (0x%03x%s) dw0 0x%08x sqhd %u [late: after it %s]",
				vfn_nvme_status_str(status), status & 0x7ff, vfn_nvme_status_dnr(status) ? " DNR" : "",
				vfn_le32_to_cpu(e->cqe.dw0), vfn_le16_to_cpu(e->cqe.sqhd), cmdlog_abandon_str(e->err));
	return snprintf(buf, len, "%s (0x%03x%s) dw0 0x%08x sqhd %u%s%s", vfn_nvme_status_str(status), status & 0x7ff,
			vfn_nvme_status_dnr(status) ? " DNR" : "", vfn_le32_to_cpu(e->cqe.dw0),
			vfn_le16_to_cpu(e->cqe.sqhd), e->rq_flags & VFN_RQ_F_INJECTED ? " [injected]" : "",
			cmdlog_err_str(e->err));
}

/* One line for an entry of queue @qid; admin opcode names on queue 0. */
static void cmdlog_format(uint16_t qid, const struct cmdlog_entry *e, char *line)
{
	const struct vfn_nvme_sqe *s = &e->sqe;
	char result[160];

	cmdlog_format_result(e, result, sizeof(result));
	snprintf(line, CMDLOG_LINE_MAX,
		 "#%" PRIu64 " SQ %u cid %u %s (0x%02x) nsid %u cdw10 0x%08x cdw11 0x%08x cdw12 0x%08x "
		 "cdw13 0x%08x cdw14 0x%08x cdw15 0x%08x -> %s",
		 e->seq, qid, vfn_le16_to_cpu(s->cid), vfn_nvme_opcode_str(qid == 0, s->opcode), s->opcode,
		 vfn_le32_to_cpu(s->nsid), vfn_le32_to_cpu(s->cdw10), vfn_le32_to_cpu(s->cdw11),
		 vfn_le32_to_cpu(s->cdw12), vfn_le32_to_cpu(s->cdw13), vfn_le32_to_cpu(s->cdw14),
		 vfn_le32_to_cpu(s->cdw15), result);
}

/* Calls @emit for each entry of @log (may be NULL), oldest first; stops at its first error. */
static int cmdlog_walk(const struct vfn_nvme_cmdlog *log, uint16_t qid, int (*emit)(const char *line, void *arg),
		       void *arg)
{
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
		cmdlog_format(qid, e, line);
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

/* The whole text of @log into @buf, snprintf style (arguments checked by the caller). */
static int cmdlog_snprint(const struct vfn_nvme_cmdlog *log, uint16_t qid, char *buf, size_t len)
{
	struct emit_buf b = { buf, len, 0 };

	if (len)
		buf[0] = '\0';
	cmdlog_walk(log, qid, emit_buf, &b);
	return b.total > INT32_MAX ? INT32_MAX : (int)b.total;
}

static int emit_debug(const char *line, void *arg)
{
	(void)arg;
	log_debug("  %s", line);
	return 0;
}

int vfn_nvme_qpair_log_dump(const struct vfn_nvme_qpair *qp, FILE *f)
{
	if (!qp || !f) {
		log_debug("log_dump: NULL %s", qp ? "file" : "queue pair");
		return -EINVAL;
	}
	return cmdlog_walk(qp->cmdlog, qp->sq.qid, emit_file, f);
}

int vfn_nvme_qpair_log_snprint(const struct vfn_nvme_qpair *qp, char *buf, size_t len)
{
	if (!qp || (!buf && len)) {
		log_debug("log_snprint: NULL queue pair or buffer");
		return -EINVAL;
	}
	return cmdlog_snprint(qp->cmdlog, qp->sq.qid, buf, len);
}

void vfn_nvme_cmdlog_debug_dump(const struct vfn_nvme_qpair *qp)
{
	if (vfn_log_level_cur < VFN_LOG_DEBUG)
		return;
	log_debug("SQ %u: command log after a timeout (oldest first):", qp->sq.qid);
	cmdlog_walk(qp->cmdlog, qp->sq.qid, emit_debug, NULL);
}

void vfn_nvme_admin_log_debug_dump(const struct vfn_nvme_admin *a, uint16_t cid)
{
	if (!a->log || vfn_log_level_cur < VFN_LOG_DEBUG)
		return;
	log_debug("SQ 0: command log after admin command %u was abandoned (oldest first):", cid);
	cmdlog_walk(a->log, 0, emit_debug, NULL);
}

/* ---- The admin queue's log (public) -------------------------------------- */

int vfn_nvme_admin_log_enable(struct vfn_nvme_ctrl *ctrl, uint32_t entries)
{
	struct vfn_nvme_cmdlog *log, *old;
	int ret;

	if (!ctrl) {
		log_debug("admin_log_enable: NULL controller");
		return -EINVAL;
	}
	ret = vfn_nvme_cmdlog_new(entries, &log);
	if (ret)
		return ret;
	pthread_mutex_lock(&ctrl->admin.lock);
	old = ctrl->admin.log;
	ctrl->admin.log = log;
	pthread_mutex_unlock(&ctrl->admin.lock);
	free(old);
	return 0;
}

int vfn_nvme_admin_log_dump(struct vfn_nvme_ctrl *ctrl, FILE *f)
{
	int ret;

	if (!ctrl || !f) {
		log_debug("admin_log_dump: NULL %s", ctrl ? "file" : "controller");
		return -EINVAL;
	}
	pthread_mutex_lock(&ctrl->admin.lock);
	ret = cmdlog_walk(ctrl->admin.log, 0, emit_file, f);
	pthread_mutex_unlock(&ctrl->admin.lock);
	return ret;
}

int vfn_nvme_admin_log_snprint(struct vfn_nvme_ctrl *ctrl, char *buf, size_t len)
{
	int ret;

	if (!ctrl || (!buf && len)) {
		log_debug("admin_log_snprint: NULL controller or buffer");
		return -EINVAL;
	}
	pthread_mutex_lock(&ctrl->admin.lock);
	ret = cmdlog_snprint(ctrl->admin.log, 0, buf, len);
	pthread_mutex_unlock(&ctrl->admin.lock);
	return ret;
}
