// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's result stream (core/wire.h records) replayed into the host's
 * database while the guest runs, and the verdict on the guest as a whole:
 * completed, crashed (panic, hang, QEMU failure) or interrupted, with the
 * case it was running recorded rather than lost.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/runner.h"
#include "core/wire.h"
#include "report/console.h"
#include "vm/node.h"


static int replay_record(struct vm_replay *rp, uint32_t type, struct wire_rd *rd)
{
	struct cdm_run_info info;
	struct cdm_case_res c;
	struct cdm_kevents kev = { 0 };
	struct cdm_kevent e;
	char *s;
	int r = 0;

	switch (type) {
	case S_RUN:
		if (wire_get_run(rd, &info))
			return cdm_err("vm: corrupt run record in the guest's stream");
		r = db_run_identity(rp->db, rp->run_id, &info);
		rp->ncases = info.ncases;
		rp->pg.ncases = info.ncases;
		rp->got_run = true;
		run_info_free(&info);
		break;
	case S_CASE_START:
		rp->cur_seq = wire_get_u32(rd);
		s = wire_get_str(rd);
		snprintf(rp->cur_name, sizeof(rp->cur_name), "%s", s);
		progress_case(&rp->pg, s);
		free(s);
		break;
	case S_CASE:
		if (wire_get_case(rd, &c)) {
			case_res_free(&c);
			return cdm_err("vm: corrupt case record in the guest's stream");
		}
		case_res_summarize(&c);
		r = db_case(rp->db, rp->run_id, &c);
		rp->verdicts[c.verdict]++;
		rp->cur_seq = -1;
		rp->pg.done++;
		progress_clear(&rp->pg);
		if (!rp->quiet_lines)
			print_case_line(&c, rp->ncases);
		case_res_free(&c);
		break;
	case S_KEVENT:
		if (wire_get_kevent(rd, &e))
			return cdm_err("vm: corrupt kernel event in the guest's stream");
		kev_add(&kev, &e);
		free(e.text);
		r = db_kevents(rp->db, rp->run_id, &kev);
		kev_free(&kev);
		break;
	case S_END:
		s = wire_get_str(rd);
		snprintf(rp->guest_status, sizeof(rp->guest_status), "%s", s);
		free(s);
		rp->got_end = true;
		break;
	}
	return r;
}

/* consume whatever complete records the guest has written so far */
int vm_replay_poll(struct vm_replay *rp, const char *path)
{
	size_t mlen = strlen(CDM_STREAM_MAGIC), len;
	char *data = read_file(path, 0, &len);
	size_t off;

	if (!data)
		return 0;	/* not created yet */
	if (len <= rp->off) {
		free(data);
		return 0;
	}
	if (!rp->magic_ok) {
		if (len < mlen) {
			free(data);
			return 0;
		}
		if (memcmp(data, CDM_STREAM_MAGIC, mlen)) {
			free(data);
			return cdm_err("vm: %s is not a cdmbench result stream", path);
		}
		rp->magic_ok = true;
		rp->off = mlen;
	}
	off = rp->off;
	while (!rp->err) {
		struct wire_rd rd;
		uint32_t type;
		long used = wire_next((uint8_t *)data + off, len - off, &type, &rd);

		if (used < 0) {
			rp->err = cdm_err("vm: corrupt record at byte %zu of the guest's stream",
					  off);
			break;
		}
		if (used == 0)
			break;
		if (replay_record(rp, type, &rd))
			rp->err = -1;
		off += used;
	}
	rp->off = off;
	free(data);
	return rp->err;
}

/* --- verdicts on the guest as a whole --- */

static char *console_tail(const char *path, int lines)
{
	size_t len;
	char *s = read_file(path, 0, &len), *p;
	int n = 0;

	if (!s)
		return xstrdup("");
	for (p = s + len; p > s; p--) {
		if (p[-1] == '\n' && p != s + len && ++n > lines)
			break;
	}
	p = xstrdup(p);
	free(s);
	return p;
}

/* the first line naming why the guest kernel died, if any */
static char *crash_line(const char *console)
{
	static const char *const marks[] = { "Kernel panic", "Oops", "BUG:",
		"cdmbench-init: " };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(marks); i++) {
		const char *p = strstr(console, marks[i]);
		size_t l;

		if (!p)
			continue;
		if (i == 3 && (strstr(p, "cdmbench-init: ready") == p ||
			       strstr(p, "cdmbench-init: done") == p))
			continue;
		l = strcspn(p, "\r\n");
		return xasprintf("%.*s", (int)(l > 300 ? 300 : l), p);
	}
	return NULL;
}


void vm_judge(struct vm *vm, struct vm_replay *rp, bool timed_out,
		  struct vm_outcome *o)
{
	char *cpath = vm_share_file(vm, "console.log"), *epath = vm_share_file(vm, "qemu.err");
	char *console = read_file(cpath, 0, NULL), *qerr = console_tail(epath, 5);
	char *why = console ? crash_line(console) : NULL;

	o->exit_code = CDM_EXIT_FAIL;
	if (cdm_stop_signal) {
		o->status = "interrupted";
		snprintf(o->reason, sizeof(o->reason),
			 "stopped by signal %d (SIG%s); the guest was shut down",
			 cdm_stop_signal, sigabbrev_np(cdm_stop_signal));
		o->exit_code = 128 + cdm_stop_signal;
	} else if (rp->got_end && !timed_out) {
		o->status = !strcmp(rp->guest_status, "completed") ?
			"completed" : "interrupted";
		o->reason[0] = 0;
		o->exit_code = rp->verdicts[CDM_FAIL] || rp->verdicts[CDM_ERROR] ||
			rp->verdicts[CDM_TIMEOUT] || rp->verdicts[CDM_CRASH] ?
			CDM_EXIT_FAIL : CDM_EXIT_OK;
	} else if (timed_out) {
		o->status = "crashed";
		snprintf(o->reason, sizeof(o->reason),
			 "guest hung: no end of run within --timeout %llus%s%s",
			 (unsigned long long)(vm->a->timeout / 1000000000ull),
			 why ? "; console: " : "", why ? why : "");
	} else if (why) {
		o->status = "crashed";
		snprintf(o->reason, sizeof(o->reason), "guest crashed: %s", why);
	} else if (vm->qemu_exited && WIFEXITED(vm->qemu_status) &&
		   WEXITSTATUS(vm->qemu_status)) {
		o->status = "crashed";
		snprintf(o->reason, sizeof(o->reason), "QEMU failed (exit %d): %s",
			 WEXITSTATUS(vm->qemu_status), strtrim(qerr));
	} else {
		o->status = "crashed";
		snprintf(o->reason, sizeof(o->reason),
			 "the guest stopped before the end of the run (no panic on the console; QEMU %s)",
			 vm->qemu_exited ? "exited" : "was killed");
	}
	free(why);
	free(console);
	free(qerr);
	free(cpath);
	free(epath);
}

/* the case a crashed guest was running is recorded, not forgotten */
int vm_record_lost_case(struct vm *vm, struct vm_replay *rp,
			    const struct vm_outcome *o)
{
	struct cdm_case_res c;
	char *cpath;
	char *tail;
	int r;

	if (rp->cur_seq < 0)
		return 0;
	cpath = vm_share_file(vm, "console.log");
	tail = console_tail(cpath, CONSOLE_TAIL);
	case_res_init(&c);
	c.seq = rp->cur_seq;
	c.name = xstrdup(rp->cur_name);
	c.workload = xstrdup("?");
	c.backend = xstrdup("?");
	c.device_type = xstrdup("?");
	c.params = xstrdup("{}");
	c.match_key = xstrdup("");
	c.start_wall = c.end_wall = cdm_wall_ns();
	case_res_verdict(&c, !strcmp(o->status, "interrupted") ?
			 CDM_INTERRUPTED : CDM_CRASH, o->reason);
	sb_adds(&c.log, tail);
	r = db_case(rp->db, rp->run_id, &c);
	rp->verdicts[c.verdict]++;
	print_case_line(&c, rp->ncases);
	case_res_free(&c);
	free(tail);
	free(cpath);
	return r;
}
