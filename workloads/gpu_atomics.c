// SPDX-License-Identifier: GPL-2.0
/*
 * gpu-atomics: a GPU kernel's system-scope atomics racing CPU threads'
 * atomics on the same words; no update may be lost.
 *
 * What it exercises: the coherence a system-scope atomic relies on while
 * the pages under it are shared, mirrored and possibly moving: on HMM
 * memory (alloc=system) amdkfd / nvidia-uvm map the pages for the GPU with
 * hmm_range_fault and must follow every CPU-side change through mmu
 * notifiers; on a coherent node (XGMI) CPU and GPU atomics meet in one
 * memory; on PCIe, atomics to host memory travel as PCIe AtomicOps or the
 * driver migrates the page to whoever touches it. A lost update means one
 * side's read-modify-write worked on a copy the other side never saw.
 *
 * The protocol, in slices as the concurrent workload does: each slice the
 * GPU adds 2^32 to every stride-th word `rounds` times while CPU threads
 * add 1 to the same words as fast as they can, each counting its own adds
 * per word; when the kernel returns the threads stop, and with everything
 * quiet every word must hold exactly (GPU adds << 32) + CPU adds, read by
 * the CPU and by the device. The two halves say whose update was lost,
 * and the message names the page and the word.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "engine/fixture.h"

#define GPU_INC (1ull << 32)

struct ga_cfg {
	struct dev_cfg dev;
	int alloc;
	int64_t threads;
	int64_t rounds;
	int64_t stride;
};

static const struct cdm_opt ga_opts[] = {
	DEV_OPT_ENGINE,
	DEV_OPT_DEVICE,
	DEV_OPT_SIZE("1M", 4096, 1073741824.0, "the shared words (8 bytes each)"),
	DEV_OPT_INSTANCE(0),
	{ "alloc", CDM_T_ENUM, OPT_FIELD(struct ga_cfg, alloc), "system", 0, 0,
	  "system|managed", 0,
	  "the words live in system (mmap memory the GPU reaches through HMM) or managed memory" },
	{ "threads", CDM_T_INT, OPT_FIELD(struct ga_cfg, threads), "2", 1, 64,
	  NULL, 0, "CPU threads adding to the words while the GPU does" },
	{ "rounds", CDM_T_INT, OPT_FIELD(struct ga_cfg, rounds), "64", 1, 1e6,
	  NULL, 0, "GPU atomic adds per word per slice" },
	{ "stride", CDM_T_INT, OPT_FIELD(struct ga_cfg, stride), "1", 1, 512,
	  NULL, 0, "the GPU updates every stride-th word (512: one word per 4K page)" },
	CDM_OPT_END
};

struct ga;

struct ga_thread {
	struct ga *a;
	pthread_t tid;
	uint64_t rng;
	uint32_t *count;	/* adds to each GPU word, by this thread */
	uint64_t adds;		/* this slice */
};

struct ga {
	struct cdm_edev *dev;
	struct cdm_ebuf buf;
	uint64_t *w;
	size_t nwords, stride, ngpu;	/* ngpu: words the GPU updates */
	uint64_t gpu_rounds;		/* per word, all slices so far */
	struct ga_thread *t;
	int nthreads;
	int running;			/* threads in their loop this slice */
	uint64_t raced;			/* CPU adds made while kernels ran */
	bool stop;
	uint64_t *image;		/* the device's read of the words */
	int m_gpu_rate, m_cpu_rate, m_kernel;
};

static bool ga_supported(const void *cfg, char *why, size_t len)
{
	const struct ga_cfg *c = cfg;

	if (c->dev.size % 8) {
		snprintf(why, len, "size must be a multiple of 8 bytes");
		return false;
	}
	return true;
}

static void *ga_cpu(void *arg)
{
	struct ga_thread *t = arg;
	struct ga *a = t->a;

	__atomic_fetch_add(&a->running, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
		size_t k = splitmix64(&t->rng) % a->ngpu;

		__atomic_fetch_add(&a->w[k * a->stride], 1, __ATOMIC_SEQ_CST);
		t->count[k]++;
		/* read racily by the main thread around the kernel */
		__atomic_store_n(&t->adds, t->adds + 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int ga_setup(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	const struct ga_cfg *cfg = cdm_cfg(ctx);
	struct ga *a = fx->priv;
	int i, r;

	a->dev = fx->dev;
	if (dev_require(ctx, a->dev, cfg->alloc ? CDM_CAP_ALLOC_MANAGED :
			CDM_CAP_ALLOC_SYSTEM))
		return -1;
	a->dev->err[0] = 0;
	r = a->dev->ops->alloc(a->dev, cfg->alloc ? CDM_ALLOC_MANAGED :
			       CDM_ALLOC_SYSTEM, cfg->dev.size, 0, &a->buf);
	if (r)
		return cdm_skip(ctx, "the words: %s", dev_strerror(a->dev, r));
	a->w = a->buf.p;
	a->nwords = cfg->dev.size / 8;
	a->stride = cfg->stride;
	a->ngpu = (a->nwords + a->stride - 1) / a->stride;
	memset(a->w, 0, cfg->dev.size);
	a->image = malloc(a->buf.npages * cdm_page_size());
	a->nthreads = cfg->threads;
	a->t = calloc(a->nthreads, sizeof(*a->t));
	if (!a->image || !a->t)
		return cdm_skip(ctx, "out of memory for the thread state");
	for (i = 0; i < a->nthreads; i++) {
		a->t[i].a = a;
		a->t[i].rng = cdm_seed(ctx) ^ (0xa70ull * (i + 1));
		a->t[i].count = calloc(a->ngpu, sizeof(uint32_t));
		if (!a->t[i].count)
			return cdm_skip(ctx, "out of memory for the add counts");
	}
	a->m_gpu_rate = cdm_metric(ctx, "gpu_atomics", "adds/s", CDM_HIGHER_IS_BETTER);
	a->m_cpu_rate = cdm_metric(ctx, "cpu_atomics", "adds/s", CDM_HIGHER_IS_BETTER);
	a->m_kernel = cdm_metric(ctx, "kernel_time", "us", CDM_LOWER_IS_BETTER);
	cdm_info(ctx, "layout", "%zu words, the GPU adds to %zu of them (stride %zu), %d CPU threads",
		 a->nwords, a->ngpu, a->stride, a->nthreads);
	return 0;
}

static uint64_t ga_cpu_adds(struct ga *a, int n)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < n; i++)
		sum += __atomic_load_n(&a->t[i].adds, __ATOMIC_RELAXED);
	return sum;
}

/* one slice: CPU threads race the GPU kernel until it returns */
static int ga_slice(struct cdm_ctx *ctx, struct ga *a)
{
	const struct ga_cfg *cfg = cdm_cfg(ctx);
	struct cdm_atomics_args args = {
		.words = a->w, .nwords = a->nwords, .stride = a->stride,
		.rounds = cfg->rounds, .inc = GPU_INC,
	};
	struct cdm_estat st = { 0 };
	uint64_t cpu, before, t0 = cdm_now_ns(), t1;
	int i, r, started = 0;

	a->stop = false;
	a->running = 0;
	for (i = 0; i < a->nthreads; i++, started++) {
		a->t[i].adds = 0;
		if (pthread_create(&a->t[i].tid, NULL, ga_cpu, &a->t[i]))
			break;
	}
	/* the race needs its runners at the line before the kernel starts */
	while (__atomic_load_n(&a->running, __ATOMIC_ACQUIRE) < started)
		sched_yield();
	a->dev->err[0] = 0;
	before = ga_cpu_adds(a, started);
	r = started == a->nthreads ?
		a->dev->ops->dev_atomics(a->dev, &args, &st) : -EAGAIN;
	a->raced += ga_cpu_adds(a, started) - before;
	__atomic_store_n(&a->stop, true, __ATOMIC_RELEASE);
	t1 = cdm_now_ns();
	for (i = 0; i < started; i++)
		pthread_join(a->t[i].tid, NULL);
	cpu = ga_cpu_adds(a, started);
	if (r == -EAGAIN)
		return cdm_error(ctx, "pthread_create failed for CPU thread %d", started);
	if (r)
		return cdm_error(ctx, "GPU atomics: %s", dev_strerror(a->dev, r));
	a->gpu_rounds += cfg->rounds;
	cdm_sample(ctx, a->m_kernel, st.ns / 1e3);
	cdm_sample(ctx, a->m_gpu_rate, (double)a->ngpu * cfg->rounds / st.ns * 1e9);
	/* the threads' whole window, start to stop: a floor on their rate */
	cdm_sample(ctx, a->m_cpu_rate, (double)cpu / (t1 - t0) * 1e9);
	return 0;
}

/* every word: exactly the GPU's adds in the high half, the CPU's in the low */
static bool ga_check(struct cdm_ctx *ctx, struct ga *a, const uint64_t *v,
		     const char *who)
{
	size_t i;

	for (i = 0; i < a->nwords; i++) {
		uint64_t gpu = 0, cpu = 0, want;
		int t;

		if (i % a->stride == 0) {
			gpu = a->gpu_rounds;
			for (t = 0; t < a->nthreads; t++)
				cpu += a->t[t].count[i / a->stride];
		}
		want = gpu * GPU_INC + cpu;
		if (v[i] == want)
			continue;
		cdm_fail(ctx, "%s: page %zu word %zu (offset %zu) holds %llu GPU and %llu CPU adds, expected %llu and %llu: %s",
			 who, i * 8 / cdm_page_size(), i % (cdm_page_size() / 8), i * 8,
			 (unsigned long long)(v[i] >> 32),
			 (unsigned long long)(v[i] & 0xffffffffull),
			 (unsigned long long)gpu, (unsigned long long)cpu,
			 (v[i] >> 32) < gpu || (v[i] & 0xffffffffull) < cpu ?
			 "a lost update" : "more adds than were made");
		return false;
	}
	return true;
}

static int ga_run(struct cdm_ctx *ctx, struct dev_fx *fx)
{
	struct ga *a = fx->priv;
	int r;

	while (cdm_iter(ctx)) {
		if (ga_slice(ctx, a))
			return -1;
		if (!ga_check(ctx, a, a->w, "CPU read after the race"))
			break;
		if (!dev_has(a->dev, CDM_CAP_DEV_READ))
			continue;
		a->dev->err[0] = 0;
		r = dev_read(a->dev, a->w, a->buf.npages, a->image, NULL);
		if (r)
			return cdm_error(ctx, "device read: %s", dev_strerror(a->dev, r));
		if (!ga_check(ctx, a, a->image, "device read after the race"))
			break;
	}
	cdm_info(ctx, "cpu_adds_during_kernels", "%llu", (unsigned long long)a->raced);
	/* a race that never happened proved nothing */
	if (!cdm_failed(ctx) && !a->raced)
		return cdm_error(ctx, "no CPU add landed while a GPU kernel ran: nothing raced (raise rounds or size)");
	cdm_info(ctx, "gpu_rounds_per_word", "%llu", (unsigned long long)a->gpu_rounds);
	if (!cdm_failed(ctx))
		cdm_info(ctx, "integrity", "ok");
	return 0;
}

static void ga_teardown(struct cdm_ctx *ctx __unused, struct dev_fx *fx)
{
	struct ga *a = fx->priv;
	int i;

	if (a->dev)
		dev_buf_unmap(a->dev, &a->buf);
	for (i = 0; a->t && i < a->nthreads; i++)
		free(a->t[i].count);
	free(a->t);
	free(a->image);
}

DEV_WORKLOAD(gpu_atomics, ga, CDM_CAP_ATOMICS, DEV_F_NO_BUFFER, ga_teardown,
	.name = "gpu-atomics",
	.summary = "GPU system-scope atomics racing CPU atomics on the same words: no lost update",
	.verifies = CDM_VERIFY_DATA);
