// SPDX-License-Identifier: GPL-2.0
/*
 * Inferential statistics behind `compare`, `history` and the report.
 *
 * Device-memory timings are skewed and long-tailed (faults, TLB
 * shootdowns, emulation), so everything is rank- or median-based: the
 * Mann-Whitney U test rather than a t-test, medians and MADs rather than
 * means and standard deviations, and a bootstrap rather than a normal
 * interval for the ratio of medians.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats/cstats.h"
#include "stats/stats.h"
#include "util/util.h"

/* --- sorting and order statistics --- */

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6		/* 6 * 11 >= 64 */

/* map a double's bits to an unsigned key with the same order */
static inline uint64_t dkey(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return (u >> 63) ? ~u : u | (1ULL << 63);
}

static inline double dval(uint64_t k)
{
	double d;

	k = (k >> 63) ? k & ~(1ULL << 63) : ~k;
	memcpy(&d, &k, sizeof(d));
	return d;
}

/*
 * LSD radix sort: qsort() needs ~100 ms for a million samples, this ~10 ms,
 * and `compare` sorts two such arrays per metric.
 */
void cdm_sort_fast(double *v, size_t n)
{
	size_t (*cnt)[RADIX_SIZE];
	uint64_t *a, *b, *t;
	size_t i;
	int p;

	if (n < 256) {
		cdm_sort_doubles(v, n);
		return;
	}
	cnt = xcalloc(RADIX_PASSES, sizeof(*cnt));
	a = xmalloc(n * sizeof(*a));
	b = xmalloc(n * sizeof(*b));
	for (i = 0; i < n; i++) {
		a[i] = dkey(v[i]);
		for (p = 0; p < RADIX_PASSES; p++)
			cnt[p][(a[i] >> (p * RADIX_BITS)) & (RADIX_SIZE - 1)]++;
	}
	for (p = 0; p < RADIX_PASSES; p++) {
		size_t sum = 0, c;
		unsigned int sh = p * RADIX_BITS;

		/* digits shared by every key (high exponent bits) move nothing */
		if (cnt[p][a[0] >> sh & (RADIX_SIZE - 1)] == n)
			continue;
		for (c = 0; c < RADIX_SIZE; c++) {
			size_t k = cnt[p][c];

			cnt[p][c] = sum;
			sum += k;
		}
		for (i = 0; i < n; i++)
			b[cnt[p][a[i] >> sh & (RADIX_SIZE - 1)]++] = a[i];
		t = a;
		a = b;
		b = t;
	}
	for (i = 0; i < n; i++)
		v[i] = dval(a[i]);
	free(a);
	free(b);
	free(cnt);
}

double cdm_median_sorted(const double *s, size_t n)
{
	if (!n)
		return NAN;
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/*
 * The deviations below the median, read from the middle outwards, and
 * those above it are two ascending runs: merge them up to the middle rank.
 */
double cdm_mad_sorted(const double *s, size_t n)
{
	double med = cdm_median_sorted(s, n), lo = 0, hi = 0;
	size_t m = 0, want = (n - 1) / 2, k;
	ptrdiff_t i;
	size_t j;

	if (!n)
		return NAN;
	while (m < n && s[m] < med)
		m++;
	i = (ptrdiff_t)m - 1;
	j = m;
	for (k = 0; k <= n / 2; k++) {
		double d;

		if (i >= 0 && (j >= n || med - s[i] <= s[j] - med))
			d = med - s[i--];
		else
			d = s[j++] - med;
		if (k == want)
			lo = d;
		hi = d;
	}
	return n % 2 ? lo : (lo + hi) / 2;
}

static void swapd(double *a, double *b)
{
	double t = *a;

	*a = *b;
	*b = t;
}

static double med3(double a, double b, double c)
{
	if (a > b)
		swapd(&a, &b);
	if (b > c)
		swapd(&b, &c);
	return a > b ? a : b;
}

/*
 * k-th smallest of v[0..n), reordering v so that everything before k is
 * no larger and everything after no smaller (Hoare's FIND)
 */
static double select_kth(double *v, size_t n, size_t kk)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, k = (ptrdiff_t)kk;

	while (lo < hi) {
		ptrdiff_t i = lo, j = hi;
		/* median of three keeps sorted and reversed input linear */
		double x = med3(v[lo], v[lo + (hi - lo) / 2], v[hi]);

		do {
			while (v[i] < x)
				i++;
			while (x < v[j])
				j--;
			if (i <= j) {
				swapd(&v[i], &v[j]);
				i++;
				j--;
			}
		} while (i <= j);
		if (j < k)
			lo = i;
		if (k < i)
			hi = j;
	}
	return v[k];
}

double cdm_median_select(double *v, size_t n)
{
	double a, b;
	size_t i;

	if (!n)
		return NAN;
	a = select_kth(v, n, n / 2);
	if (n % 2)
		return a;
	/* the other middle value is the largest of the lower part */
	b = v[0];
	for (i = 1; i < n / 2; i++)
		if (v[i] > b)
			b = v[i];
	return (a + b) / 2;
}

/* --- the normal distribution --- */

double cdm_norm_sf(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

/* bisection: called a handful of times per command, exactness matters more */
double cdm_norm_quantile(double p)
{
	double lo = -40, hi = 40;
	int i;

	if (!(p > 0))
		return -INFINITY;
	if (!(p < 1))
		return INFINITY;
	for (i = 0; i < 200 && hi - lo > 1e-13; i++) {
		double mid = (lo + hi) / 2;

		if (1 - cdm_norm_sf(mid) < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

/*
 * The closed forms for whole degrees of freedom (Abramowitz and Stegun
 * 26.7.3 and 26.7.4): with theta = atan(t / sqrt(df)), P(|T| < t) is a
 * short series in cos(theta)^2. Past 200 the normal is as good.
 */
double cdm_t_p2(double t, int df)
{
	double th, c2, term = 1, sum = 1, inside;
	int k;

	if (df < 1 || isnan(t))
		return NAN;
	t = fabs(t);
	if (isinf(t))
		return 0;
	if (df > 200)
		return fmin(1, 2 * cdm_norm_sf(t));
	th = atan(t / sqrt(df));
	c2 = cos(th) * cos(th);
	if (df % 2) {
		for (k = 1; k <= (df - 3) / 2; k++) {
			term *= c2 * (2.0 * k) / (2.0 * k + 1);
			sum += term;
		}
		inside = df == 1 ? 2 * th / M_PI :
			 2 / M_PI * (th + sin(th) * cos(th) * sum);
	} else {
		for (k = 1; k <= (df - 2) / 2; k++) {
			term *= c2 * (2.0 * k - 1) / (2.0 * k);
			sum += term;
		}
		inside = sin(th) * sum;
	}
	return fmin(1, fmax(0, 1 - inside));
}

/* --- Mann-Whitney U --- */

/*
 * The exact null distribution of U without ties: f(i, j, u) counts the
 * orderings of i values of a and j of b with U = u. The largest value is
 * either from a (beating all j of b) or from b:
 *   f(i, j, u) = f(i - 1, j, u - j) + f(i, j - 1, u)
 * Additions only, so the counts stay exact in doubles far beyond 50 + 50.
 */
static double mwu_exact_p(size_t na, size_t nb, double u)
{
	size_t umax = na * nb, w = umax + 1, i, j, x;
	double *prev = xcalloc((nb + 1) * w, sizeof(double));
	double *cur = xcalloc((nb + 1) * w, sizeof(double));
	double below = 0, above = 0, total = 0, p;

	for (j = 0; j <= nb; j++)
		prev[j * w] = 1;	/* i = 0: U is 0 */
	for (i = 1; i <= na; i++) {
		memset(cur, 0, (nb + 1) * w * sizeof(double));
		cur[0] = 1;		/* j = 0 */
		for (j = 1; j <= nb; j++) {
			double *c = cur + j * w, *left = cur + (j - 1) * w;
			double *up = prev + j * w;

			for (x = 0; x <= i * j; x++)
				c[x] = left[x] + (x >= j ? up[x - j] : 0);
		}
		memcpy(prev, cur, (nb + 1) * w * sizeof(double));
	}
	for (x = 0; x <= umax; x++) {
		double f = prev[nb * w + x];

		total += f;
		if ((double)x <= u)
			below += f;
		if ((double)x >= u)
			above += f;
	}
	free(prev);
	free(cur);
	p = 2 * fmin(below, above) / total;
	return p > 1 ? 1 : p;
}

void cdm_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
		      struct cdm_mwu *r)
{
	double ra = 0, ties = 0, rank = 1, mu, var, d, N;
	size_t i = 0, j = 0;

	memset(r, 0, sizeof(*r));
	r->p = 1;
	if (!na || !nb)
		return;
	/* rank sum of a over the merged samples, ties sharing their mean rank */
	while (i < na || j < nb) {
		double v = i < na && (j >= nb || a[i] <= b[j]) ? a[i] : b[j];
		size_t ca = 0, cb = 0, t;

		while (i < na && a[i] == v)
			i++, ca++;
		while (j < nb && b[j] == v)
			j++, cb++;
		t = ca + cb;
		ra += ca * (rank + (t - 1) / 2.0);
		if (t > 1)
			ties += (double)t * t * t - t;
		rank += t;
	}
	N = (double)na + nb;
	r->u = ra - (double)na * (na + 1) / 2;
	mu = (double)na * nb / 2;
	var = (double)na * nb / 12 * (N + 1 - ties / (N * (N - 1)));
	d = r->u - mu;
	/* continuity correction towards the mean, never across it */
	d = d > 0.5 ? d - 0.5 : d < -0.5 ? d + 0.5 : 0;
	r->z = var > 0 ? d / sqrt(var) : 0;
	if (!ties && na <= CDM_MWU_EXACT_MAX && nb <= CDM_MWU_EXACT_MAX) {
		r->p = mwu_exact_p(na, nb, r->u);
		r->exact = true;
		return;
	}
	r->p = var > 0 ? fmin(1, 2 * cdm_norm_sf(fabs(r->z))) : 1;
}

/* --- random variates --- */

double cdm_rand_unit(uint64_t *st)
{
	/* 53 random bits, shifted off zero so log() is always finite */
	return ((splitmix64(st) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double cdm_rand_normal(uint64_t *st)
{
	double u = cdm_rand_unit(st), v = cdm_rand_unit(st);

	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Marsaglia and Tsang's squeeze method, valid for shape >= 1 */
double cdm_rand_gamma(uint64_t *st, double shape)
{
	double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);

	for (;;) {
		double x = cdm_rand_normal(st), v = 1 + c * x, u;

		if (v <= 0)
			continue;
		v = v * v * v;
		u = cdm_rand_unit(st);
		if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v;
	}
}

double cdm_rand_beta(uint64_t *st, double a, double b)
{
	double x = cdm_rand_gamma(st, a), y = cdm_rand_gamma(st, b);

	return x / (x + y);
}

/* --- bootstrap interval of a ratio of medians --- */

static double at_quantile(const double *s, size_t n, double u)
{
	size_t i = (size_t)(u * (double)n);

	return s[i < n ? i : n - 1];
}

/*
 * One bootstrap median without resampling: a resample's k-th order
 * statistic is the empirical quantile at the k-th order statistic of n
 * uniforms, which is Beta(k, n - k + 1); the (k+1)-th follows from the
 * k-th by a Beta(1, n - k) step over the rest of the interval.
 */
static double boot_median(const double *s, size_t n, uint64_t *st)
{
	double k, u1, u2;

	if (n == 1)
		return s[0];
	if (n % 2) {
		k = (n + 1) / 2;
		return at_quantile(s, n, cdm_rand_beta(st, k, n - k + 1));
	}
	k = n / 2;
	u1 = cdm_rand_beta(st, k, n - k + 1);
	u2 = u1 + (1 - u1) * (1 - pow(cdm_rand_unit(st), 1 / ((double)n - k)));
	return (at_quantile(s, n, u1) + at_quantile(s, n, u2)) / 2;
}

void cdm_ratio_ci(const double *a, size_t na, const double *b, size_t nb,
		  double level, int reps, uint64_t seed, double *lo,
		  double *hi)
{
	double *r, alpha = 1 - level;
	uint64_t st = seed;
	int i, k = 0;

	*lo = *hi = NAN;
	if (!na || !nb || reps < 1)
		return;
	r = xmalloc(reps * sizeof(*r));
	for (i = 0; i < reps; i++) {
		double ma = boot_median(a, na, &st), mb = boot_median(b, nb, &st);

		if (ma != 0 && isfinite(mb / ma))
			r[k++] = mb / ma;
	}
	if (k) {
		cdm_sort_doubles(r, k);
		*lo = cdm_percentile_sorted(r, k, 100 * alpha / 2);
		*hi = cdm_percentile_sorted(r, k, 100 * (1 - alpha / 2));
	}
	free(r);
}

/* --- multiple comparisons --- */

static const double *bh_p;

static int cmp_by_p(const void *x, const void *y)
{
	double a = bh_p[*(const size_t *)x], b = bh_p[*(const size_t *)y];

	return (a > b) - (a < b);
}

void cdm_bh_adjust(const double *p, size_t n, double *q)
{
	size_t *ord = xmalloc((n ? n : 1) * sizeof(*ord)), m = 0, r;
	double run = 1;

	for (r = 0; r < n; r++) {
		q[r] = NAN;
		if (!isnan(p[r]))
			ord[m++] = r;
	}
	bh_p = p;
	qsort(ord, m, sizeof(*ord), cmp_by_p);
	/* q_(r) = min over s >= r of p_(s) * m / s */
	for (r = m; r > 0; r--) {
		double v = p[ord[r - 1]] * (double)m / (double)r;

		if (v < run)
			run = v;
		q[ord[r - 1]] = run;
	}
	free(ord);
}

/* --- change points --- */

static double seg_median(const double *y, size_t a, size_t b, double *tmp)
{
	memcpy(tmp, y + a, (b - a) * sizeof(*y));
	return cdm_median_select(tmp, b - a);
}

struct split {
	size_t k;
	double ml, mr, z;
};

/* insert v into the sorted s[0..len) */
static void sorted_insert(double *s, size_t len, double v)
{
	size_t i = len;

	while (i && s[i - 1] > v)
		i--;
	memmove(s + i + 1, s + i, (len - i) * sizeof(*s));
	s[i] = v;
}

/* the median of the sorted s[0..len) and the absolute deviation from it */
static void sorted_fit(const double *s, size_t len, double *med, double *cost)
{
	double lo = 0, hi = 0;
	size_t i;

	*med = len % 2 ? s[len / 2] : (s[len / 2 - 1] + s[len / 2]) / 2;
	for (i = 0; i < len / 2; i++)
		lo += s[i];
	for (i = (len + 1) / 2; i < len; i++)
		hi += s[i];
	*cost = hi - lo;
}

/*
 * Where to split y[a..b): the k leaving the least total absolute deviation
 * from the two segments' medians (least squares made robust). A size-
 * weighted median difference would be blind to where exactly the step is:
 * medians barely move when one value changes sides. Every prefix and
 * suffix is fitted once, growing a sorted copy a value at a time (the
 * null simulations below call this ten thousand times a length). tmp
 * holds 5 (b - a) + 4 values.
 */
static bool best_split(const double *y, size_t a, size_t b, size_t n,
		       double *tmp, struct split *s)
{
	size_t m = b - a, k, kmax = b == n ? b - 1 : b - 2;
	double *srt = tmp, *pm = srt + m, *pc = pm + m + 1, *sm = pc + m + 1;
	double *sc = sm + m + 1, best = INFINITY;

	for (k = 0; k < m; k++) {
		sorted_insert(srt, k, y[a + k]);
		sorted_fit(srt, k + 1, &pm[k + 1], &pc[k + 1]);
	}
	for (k = m; k-- > 0;) {
		sorted_insert(srt, m - 1 - k, y[a + k]);
		sorted_fit(srt, m - k, &sm[k], &sc[k]);
	}
	for (k = a + 2; k <= kmax; k++) {
		double cost = pc[k - a] + sc[k - a];

		if (cost < best) {
			best = cost;
			s->k = k;
			s->ml = pm[k - a];
			s->mr = sm[k - a];
		}
	}
	return isfinite(best);
}

/* residuals beyond this many robust SDs are gross outliers (as in compare) */
#define CP_GROSS 8

/*
 * The noise around the split: the RMS of the residuals from both medians
 * on m - 2 degrees of freedom, leaving out gross outliers (a run 3.5x
 * slower among 60 would otherwise hide a 25% step). Not their MAD: on a
 * few runs it rests on 2-3 residuals, a segment of odd length has one
 * that is exactly 0, and the test it feeds must then ask so much that 3
 * runs of one kernel and 3 of one 25% slower went unseen in 7 of 20
 * series of the emulated node (the RMS: 1.4826 MAD of the residuals that
 * are not 0 only finds the gross ones).
 */
static double split_noise(const double *y, size_t a, size_t b,
			  const struct split *s, double *tmp)
{
	double mad, ss = 0;
	size_t i, nz = 0, kept = 0;

	for (i = a; i < b; i++) {
		double r = fabs(y[i] - (i < s->k ? s->ml : s->mr));

		if (r > 0)
			tmp[nz++] = r;
	}
	mad = nz ? 1.4826 * cdm_median_select(tmp, nz) : 0;
	for (i = a; i < b; i++) {
		double r = fabs(y[i] - (i < s->k ? s->ml : s->mr));

		if (mad > 0 && r > CP_GROSS * mad)
			continue;
		ss += r * r;
		kept++;
	}
	return kept > 2 ? sqrt(ss / (double)(kept - 2)) : 0;
}

/* the split's step over its robust noise; false when y[a..b) has no split */
static bool split_z(const double *y, size_t a, size_t b, size_t n,
		    double *tmp, struct split *s)
{
	double level, sigma;

	if (b - a < 3 || !best_split(y, a, b, n, tmp, s))
		return false;
	level = fmax(fabs(s->ml), fabs(s->mr));
	/* a floor keeps a perfectly flat series from dividing by zero */
	sigma = fmax(split_noise(y, a, b, s, tmp), 1e-9 * level);
	s->z = fabs(s->mr - s->ml) /
		(sigma * sqrt(1.0 / (s->k - a) + 1.0 / (b - s->k)));
	return true;
}

/*
 * The z of the best split is far from normal when nothing changed: it is
 * the best of m - 2 candidates, medians are noisier than means, and the
 * noise around two fitted medians is estimated from those same few runs
 * (with their MAD as the noise, the 95th percentile on 6 runs was 12
 * where Bonferroni over normal z says 2.6, and a flat series of 10 runs
 * was cut in 13% of trials at 3% noise). It is free of location and
 * scale, so its distribution under no change depends only on the
 * segment's length and on whether the newest run may stand alone. Short
 * segments take the quantile from simulated normal noise, seeded so that
 * one series always gets one verdict; longer ones take Bonferroni with
 * the medians' loss of efficiency (sqrt(pi / 2)), which the simulation
 * shows is conservative (about 1% at alpha 0.05 from 65 runs on). The
 * simulations are kept for the process's life (one thread: history and
 * the report).
 */
#define CP_SIM_MAX 64
#define CP_SIM_REPS 10000	/* ten beyond the threshold at alpha 0.001 */

static double *cp_null[2][CP_SIM_MAX + 1];	/* CP_SIM_REPS sorted z each */

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static const double *null_z(size_t m, bool tail)
{
	size_t i, t, reps = CP_SIM_REPS;
	uint64_t st = 0x5eed0000u + 2 * m + tail;
	double *y, *tmp, *z;
	struct split s;

	if (cp_null[tail][m])
		return cp_null[tail][m];
	y = xmalloc(m * sizeof(*y));
	tmp = xmalloc((5 * m + 4) * sizeof(*tmp));
	z = xmalloc(reps * sizeof(*z));
	for (t = 0; t < reps; t++) {
		for (i = 0; i < m; i++)
			y[i] = 100 + cdm_rand_normal(&st);
		/* n = m + 1: a segment that is not the newest keeps two */
		z[t] = split_z(y, 0, m, tail ? m : m + 1, tmp, &s) ? s.z : 0;
	}
	qsort(z, reps, sizeof(*z), cmp_double);
	free(y);
	free(tmp);
	cp_null[tail][m] = z;
	return z;
}

/* the z a split of a segment of m values must reach to be kept at alpha */
static double z_critical(size_t m, bool tail, double alpha)
{
	const double *z;
	size_t r;

	if (m > CP_SIM_MAX)
		return sqrt(M_PI / 2) *
			cdm_norm_quantile(1 - alpha / (2.0 * (double)(m - 1)));
	z = null_z(m, tail);
	/* the smallest z exceeded by at most alpha of the simulations */
	r = (size_t)ceil((1 - alpha) * CP_SIM_REPS);
	return r >= CP_SIM_REPS ? INFINITY : z[r];
}

static bool split_holds(const double *y, size_t a, size_t b, size_t n,
			double alpha, double min_rel, double *tmp,
			struct split *s)
{
	double step;

	if (!split_z(y, a, b, n, tmp, s))
		return false;
	step = fabs(s->mr - s->ml);
	if (!(step > 0) || step < min_rel * fabs(s->ml))
		return false;
	return s->z >= z_critical(b - a, b == n, alpha);
}

static int cmp_step(const void *x, const void *y)
{
	const struct cdm_step *a = x, *b = y;

	return (a->index > b->index) - (a->index < b->index);
}

size_t cdm_changepoints(const double *y, size_t n, double alpha,
			double min_rel, struct cdm_step *out, size_t max)
{
	size_t *stack, top = 0, found = 0, i;
	double *tmp;

	/* fewer runs cannot tell a step from noise */
	if (n < CDM_CP_MIN_POINTS || !max)
		return 0;
	tmp = xmalloc((5 * n + 4) * sizeof(*tmp));
	stack = xmalloc((2 * n + 4) * sizeof(*stack));
	stack[top++] = 0;
	stack[top++] = n;
	while (top && found < max) {
		size_t b = stack[--top], a = stack[--top];
		struct split s = { 0 };

		if (!split_holds(y, a, b, n, alpha, min_rel, tmp, &s))
			continue;
		out[found].index = s.k;
		out[found].z = s.z;
		found++;
		stack[top++] = a;
		stack[top++] = s.k;
		stack[top++] = s.k;
		stack[top++] = b;
	}
	qsort(out, found, sizeof(*out), cmp_step);
	/* levels from the final segmentation, not from the first split */
	for (i = 0; i < found; i++) {
		size_t a = i ? out[i - 1].index : 0;
		size_t b = i + 1 < found ? out[i + 1].index : n;

		out[i].before = seg_median(y, a, out[i].index, tmp);
		out[i].after = seg_median(y, out[i].index, b, tmp);
	}
	free(tmp);
	free(stack);
	return found;
}
