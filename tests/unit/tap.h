/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small TAP harness for unit tests. Each TEST runs in a forked child
 * with a timeout, so a crash or hang fails that test alone. CHECK records
 * a failure with file:line and carries on; REQUIRE stops the test.
 */
#ifndef CDM_TAP_H
#define CDM_TAP_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* CHECK(cond) with no message expands to an empty format string */
#pragma GCC diagnostic ignored "-Wformat-zero-length"

typedef void (*tap_fn)(void);

void tap_register(const char *name, tap_fn fn, const char *file);
void tap_check_failed(const char *file, int line, const char *expr,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void tap_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						    noreturn));
void tap_abort(void) __attribute__((noreturn));
/* a scratch directory, removed after the test */
const char *tap_tmpdir(void);
/* capture stderr of fn-like code between begin and end */
void tap_capture_begin(void);
char *tap_capture_end(void);	/* malloc'd text */

#define TEST(name)                                                          \
	static void name(void);                                             \
	__attribute__((constructor)) static void reg_##name(void)          \
	{                                                                   \
		tap_register(#name, name, __FILE__);                        \
	}                                                                   \
	static void name(void)

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (!(cond))                                                \
			tap_check_failed(__FILE__, __LINE__, #cond,         \
					 "" __VA_ARGS__);                   \
	} while (0)

#define REQUIRE(cond, ...)                                                  \
	do {                                                                \
		if (!(cond)) {                                              \
			tap_check_failed(__FILE__, __LINE__, #cond,         \
					 "" __VA_ARGS__);                   \
			tap_abort();                                        \
		}                                                           \
	} while (0)

#define CHECK_EQ_U64(a, b)                                                  \
	CHECK((a) == (b), "%s = %llu, expected %llu", #a,                   \
	      (unsigned long long)(a), (unsigned long long)(b))
static inline bool tap_streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static inline bool tap_contains(const char *hay, const char *needle)
{
	return hay && strstr(hay, needle);
}

static inline const char *tap_s(const char *s)
{
	return s ? s : "(null)";
}

#define CHECK_STR(a, b)                                                     \
	CHECK(tap_streq((a), (b)), "%s = \"%s\", expected \"%s\"", #a,      \
	      tap_s(a), (b))
#define CHECK_CONTAINS(hay, needle)                                         \
	CHECK(tap_contains((hay), (needle)),                                \
	      "\"%s\" does not contain \"%s\"", tap_s(hay), (needle))
#define CHECK_NEAR(a, b, eps)                                               \
	CHECK(fabs((double)(a) - (double)(b)) <= (eps),                     \
	      "%s = %.17g, expected %.17g", #a, (double)(a), (double)(b))

#endif
