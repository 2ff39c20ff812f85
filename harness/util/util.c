// SPDX-License-Identifier: GPL-2.0
/*
 * Shared helpers. Everything here is deliberately boring: errors in one
 * format, allocation that never returns NULL, buffers and a JSON writer.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/escape.h"
#include "util/util.h"

const char *cdm_progname = "cdmbench";
bool cdm_quiet;

static void vmsg(const char *tag, const char *fmt, va_list ap, int err)
{
	struct sbuf sb;

	/* one write() per message so concurrent processes do not interleave */
	struct sbuf msg;

	sb_init(&sb);
	sb_init(&msg);
	sb_addf(&sb, "%s: %s", cdm_progname, tag);
	/* messages quote names and values from files and databases: shown
	 * with their control characters visible, on one line */
	sb_vaddf(&msg, fmt, ap);
	esc_term(&sb, msg.buf ? msg.buf : "");
	sb_free(&msg);
	if (err)
		sb_addf(&sb, ": %s", strerror(err));
	sb_addc(&sb, '\n');
	if (write(STDERR_FILENO, sb.buf, sb.len) < 0) {
		/* stderr is gone: nothing sensible left to do */
	}
	sb_free(&sb);
}

int cdm_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap, 0);
	va_end(ap);
	return -1;
}

int cdm_set_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

int cdm_errno(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap, err);
	va_end(ap);
	return -1;
}

void cdm_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap, 0);
	va_end(ap);
}

void cdm_notice(const char *fmt, ...)
{
	va_list ap;

	if (cdm_quiet)
		return;
	va_start(ap, fmt);
	vmsg("", fmt, ap, 0);
	va_end(ap);
}

static void oom(size_t n)
{
	fprintf(stderr, "%s: out of memory allocating %zu bytes\n",
		cdm_progname, n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (!p)
		oom(n * sz);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s ? s : "");

	if (!p)
		oom(strlen(s));
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	struct sbuf sb;

	sb_init(&sb);
	sb_vaddf(&sb, fmt, ap);
	return sb_detach(&sb);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}

void sb_init(struct sbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb_grow(sb, 0);
}

void sb_free(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

void sb_grow(struct sbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (need <= sb->cap)
		return;
	if (sb->cap * 2 > need)
		need = sb->cap * 2;
	if (need < 64)
		need = 64;
	sb->buf = xrealloc(sb->buf, need);
	sb->cap = need;
	sb->buf[sb->len] = 0;
}

void sb_add(struct sbuf *sb, const void *p, size_t n)
{
	sb_grow(sb, n);
	if (n)		/* p may be NULL for nothing */
		memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	sb->buf[sb->len] = 0;
}

void sb_adds(struct sbuf *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_addc(struct sbuf *sb, char c)
{
	sb_add(sb, &c, 1);
}

void sb_vaddf(struct sbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	if ((size_t)n >= sb->cap - sb->len) {
		sb_grow(sb, n);
		vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
	}
	sb->len += n;
}

void sb_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(sb, fmt, ap);
	va_end(ap);
}

char *sb_detach(struct sbuf *sb)
{
	char *p = sb->buf;

	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return p;
}

void sb_reset(struct sbuf *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = 0;
}

char *read_file(const char *path, size_t max, size_t *lenp)
{
	struct sbuf sb;
	char tmp[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return NULL;
	sb_init(&sb);
	for (;;) {
		size_t want = sizeof(tmp);

		if (max && max - sb.len < want)
			want = max - sb.len;
		if (!want)
			break;
		n = read(fd, tmp, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			sb_free(&sb);
			errno = e;
			return NULL;
		}
		if (n == 0)
			break;
		sb_add(&sb, tmp, n);
	}
	close(fd);
	if (lenp)
		*lenp = sb.len;
	return sb_detach(&sb);
}

char *read_line_file(const char *path)
{
	char *s = read_file(path, 4096, NULL);
	char *nl;

	if (!s)
		return NULL;
	nl = strchr(s, '\n');
	if (nl)
		*nl = 0;
	return s;
}

size_t read_fd_rest(int fd, char *buf, size_t len, size_t got)
{
	if (got >= len)
		got = len - 1;	/* a caller's snprintf was truncated */
	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		if (n <= 0)
			break;
		got += n;
	}
	buf[got] = 0;
	return got;
}

int write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *c = p;

	if (fd < 0)
		return -1;
	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		c += w;
		n -= w;
	}
	return close(fd);
}

char *strtrim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = 0;
	return s;
}

bool streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

bool startswith(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

unsigned int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned int *row, d;

	row = xmalloc((lb + 1) * sizeof(*row));
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		unsigned int diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			unsigned int up = row[j];
			unsigned int best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

const char *nearest_name(const char *name, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned int bestd = ~0u, limit;
	size_t i;

	/* allow roughly one edit per three characters, at least two */
	limit = strlen(name) / 3;
	if (limit < 2)
		limit = 2;
	for (i = 0; i < n; i++) {
		unsigned int d = edit_distance(name, cands[i]);

		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	if (bestd <= limit)
		return best;
	/* "numa" for "numa-migrate": a unique prefix is a fine hint too */
	best = NULL;
	for (i = 0; i < n; i++) {
		if (strncmp(cands[i], name, strlen(name)))
			continue;
		if (best)
			return NULL;
		best = cands[i];
	}
	return strlen(name) >= 3 ? best : NULL;
}

void json_init(struct json *j, struct sbuf *sb, bool pretty)
{
	j->sb = sb;
	j->depth = 0;
	j->first[0] = true;
	j->pretty = pretty;
}

void json_doc(struct json *j, struct sbuf *sb)
{
	sb_init(sb);
	json_init(j, sb, true);
	json_obj_open(j, NULL);
}

/* the characters JSON writes as a backslash and a letter */
static const char *const json_short[128] = {
	['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\r'] = "\\r",
	['\t'] = "\\t",
};

void json_escape(struct sbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	sb_addc(sb, '"');
	while (*p) {
		size_t n = utf8_len(p);

		if (*p < 0x80 && json_short[*p])
			sb_adds(sb, json_short[*p]);
		else if (*p < 0x20 || *p == 0x7f)
			sb_addf(sb, "\\u%04x", *p);
		else if (!n)
			sb_adds(sb, "\\ufffd");	/* JSON text is UTF-8 */
		else if (n == 2 && *p == 0xc2 && p[1] < 0xa0)
			/* C1 controls: escaped, so a terminal never sees
			 * them raw */
			sb_addf(sb, "\\u%04x", p[1]);
		else
			sb_add(sb, p, n);
		p += n ? n : 1;
	}
	sb_addc(sb, '"');
}

static void json_sep(struct json *j, const char *key)
{
	int i;

	if (!j->first[j->depth])
		sb_addc(j->sb, ',');
	j->first[j->depth] = false;
	if (j->pretty && j->depth) {
		sb_addc(j->sb, '\n');
		for (i = 0; i < j->depth; i++)
			sb_adds(j->sb, "  ");
	}
	if (key) {
		json_escape(j->sb, key);
		sb_adds(j->sb, j->pretty ? ": " : ":");
	}
}

static void json_open(struct json *j, const char *key, char c)
{
	json_sep(j, key);
	sb_addc(j->sb, c);
	if (j->depth < (int)ARRAY_SIZE(j->first) - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void json_close(struct json *j, char c)
{
	int i;
	bool empty = j->first[j->depth];

	j->depth--;
	if (j->pretty && !empty) {
		sb_addc(j->sb, '\n');
		for (i = 0; i < j->depth; i++)
			sb_adds(j->sb, "  ");
	}
	sb_addc(j->sb, c);
	if (j->depth == 0 && j->pretty)
		sb_addc(j->sb, '\n');
}

void json_obj_open(struct json *j, const char *key)
{
	json_open(j, key, '{');
}

void json_obj_close(struct json *j)
{
	json_close(j, '}');
}

void json_arr_open(struct json *j, const char *key)
{
	json_open(j, key, '[');
}

void json_arr_close(struct json *j)
{
	json_close(j, ']');
}

void json_str(struct json *j, const char *key, const char *val)
{
	json_sep(j, key);
	if (val)
		json_escape(j->sb, val);
	else
		sb_adds(j->sb, "null");
}

void json_int(struct json *j, const char *key, long long val)
{
	json_sep(j, key);
	sb_addf(j->sb, "%lld", val);
}

void json_dbl(struct json *j, const char *key, double val)
{
	json_sep(j, key);
	/* JSON has no NaN or infinity: null keeps documents parseable */
	if (!isfinite(val))
		sb_adds(j->sb, "null");
	else
		sb_addf(j->sb, "%.17g", val);
}

void json_bool(struct json *j, const char *key, bool val)
{
	json_sep(j, key);
	sb_adds(j->sb, val ? "true" : "false");
}

void json_null(struct json *j, const char *key)
{
	json_sep(j, key);
	sb_adds(j->sb, "null");
}

uint64_t cdm_now_ns(void)
{
	struct timespec ts;

	/* RAW: not slewed by NTP, so short intervals are not distorted */
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t cdm_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void fmt_iso_time(char *buf, size_t len, uint64_t wall_ns)
{
	time_t t = wall_ns / 1000000000ull;
	struct tm tm;
	char tmp[32];

	gmtime_r(&t, &tm);
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", tmp,
		 (unsigned int)(wall_ns % 1000000000ull / 1000000));
}

void fmt_hms(char *buf, size_t len, double s)
{
	unsigned long t = s < 0 ? 0 : (unsigned long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, len, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60,
			 t % 60);
	else
		snprintf(buf, len, "%02lu:%02lu", t / 60, t % 60);
}

uint64_t hash_str(uint64_t h, const char *s)
{
	/* FNV-1a: stable across builds, which case seeds rely on */
	if (!h)
		h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}
