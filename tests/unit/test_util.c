// SPDX-License-Identifier: GPL-2.0
/* Hints, JSON escaping, buffers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "util/escape.h"
#include "util/util.h"

/* "did you mean" finds plausible typos and nothing else */
TEST(nearest_name_hints)
{
	const char *c[] = { "size", "threads", "repeat", "duration" };

	CHECK_STR(nearest_name("sise", c, 4), "size");
	CHECK_STR(nearest_name("thread", c, 4), "threads");
	CHECK_STR(nearest_name("reapet", c, 4), "repeat");
	CHECK(nearest_name("frobnicate", c, 4) == NULL);
	CHECK(edit_distance("kitten", "sitting") == 3);
}

/* every string leaving cdmbench as JSON is escaped */
TEST(json_escaping)
{
	struct sbuf sb;
	struct json j;

	sb_init(&sb);
	json_init(&j, &sb, false);
	json_obj_open(&j, NULL);
	json_str(&j, "k\"", "a\"b\\c\nd\x01");
	json_dbl(&j, "nan", NAN);
	json_int(&j, "i", -3);
	json_arr_open(&j, "a");
	json_bool(&j, NULL, true);
	json_null(&j, NULL);
	json_arr_close(&j);
	json_obj_close(&j);
	CHECK_STR(sb.buf, "{\"k\\\"\":\"a\\\"b\\\\c\\nd\\u0001\",\"nan\":null,\"i\":-3,\"a\":[true,null]}");
	sb_free(&sb);
}

TEST(sbuf_growth)
{
	struct sbuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; i < 10000; i++)
		sb_addf(&sb, "%d,", i);
	CHECK(sb.len == strlen(sb.buf));
	CHECK(!strncmp(sb.buf, "0,1,2,", 6));
	CHECK(!strcmp(sb.buf + sb.len - 5, "9999,"));
	sb_free(&sb);
}

/* xasprintf (through xvasprintf) formats any length */
TEST(xasprintf_formats)
{
	char *a = xasprintf("%s-%d-%.1f", "x", 42, 1.5), *b;
	char big[3000];

	CHECK(!strcmp(a, "x-42-1.5"));
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	b = xasprintf("<%s>", big);
	CHECK(strlen(b) == sizeof(big) + 1 && b[0] == '<' && b[sizeof(big)] == '>');
	free(a);
	free(b);
}

/* read_fd_rest appends to what is there, stops at the buffer's end */
TEST(read_fd_rest_appends_and_bounds)
{
	char buf[8] = "ab";
	int p[2];

	CHECK(pipe(p) == 0);
	CHECK(write(p[1], "cdefghijk", 9) == 9);
	close(p[1]);
	CHECK(read_fd_rest(p[0], buf, sizeof(buf), 2) == 7);
	CHECK(!strcmp(buf, "abcdefg"));
	close(p[0]);
	CHECK(pipe(p) == 0);
	close(p[1]);
	CHECK(read_fd_rest(p[0], buf, sizeof(buf), 99) == 7 && buf[7] == 0);
	close(p[0]);
}

static char *esc(void (*fn)(struct sbuf *, const char *), const char *s)
{
	struct sbuf sb;

	sb_init(&sb);
	fn(&sb, s);
	return sb.buf ? sb.buf : xstrdup("");
}

/* one policy per sink: what each escaper makes of the hostile bytes */
TEST(escape_per_sink)
{
	static const char hostile[] =
		"a\x1b]0;t\x07" "b\n\xc2\x9b\xff\xef\xbf\xbe\xe2\x80\xae<&>";
	static const struct {
		void (*fn)(struct sbuf *, const char *);
		const char *in, *want;
	} cases[] = {
		{ esc_term, hostile,
		  "a\\e]0;t\\x07b\\n\\u009b\\xff\xef\xbf\xbe\\u202e<&>" },
		/* XML: C0 and U+FFFE dropped, C1 dropped, bad byte replaced */
		{ esc_xml, hostile,
		  "a]0;tb\n\xef\xbf\xbd\xe2\x80\xae&lt;&amp;&gt;" },
		{ esc_tap, "x # y\n\x1b[2J", "x \\# y \\e[2J" },
		{ esc_md_code, "k`\x1b\xff", "k'\xef\xbf\xbd\xef\xbf\xbd" },
		{ esc_csv, "a,\"b\"\xff", "\"a,\"\"b\"\"\xef\xbf\xbd\"" },
		{ json_escape, "\xff\xc2\x85", "\"\\ufffd\\u0085\"" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = esc(cases[i].fn, cases[i].in);
		CHECK(tap_streq(s, cases[i].want), "case %zu: \"%s\", expected \"%s\"",
		      i, s, cases[i].want);
		free(s);
	}
	s = esc(esc_html, hostile);
	CHECK(!strchr(s, 0x1b) && !strstr(s, "\xc2\x9b") &&
	      !strstr(s, "\xef\xbf\xbe"), "%s", s);
	free(s);
}
