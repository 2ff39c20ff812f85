/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by every part of cdmbench: error reporting in one
 * format, checked allocation, a growable string buffer and a JSON writer.
 */
#ifndef CDM_UTIL_H
#define CDM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define __printf(a, b) __attribute__((format(printf, a, b)))
#define __must_check __attribute__((warn_unused_result))
#define __unused __attribute__((unused))

extern const char *cdm_progname;

/* exit statuses, every command shares; documented in `cdmbench help` */
enum {
	CDM_EXIT_OK = 0,
	CDM_EXIT_FAIL = 1,	/* a case failed, or compare found a regression */
	CDM_EXIT_USAGE = 2,	/* bad input: options, job file, database */
};

/*
 * All user-facing errors go through these so they share one shape:
 * "cdmbench: <where>: <what>". They return -1 so callers can write
 * "return cdm_err(...)".
 */
int cdm_err(const char *fmt, ...) __printf(1, 2);
int cdm_errno(int err, const char *fmt, ...) __printf(2, 3);
void cdm_warn(const char *fmt, ...) __printf(1, 2);
void cdm_notice(const char *fmt, ...) __printf(1, 2);
extern bool cdm_quiet;
/* for parsers that hand their caller the reason: written into err[len] */
int cdm_set_err(char *err, size_t len, const char *fmt, ...) __printf(3, 4);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t sz);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __printf(1, 2);
char *xvasprintf(const char *fmt, va_list ap) __printf(1, 0);

/* growable byte/string buffer; always NUL terminated */
struct sbuf {
	char *buf;
	size_t len;
	size_t cap;
};
void sb_init(struct sbuf *sb);
void sb_free(struct sbuf *sb);
void sb_grow(struct sbuf *sb, size_t extra);
void sb_add(struct sbuf *sb, const void *p, size_t n);
void sb_adds(struct sbuf *sb, const char *s);
void sb_addc(struct sbuf *sb, char c);
void sb_addf(struct sbuf *sb, const char *fmt, ...) __printf(2, 3);
void sb_vaddf(struct sbuf *sb, const char *fmt, va_list ap);
char *sb_detach(struct sbuf *sb);
void sb_reset(struct sbuf *sb);

/* read a whole file (or at most max bytes); NULL and errno on failure */
char *read_file(const char *path, size_t max, size_t *len);
/* first line of a small text file, trailing newline stripped */
char *read_line_file(const char *path);
int write_file(const char *path, const void *p, size_t n);
/* read fd to its end into buf after the got bytes already there, at most
 * len - 1 in all, NUL-terminated; the new length */
size_t read_fd_rest(int fd, char *buf, size_t len, size_t got);

char *strtrim(char *s);
bool streq(const char *a, const char *b);
bool startswith(const char *s, const char *prefix);
unsigned int edit_distance(const char *a, const char *b);
/* the candidate nearest to name, or NULL if none is plausibly a typo */
const char *nearest_name(const char *name, const char *const *cands, size_t n);

/* JSON writer: handles commas and escaping so callers only say what */
struct json {
	struct sbuf *sb;
	int depth;
	bool first[32];
	bool pretty;
};
void json_init(struct json *j, struct sbuf *sb, bool pretty);
/* a new pretty document in sb (initialized here), its outer object open */
void json_doc(struct json *j, struct sbuf *sb);
void json_obj_open(struct json *j, const char *key);
void json_obj_close(struct json *j);
void json_arr_open(struct json *j, const char *key);
void json_arr_close(struct json *j);
void json_str(struct json *j, const char *key, const char *val);
void json_int(struct json *j, const char *key, long long val);
void json_dbl(struct json *j, const char *key, double val);
void json_bool(struct json *j, const char *key, bool val);
void json_null(struct json *j, const char *key);
void json_escape(struct sbuf *sb, const char *s);

/* time helpers */
uint64_t cdm_now_ns(void);		/* CLOCK_MONOTONIC_RAW */
uint64_t cdm_wall_ns(void);		/* CLOCK_REALTIME */
void fmt_iso_time(char *buf, size_t len, uint64_t wall_ns);
void fmt_hms(char *buf, size_t len, double seconds);

/* fast deterministic PRNG for seeds and test data */
static inline uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t mix64(uint64_t a, uint64_t b)
{
	uint64_t s = a ^ (b * 0xff51afd7ed558ccdULL);

	return splitmix64(&s);
}

uint64_t hash_str(uint64_t h, const char *s);

#endif
