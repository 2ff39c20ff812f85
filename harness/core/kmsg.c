// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kmsg reader. Each read() returns one record:
 *   "prefix,seq,usec,flags[,...];text\n" followed by " KEY=VALUE" lines.
 * We open non-blocking, skip what was logged before the run, and drain
 * between and after cases so each record lands on the case it happened in.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/kmsg.h"

void kmsg_open(struct cdm_kmsg *k)
{
	k->lost = 0;
	k->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (k->fd < 0) {
		snprintf(k->status, sizeof(k->status),
			 "unavailable: /dev/kmsg: %s", strerror(errno));
		return;
	}
	if (lseek(k->fd, 0, SEEK_END) < 0) {
		snprintf(k->status, sizeof(k->status),
			 "unavailable: seek /dev/kmsg: %s", strerror(errno));
		close(k->fd);
		k->fd = -1;
		return;
	}
	snprintf(k->status, sizeof(k->status), "ok");
}

void kmsg_close(struct cdm_kmsg *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

/* specific patterns first: "BUG: soft lockup" is a lockup, not a BUG */
static const struct {
	const char *needle;
	int cls;
} patterns[] = {
	{ "Kernel panic", CDM_K_PANIC },
	{ "is NOT pinnable", CDM_K_NOT_PINNABLE },
	{ "NOT dma-pinned", CDM_K_NOT_PINNABLE },
	{ "Bad page", CDM_K_BAD_PAGE },
	{ "bad page", CDM_K_BAD_PAGE },
	{ "soft lockup", CDM_K_SOFT_LOCKUP },
	{ "detected stall", CDM_K_RCU_STALL },
	{ "self-detected stall", CDM_K_RCU_STALL },
	{ "Oops", CDM_K_OOPS },
	{ "kernel BUG", CDM_K_BUG },
	{ "BUG:", CDM_K_BUG },
	{ "WARNING:", CDM_K_WARNING },
};

int kmsg_classify(const char *text)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(patterns); i++)
		if (strstr(text, patterns[i].needle))
			return patterns[i].cls;
	return CDM_K_OTHER;
}

bool kmsg_class_fails(int cls)
{
	return cls != CDM_K_OTHER;
}

bool kmsg_event_fails(const struct cdm_kevent *e)
{
	return e->facility == 0 && kmsg_class_fails(e->cls);
}

bool kmsg_parse(const char *rec, size_t len, struct cdm_kevent *e)
{
	unsigned long long prefix, seq, usec;
	const char *semi = memchr(rec, ';', len), *end;
	char *text;

	if (!semi || sscanf(rec, "%llu,%llu,%llu", &prefix, &seq, &usec) != 3)
		return false;
	semi++;
	/* the text ends at the first newline; dictionary lines follow */
	end = memchr(semi, '\n', len - (semi - rec));
	if (!end)
		end = rec + len;
	text = xmalloc(end - semi + 1);
	memcpy(text, semi, end - semi);
	text[end - semi] = 0;
	e->seq = seq;
	e->ts_usec = usec;
	e->level = prefix & 7;
	e->facility = prefix >> 3;
	e->cls = kmsg_classify(text);
	e->text = text;
	return true;
}

void kmsg_drain(struct cdm_kmsg *k, struct cdm_kevents *out)
{
	char buf[8192];

	if (k->fd < 0)
		return;
	for (;;) {
		struct cdm_kevent e;
		ssize_t n = read(k->fd, buf, sizeof(buf) - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			/* the ring wrapped past us; say so, then carry on */
			k->lost++;
			continue;
		}
		if (n <= 0)
			return;
		buf[n] = 0;
		if (!kmsg_parse(buf, n, &e))
			continue;
		kev_add(out, &e);
		free(e.text);
	}
}
