// SPDX-License-Identifier: GPL-2.0
/* The record format that carries results from children and guests. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "tap.h"
#include "core/wire.h"

static void sample_case(struct cdm_case_res *c)
{
	struct cdm_metric_res *m;
	struct cdm_kevent e = { .seq = 9, .ts_usec = 77, .level = 4,
				.cls = CDM_K_WARNING, .text = "WARNING: x" };
	double v[] = { 1.5, 2.5, NAN, 4 };

	fixture_case(c, "copy[size=4K]", "bw", "GB/s")->better = 1;
	free(c->params);
	c->params = xstrdup("{\"size\":\"4K\"}");
	c->seq = 3;
	c->seed = 123456789;
	c->elapsed_ns = 42;
	case_res_verdict(c, CDM_FAIL, "because");
	m = case_res_metric(c, 1);
	m->name = xstrdup("lat");
	m->unit = xstrdup("ns");
	metric_add_samples(m, v, 4);
	kv_add(&c->info, "k", "v");
	kev_add(&c->kev, &e);
	sb_adds(&c->log, "line\n");
}

/* a case survives encode/decode field for field, samples bit-exact */
TEST(wire_case_roundtrip)
{
	struct cdm_case_res a, b;
	struct wire_rd rd;
	struct sbuf sb;
	uint32_t type;
	long used;

	sample_case(&a);
	sb_init(&sb);
	wire_put_case(&sb, &a);
	used = wire_next((uint8_t *)sb.buf, sb.len, &type, &rd);
	REQUIRE(used == (long)sb.len && type == S_CASE);
	REQUIRE(wire_get_case(&rd, &b) == 0);
	CHECK(b.seq == 3 && b.seed == 123456789 && b.elapsed_ns == 42);
	CHECK_STR(b.name, "copy[size=4K]");
	CHECK_STR(b.reason, "because");
	CHECK(b.verdict == CDM_FAIL);
	REQUIRE(b.nmetrics == 2);
	CHECK_STR(b.metrics[0].name, "bw");
	CHECK(b.metrics[0].better == 1 && b.metrics[0].n == 0);
	REQUIRE(b.metrics[1].n == 4);
	CHECK(b.metrics[1].v[0] == 1.5 && isnan(b.metrics[1].v[2]));
	CHECK_STR(kv_get(&b.info, "k"), "v");
	REQUIRE(b.kev.n == 1);
	CHECK_STR(b.kev.v[0].text, "WARNING: x");
	CHECK(b.kev.v[0].cls == CDM_K_WARNING && b.kev.v[0].seq == 9);
	CHECK_STR(b.log.buf, "line\n");
	case_res_free(&a);
	case_res_free(&b);
	sb_free(&sb);
}

/* a record cut short (a guest that died mid-write) is "not yet", and a
 * corrupt length is refused rather than trusted */
TEST(wire_truncated_and_corrupt)
{
	struct cdm_case_res a, b;
	struct wire_rd rd;
	struct sbuf sb;
	uint32_t type, huge = 0xfffffff0u;
	size_t cut;

	sample_case(&a);
	sb_init(&sb);
	wire_put_case(&sb, &a);
	for (cut = 0; cut < sb.len; cut += 7)
		CHECK(wire_next((uint8_t *)sb.buf, cut, &type, &rd) == 0,
		      "cut at %zu", cut);
	memcpy(sb.buf + 4, &huge, 4);
	CHECK(wire_next((uint8_t *)sb.buf, sb.len, &type, &rd) == -1);
	/* a payload shorter than its fields decodes as an error */
	rd.p = (uint8_t *)sb.buf + 8;
	rd.len = 20;
	rd.off = 0;
	rd.bad = false;
	CHECK(wire_get_case(&rd, &b) != 0);
	case_res_free(&b);
	case_res_free(&a);
	sb_free(&sb);
}

TEST(wire_run_roundtrip)
{
	struct cdm_run_info a = { 0 }, b;
	struct wire_rd rd;
	struct sbuf sb;
	uint32_t type;

	snprintf(a.uuid, sizeof(a.uuid), "abc");
	a.harness_version = xstrdup("1");
	a.git_revision = xstrdup("g");
	a.job_name = xstrdup("j");
	a.job_text = xstrdup("[x]\n");
	a.seed = 99;
	a.environment = xstrdup("qemu-tcg");
	a.host.hostname = xstrdup("h");
	a.host.cpu_model = xstrdup("c");
	a.host.arch = xstrdup("x86_64");
	a.host.cpus = 2;
	a.host.numa_nodes = 2;
	a.host.mem_bytes = 1ull << 32;
	a.kernel.release = xstrdup("6.1.192");
	a.kernel.version = xstrdup("v");
	a.kernel.config_digest = xstrdup("d");
	a.cmdline = xstrdup("console=ttyS0");
	a.argv = xstrdup("cdmbench run");
	a.kmsg_status = xstrdup("ok");
	kv_add(&a.tags, "node", "n1");
	a.devs = xcalloc(1, sizeof(*a.devs));
	a.ndevs = 1;
	a.devs[0].path = xstrdup("/dev/hmm_dmirror2");
	a.devs[0].backend = xstrdup("dmirror");
	a.devs[0].memory_type = xstrdup("coherent");
	a.devs[0].detail = xstrdup("");
	a.ncases = 5;
	sb_init(&sb);
	wire_put_run(&sb, &a);
	REQUIRE(wire_next((uint8_t *)sb.buf, sb.len, &type, &rd) > 0);
	REQUIRE(type == S_RUN && wire_get_run(&rd, &b) == 0);
	CHECK_STR(b.uuid, "abc");
	CHECK_STR(b.kernel.release, "6.1.192");
	CHECK(b.host.mem_bytes == 1ull << 32 && b.ncases == 5 && b.seed == 99);
	CHECK(b.ndevs == 1);
	CHECK_STR(b.devs[0].memory_type, "coherent");
	CHECK_STR(kv_get(&b.tags, "node"), "n1");
	run_info_free(&a);
	run_info_free(&b);
	sb_free(&sb);
}
