// SPDX-License-Identifier: GPL-2.0
/*
 * Job files. libinih does the INI parsing; this file layers the job model
 * on top: [global] defaults, one section per case, comma lists expanded
 * into a parameter matrix, and validation against the option tables with
 * file:line in every message.
 */
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "core/expect.h"
#include "core/job.h"

#define GLOBAL "global"
#define MAX_CASES 100000

/* keys [global] understands itself, beyond option defaults */
static const char *const global_keys[] = { "seed", "name", "description" };


const struct cdm_workload *cdm_find_workload(const char *name)
{
	size_t i;

	for (i = 0; cdm_workloads[i]; i++)
		if (!strcmp(cdm_workloads[i]->name, name))
			return cdm_workloads[i];
	return NULL;
}

const char *cdm_workload_hint(const char *name)
{
	const char *names[64];
	size_t n = 0;

	while (cdm_workloads[n] && n < ARRAY_SIZE(names)) {
		names[n] = cdm_workloads[n]->name;
		n++;
	}
	return nearest_name(name, names, n);
}

/*
 * Name lookups by hash, so that a job of many keys or sections loads in
 * time linear in its size (a list search per key made 40,000 keys take
 * 6 s). Slots hold index + 1 into the caller's array; 0 is empty.
 */
struct name_index {
	size_t *slot;
	uint64_t *hash;		/* per stored index, for growing */
	size_t hcap;
	size_t cap;
	size_t n;
};

static uint64_t pair_hash(const char *a, const char *b)
{
	return hash_str(hash_str(0, a) ^ 0x9e3779b97f4a7c15ULL, b);
}

static void index_free(struct name_index *x)
{
	free(x->slot);
	free(x->hash);
	memset(x, 0, sizeof(*x));
}

/* the slot where hash/eq lives, or the empty slot where it would go */
static size_t index_probe(const struct name_index *x, uint64_t h,
			  bool (*eq)(const void *ctx, size_t idx),
			  const void *ctx)
{
	size_t i = h & (x->cap - 1);

	while (x->slot[i] && !(x->hash[x->slot[i] - 1] == h &&
			       eq(ctx, x->slot[i] - 1)))
		i = (i + 1) & (x->cap - 1);
	return i;
}

/* add idx under hash h; the caller has checked it is not there */
static void index_add(struct name_index *x, uint64_t h, size_t idx,
		      bool (*eq)(const void *ctx, size_t idx), const void *ctx)
{
	size_t i, j;

	if (idx >= x->hcap) {
		x->hcap = idx + 1 > 2 * x->hcap ? idx + 64 : 2 * x->hcap;
		x->hash = xrealloc(x->hash, x->hcap * sizeof(*x->hash));
	}
	x->hash[idx] = h;
	if (2 * (x->n + 1) > x->cap) {
		size_t *old = x->slot, oldcap = x->cap;

		x->cap = x->cap ? 2 * x->cap : 64;
		x->slot = xcalloc(x->cap, sizeof(*x->slot));
		for (i = 0; i < oldcap; i++) {
			if (!old[i])
				continue;
			j = x->hash[old[i] - 1] & (x->cap - 1);
			while (x->slot[j])
				j = (j + 1) & (x->cap - 1);
			x->slot[j] = old[i];
		}
		free(old);
	}
	x->slot[index_probe(x, h, eq, ctx)] = idx + 1;
	x->n++;
}

static long index_find(const struct name_index *x, uint64_t h,
		       bool (*eq)(const void *ctx, size_t idx),
		       const void *ctx)
{
	size_t i;

	if (!x->cap)
		return -1;
	i = index_probe(x, h, eq, ctx);
	return x->slot[i] ? (long)x->slot[i] - 1 : -1;
}

struct pair_key {
	const struct cdm_job *job;
	const char *a, *b;
};

static bool entry_eq(const void *ctx, size_t idx)
{
	const struct pair_key *k = ctx;

	return !strcmp(k->job->ent[idx].section, k->a) &&
	       !strcmp(k->job->ent[idx].key, k->b);
}

static bool section_eq(const void *ctx, size_t idx)
{
	const struct pair_key *k = ctx;

	return !strcmp(k->job->sections[idx], k->a);
}

static void add_entry(struct cdm_job *job, const char *section,
		      const char *key, const char *value, const char *origin,
		      int line)
{
	struct cdm_entry *e;

	if (job->nent == job->capent) {
		job->capent = job->capent ? job->capent * 2 : 32;
		job->ent = xrealloc(job->ent, job->capent * sizeof(*job->ent));
	}
	e = &job->ent[job->nent++];
	e->section = xstrdup(section);
	e->key = xstrdup(key);
	e->value = xstrdup(value);
	e->origin = xstrdup(origin);
	e->line = line;
}

static int find_section(const struct cdm_job *job, const char *name)
{
	size_t i;

	for (i = 0; i < job->nsections; i++)
		if (!strcmp(job->sections[i], name))
			return i;
	return -1;
}

/* sections[] grows by doubling: its capacity is the next power of two */
static void push_section(struct cdm_job *job, const char *name, int line)
{
	size_t n = job->nsections;

	if (!(n & (n - 1)) || n < 8) {
		size_t cap = n < 8 ? 8 : 2 * n;

		job->sections = xrealloc(job->sections, cap * sizeof(char *));
		job->section_line = xrealloc(job->section_line,
					     cap * sizeof(int));
	}
	job->sections[n] = xstrdup(name);
	job->section_line[n] = line;
	job->nsections++;
}

/* for the few sections of a command-line job */
static void add_section(struct cdm_job *job, const char *name, int line)
{
	if (find_section(job, name) < 0)
		push_section(job, name, line);
}

/* the longest line a job file may have, without its newline */
#define JOB_MAX_LINE 4094
/* libinih copies a section name into a buffer of 50 bytes */
#define JOB_MAX_SECTION 49

struct parse_state {
	struct cdm_job *job;
	const char *path;
	const char *text;	/* the file, read once */
	size_t len, pos;
	int line;		/* line number of the text inih is parsing */
	bool at_line_start;
	struct name_index sections, entries;
	char err[512];
};

static void parse_error(struct parse_state *ps, const char *fmt, ...)
	__printf(2, 3);
static void parse_error(struct parse_state *ps, const char *fmt, ...)
{
	int n = snprintf(ps->err, sizeof(ps->err), "%s:%d: ", ps->path,
			 ps->line);
	va_list ap;

	if (n < 0 || (size_t)n >= sizeof(ps->err))
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, sizeof(ps->err) - n, fmt, ap);
	va_end(ap);
}

/*
 * A section header, seen before inih sees it: its name must be exactly
 * what is between the brackets (inih keeps the spaces of "[ stream ]",
 * which then matched no case and lost every key), short enough for
 * inih's buffer, and alone on its line.
 */
static int section_header(struct parse_state *ps, const char *p, size_t len)
{
	const char *close = memchr(p, ']', len);
	const char *rest;
	struct pair_key k = { .job = ps->job };
	char name[JOB_MAX_SECTION + 1];
	size_t n;

	if (!close)
		return 0;	/* inih reports the missing ']' */
	n = close - p - 1;
	if (!n) {
		parse_error(ps, "empty section name '[]'");
		return -1;
	}
	if (n > JOB_MAX_SECTION) {
		parse_error(ps, "section name of %zu bytes; at most %d", n,
			    JOB_MAX_SECTION);
		return -1;
	}
	memcpy(name, p + 1, n);
	name[n] = 0;
	if (strchr(" \t\r\f\v", name[0]) || strchr(" \t\r\f\v", name[n - 1])) {
		parse_error(ps, "section name '%s' has spaces around it: write [%s]",
			    name, strtrim(name));
		return -1;
	}
	if (strpbrk(name, "[;#")) {
		parse_error(ps, "section name '%s' has '[', ';' or '#' in it",
			    name);
		return -1;
	}
	rest = close + 1;
	rest += strspn(rest, " \t\r");
	if (rest < p + len && *rest != '\n' && *rest != ';' && *rest != '#') {
		parse_error(ps, "text after the section header [%s]", name);
		return -1;
	}
	k.a = name;
	if (index_find(&ps->sections, hash_str(0, name), section_eq, &k) < 0) {
		push_section(ps->job, name, ps->line);
		index_add(&ps->sections, hash_str(0, name),
			  ps->job->nsections - 1, section_eq, &k);
	}
	return 0;
}

/*
 * inih reads the file through this reader, from the copy read once: it
 * counts lines (the packaged inih has no line numbers for handlers) and
 * sees section headers even when a section has no keys.
 */
static char *text_reader(char *str, int num, void *stream)
{
	struct parse_state *ps = stream;
	const char *p = ps->text + ps->pos, *nl;
	size_t avail = ps->len - ps->pos, n;

	if (!avail || num < 2 || ps->err[0])
		return NULL;
	nl = memchr(p, '\n', avail);
	n = nl ? (size_t)(nl - p) + 1 : avail;
	if (n > (size_t)num - 1)
		n = num - 1;
	if (ps->at_line_start) {
		size_t full = nl ? (size_t)(nl - p) : avail;
		size_t ws = 0;

		ps->line++;
		if (full > JOB_MAX_LINE) {
			parse_error(ps, "line of %zu bytes; job file lines are at most %d",
				    full, JOB_MAX_LINE);
			return NULL;
		}
		/* inih skips a UTF-8 byte order mark on the first line */
		if (ps->line == 1 && full >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
			ws = 3;
		while (ws < full && (p[ws] == ' ' || p[ws] == '\t'))
			ws++;
		if (ws < full && p[ws] == '[' &&
		    section_header(ps, p + ws, full - ws))
			return NULL;
	}
	memcpy(str, p, n);
	str[n] = 0;
	ps->pos += n;
	ps->at_line_start = str[n - 1] == '\n';
	return str;
}

static int job_ini_entry(void *user, const char *section, const char *name,
		       const char *value)
{
	struct parse_state *ps = user;
	struct cdm_job *job = ps->job;
	struct pair_key k = { .job = job, .a = section, .b = name };
	uint64_t h = pair_hash(section, name);
	char origin[512];
	long dup;

	if (!*section) {
		parse_error(ps, "'%s' is outside any section (start with [global] or [case-name])",
			    name);
		return 0;
	}
	dup = index_find(&ps->entries, h, entry_eq, &k);
	if (dup >= 0) {
		parse_error(ps, "duplicate key '%s' in [%s] (first set at line %d)",
			    name, section, job->ent[dup].line);
		return 0;
	}
	k.a = section;
	/* text_reader saw every header inih did; this is a safety net, so a
	 * key is never filed under a section that no case reads */
	if (index_find(&ps->sections, hash_str(0, section), section_eq, &k) < 0) {
		parse_error(ps, "section [%s] was not recognised; write section headers as [name]",
			    section);
		return 0;
	}
	snprintf(origin, sizeof(origin), "%s:%d", ps->path, ps->line);
	add_entry(job, section, name, value, origin, ps->line);
	index_add(&ps->entries, h, job->nent - 1, entry_eq, &k);
	return 1;
}

static void configure_inih(void)
{
	/* an indented line is a mistake more often than a continuation */
	ini_allow_multiline = false;
	ini_allow_inline_comments = true;
	ini_inline_comment_prefixes = ";#";
	ini_stop_on_first_error = true;
	ini_use_stack = false;
	ini_allow_realloc = true;
	/* longer lines were refused by text_reader already */
	ini_max_line = JOB_MAX_LINE + 2;
}

int job_parse_text(struct cdm_job *job, const char *path, const char *text,
		   size_t len)
{
	struct parse_state ps = { .job = job, .path = path, .text = text,
				  .len = len, .at_line_start = true };
	const char *base;
	int r;

	if (strlen(text) != len)
		return cdm_err("%s: contains NUL bytes; not a job file", path);
	configure_inih();
	r = ini_parse_stream(text_reader, &ps, job_ini_entry, &ps);
	index_free(&ps.sections);
	index_free(&ps.entries);
	if (ps.err[0])
		return cdm_err("%s", ps.err);
	if (r > 0)
		return cdm_err("%s:%d: malformed line (expected 'key = value' or '[section]')",
			       path, r);
	if (r < 0)
		return cdm_err("%s: cannot parse job file", path);
	job->path = xstrdup(path);
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	len = strcspn(base, ".");
	job->name = xasprintf("%.*s", (int)len, base);
	return 0;
}

int job_load_file(struct cdm_job *job, const char *path)
{
	size_t len;

	memset(job, 0, sizeof(*job));
	job->text = read_file(path, 16 << 20, &len);
	if (!job->text)
		return cdm_errno(errno, "%s: cannot read job file", path);
	return job_parse_text(job, path, job->text, len);
}

static int split_set(const char *set, char **key, char **value)
{
	const char *eq = strchr(set, '=');

	if (!eq || eq == set)
		return cdm_err("--set %s: expected key=value", set);
	*key = xasprintf("%.*s", (int)(eq - set), set);
	*value = xstrdup(eq + 1);
	strtrim(*key);
	return 0;
}

/* --set KEY=VALUE entries into section, and into the job text kept */
static int add_sets(struct cdm_job *job, const char *section, char **sets,
		    int nsets, struct sbuf *text)
{
	int i;

	for (i = 0; i < nsets; i++) {
		char *k = NULL, *v = NULL, *origin;

		if (split_set(sets[i], &k, &v))
			return -1;
		origin = xasprintf("--set %s", sets[i]);
		add_entry(job, section, k, v, origin, 0);
		sb_addf(text, "%s = %s\n", k, v);
		free(k);
		free(v);
		free(origin);
	}
	return 0;
}

int job_from_workload(struct cdm_job *job, const char *workload, char **sets,
		      int nsets)
{
	struct sbuf text;

	memset(job, 0, sizeof(*job));
	job->name = xstrdup(workload);
	add_section(job, workload, 0);
	{
		char *origin = xasprintf("-w %s", workload);

		add_entry(job, workload, "workload", workload, origin, 0);
		free(origin);
	}
	/* the stored job text is a job file that reproduces this run */
	sb_init(&text);
	sb_addf(&text, "[%s]\nworkload = %s\n", workload, workload);
	if (add_sets(job, workload, sets, nsets, &text)) {
		sb_free(&text);
		return -1;
	}
	job->text = sb_detach(&text);
	return 0;
}

int job_add_overrides(struct cdm_job *job, char **sets, int nsets)
{
	struct sbuf text;

	if (!nsets)
		return 0;
	sb_init(&text);
	sb_adds(&text, job->text);
	sb_adds(&text, "\n; overrides from the command line\n[--set]\n");
	if (add_sets(job, "--set", sets, nsets, &text)) {
		sb_free(&text);
		return -1;
	}
	free(job->text);
	job->text = sb_detach(&text);
	return 0;
}

/* --- expansion --- */

static bool has_option(const struct cdm_workload *wl, const char *key)
{
	return cdm_opt_find(wl->opts, key) || cdm_opt_find(cdm_common_opts, key);
}

static bool is_expect_key(const char *key)
{
	return startswith(key, "expect.");
}

static const char *key_hint(const struct cdm_workload *wl, const char *key)
{
	const char *names[128];
	size_t n = 0, i;

	for (i = 0; wl && wl->opts && wl->opts[i].name && n < 100; i++)
		names[n++] = wl->opts[i].name;
	for (i = 0; cdm_common_opts[i].name && n < 120; i++)
		names[n++] = cdm_common_opts[i].name;
	if (!wl) {
		size_t w, j;

		/* a [global] key: any workload's option is a candidate */
		for (w = 0; cdm_workloads[w]; w++)
			for (j = 0; cdm_workloads[w]->opts &&
				    cdm_workloads[w]->opts[j].name && n < 128; j++)
				names[n++] = cdm_workloads[w]->opts[j].name;
		for (j = 0; j < ARRAY_SIZE(global_keys) && n < 128; j++)
			names[n++] = global_keys[j];
	}
	return nearest_name(key, names, n);
}

static int unknown_key(const struct cdm_entry *e, const struct cdm_workload *wl)
{
	const char *hint = key_hint(wl, e->key);
	char where[160];

	if (wl)
		snprintf(where, sizeof(where), " for workload '%s'", wl->name);
	else
		snprintf(where, sizeof(where), " (no workload in this job has it)");
	return cdm_err("%s: unknown option '%s'%s%s%s%s", e->origin, e->key,
		       where, hint ? " (did you mean '" : "", hint ? hint : "",
		       hint ? "'?)" : "");
}

static int parse_global(struct cdm_job *job)
{
	char err[256];
	size_t i;

	for (i = 0; i < job->nent; i++) {
		struct cdm_entry *e = &job->ent[i];
		int64_t seed;

		if (strcmp(e->section, GLOBAL))
			continue;
		if (!strcmp(e->key, "seed")) {
			if (cdm_parse_int(e->value, &seed, err, sizeof(err)) ||
			    seed < 0)
				return cdm_err("%s: seed: %s", e->origin,
					       seed < 0 ? "must not be negative" : err);
			if (!job->seed_from_cli)
				job->seed = seed;
			job->seed_set = true;
		} else if (!strcmp(e->key, "name")) {
			free(job->name);
			job->name = xstrdup(e->value);
		} else if (!strcmp(e->key, "description")) {
			free(job->description);
			job->description = xstrdup(e->value);
		} else if (startswith(e->key, "tag.")) {
			/* keys of a section are unique: no search needed */
			kv_add(&job->tags, e->key + 4, e->value);
		}
	}
	return 0;
}

static bool is_global_setting(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(global_keys); i++)
		if (!strcmp(key, global_keys[i]))
			return true;
	return startswith(key, "tag.");
}

/*
 * Entries grouped by section once per expansion, so that building each
 * case reads its own keys, [global] and --set, not the whole job.
 */
struct entry_list {
	size_t *idx;
	size_t n;
};

struct grouped {
	struct entry_list global, set;
	struct entry_list *sec;		/* per job->sections[] */
};

static void list_push(struct entry_list *l, size_t i)
{
	if (!(l->n & (l->n - 1)) || l->n < 8)
		l->idx = xrealloc(l->idx, (l->n < 8 ? 8 : 2 * l->n) *
					  sizeof(*l->idx));
	l->idx[l->n++] = i;
}

static void group_entries(const struct cdm_job *job, struct grouped *g)
{
	struct name_index secs = { 0 };
	struct pair_key k = { .job = job };
	size_t i;

	g->sec = xcalloc(job->nsections ? job->nsections : 1, sizeof(*g->sec));
	for (i = 0; i < job->nsections; i++) {
		k.a = job->sections[i];
		index_add(&secs, hash_str(0, k.a), i, section_eq, &k);
	}
	for (i = 0; i < job->nent; i++) {
		const char *sec = job->ent[i].section;
		long s;

		k.a = sec;
		if (!strcmp(sec, GLOBAL)) {
			list_push(&g->global, i);
		} else if (!strcmp(sec, "--set")) {
			list_push(&g->set, i);
		} else {
			s = index_find(&secs, hash_str(0, sec), section_eq, &k);
			if (s >= 0)
				list_push(&g->sec[s], i);
		}
	}
	index_free(&secs);
}

static void grouped_free(const struct cdm_job *job, struct grouped *g)
{
	size_t i;

	for (i = 0; i < job->nsections; i++)
		free(g->sec[i].idx);
	free(g->sec);
	free(g->global.idx);
	free(g->set.idx);
}

static const struct cdm_entry *section_entry(const struct cdm_job *job,
					     const struct entry_list *l,
					     const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(job->ent[l->idx[i]].key, key))
			return &job->ent[l->idx[i]];
	return NULL;
}

static int section_workload(struct cdm_job *job, size_t s,
			    const struct entry_list *own,
			    const struct cdm_workload **wl)
{
	const char *sec = job->sections[s];
	const struct cdm_entry *e = section_entry(job, own, "workload");
	const char *name = e ? e->value : sec;
	const char *hint;
	char origin[512];

	*wl = cdm_find_workload(name);
	if (*wl)
		return 0;
	if (e)
		snprintf(origin, sizeof(origin), "%s", e->origin);
	else if (job->path)
		snprintf(origin, sizeof(origin), "%s:%d", job->path,
			 job->section_line[s]);
	else
		snprintf(origin, sizeof(origin), "-w %s", name);
	hint = cdm_workload_hint(name);
	if (!e && job->path)
		return cdm_err("%s: section [%s] names no workload: add 'workload = NAME'%s%s%s",
			       origin, sec, hint ? " (did you mean '" : "",
			       hint ? hint : "", hint ? "'?)" : "");
	return cdm_err("%s: unknown workload '%s'%s%s%s (see 'cdmbench list')",
		       origin, name, hint ? " (did you mean '" : "",
		       hint ? hint : "", hint ? "'?)" : "");
}

/* the layered, still unexpanded values for one section */
struct layer {
	const struct cdm_entry **e;
	size_t n;
	struct name_index keys;
};

struct layer_key {
	const struct layer *l;
	const char *key;
};

static bool layer_eq(const void *ctx, size_t idx)
{
	const struct layer_key *k = ctx;

	return !strcmp(k->l->e[idx]->key, k->key);
}

static void layer_set(struct layer *l, const struct cdm_entry *e)
{
	struct layer_key k = { .l = l, .key = e->key };
	uint64_t h = hash_str(0, e->key);
	long i = index_find(&l->keys, h, layer_eq, &k);

	if (i >= 0) {
		l->e[i] = e;
		return;
	}
	if (!(l->n & (l->n - 1)) || l->n < 8)
		l->e = xrealloc(l->e, (l->n < 8 ? 8 : 2 * l->n) *
				      sizeof(*l->e));
	l->e[l->n++] = e;
	index_add(&l->keys, h, l->n - 1, layer_eq, &k);
}

static int build_layer(struct cdm_job *job, const struct grouped *g, const struct entry_list *own,
		       const struct cdm_workload *wl, struct layer *l)
{
	const struct entry_list *order[] = { &g->global, own, &g->set };
	size_t o, i;

	for (o = 0; o < ARRAY_SIZE(order); o++) {
		for (i = 0; i < order[o]->n; i++) {
			const struct cdm_entry *e = &job->ent[order[o]->idx[i]];

			if (!strcmp(e->key, "workload"))
				continue;
			if (o == 0 && is_global_setting(e->key))
				continue;
			if (is_expect_key(e->key)) {
				layer_set(l, e);
				continue;
			}
			/* defaults from [global] and --set apply where they fit */
			if (!has_option(wl, e->key)) {
				if (o == 1)
					return unknown_key(e, wl);
				continue;
			}
			layer_set(l, e);
		}
	}
	return 0;
}

/*
 * Split "a, b ,c" into trimmed items; NOLIST options keep one item. An
 * empty item ("4K,,8K", a trailing comma) is a typo: return no items.
 */
static char **split_list(const char *v, bool nolist, size_t *n)
{
	char **out = NULL;
	const char *p = v;

	*n = 0;
	if (nolist) {
		out = xmalloc(sizeof(char *));
		out[0] = xstrdup(v);
		*n = 1;
		return out;
	}
	for (;;) {
		size_t l = strcspn(p, ",");
		char *item = xasprintf("%.*s", (int)l, p);
		char *t = strtrim(item);

		if (!*t) {
			free(item);
			while (*n)
				free(out[--*n]);
			free(out);
			return NULL;
		}
		out = xrealloc(out, (*n + 1) * sizeof(char *));
		out[(*n)++] = xstrdup(t);
		free(item);
		if (!p[l])
			return out;
		p += l + 1;
	}
}

static const struct cdm_opt *opt_for(const struct cdm_workload *wl,
				     const char *key, void **base,
				     struct cdm_case_spec *cs)
{
	const struct cdm_opt *o = cdm_opt_find(wl->opts, key);

	if (o) {
		*base = cs->cfg;
		return o;
	}
	*base = &cs->common;
	return cdm_opt_find(cdm_common_opts, key);
}

/* formatted value val is what the option's default formats to */
static bool at_default(const struct cdm_opt *o, const char *val)
{
	struct cdm_opt d = *o;
	union { int64_t i; double f; char *s; bool b; int e; } v = { 0 };
	char buf[256], err[128];
	bool same;

	d.off = 0;
	if (!o->def || cdm_opt_parse(&d, &v, o->def, err, sizeof(err)))
		return false;
	cdm_opt_format(&d, &v, buf, sizeof(buf));
	same = !strcmp(buf, val);
	if (o->type == CDM_T_STRING)
		free(v.s);
	return same;
}

static void describe_params(struct cdm_case_spec *cs)
{
	const struct cdm_opt *tabs[2] = { cdm_common_opts, cs->wl->opts };
	void *bases[2] = { &cs->common, cs->cfg };
	struct sbuf all, match;
	struct json ja, jm;
	size_t t;

	sb_init(&all);
	sb_init(&match);
	json_init(&ja, &all, false);
	json_init(&jm, &match, false);
	json_obj_open(&ja, NULL);
	json_obj_open(&jm, NULL);
	json_str(&jm, "workload", cs->wl->name);
	for (t = 0; t < 2; t++) {
		const struct cdm_opt *o;

		for (o = tabs[t]; o && o->name; o++) {
			char buf[256];

			cdm_opt_format(o, bases[t], buf, sizeof(buf));
			kv_add(&cs->params, o->name, buf);
			json_str(&ja, o->name, buf);
			if (!(o->flags & CDM_OF_NOMATCH) &&
			    !((o->flags & CDM_OF_KEY_IF_SET) && at_default(o, buf)))
				json_str(&jm, o->name, buf);
		}
	}
	json_obj_close(&ja);
	json_obj_close(&jm);
	cs->params_json = sb_detach(&all);
	cs->match_key = sb_detach(&match);
}

struct expand {
	struct cdm_job *job;
	const char *sec;
	const struct cdm_workload *wl;
	struct layer *l;
	char ***items;
	size_t *nitems;
	size_t *pick;
};

static int make_case(struct expand *x)
{
	struct cdm_job *job = x->job;
	struct cdm_case_spec *cs;
	struct sbuf name;
	bool matrix = false;
	size_t i;

	if (job->ncases >= MAX_CASES)
		return cdm_err("%s: more than %d cases after expanding lists",
			       job->path ? job->path : "job", MAX_CASES);
	/* doubling: a matrix of 100,000 cells must not copy n^2 cases */
	if (!(job->ncases & (job->ncases - 1)) || job->ncases < 8)
		job->cases = xrealloc(job->cases, (job->ncases < 8 ? 8 :
					2 * job->ncases) * sizeof(*cs));
	cs = &job->cases[job->ncases++];
	memset(cs, 0, sizeof(*cs));
	cs->wl = x->wl;
	cs->section = xstrdup(x->sec);
	cs->cfg = xcalloc(1, x->wl->cfg_size ? x->wl->cfg_size : 1);
	cdm_opt_defaults(cdm_common_opts, &cs->common);
	if (x->wl->opts)
		cdm_opt_defaults(x->wl->opts, cs->cfg);
	sb_init(&name);
	sb_adds(&name, x->sec);
	for (i = 0; i < x->l->n; i++) {
		const struct cdm_entry *e = x->l->e[i];
		const char *val = x->items[i][x->pick[i]];
		const struct cdm_opt *o;
		char err[256];
		void *base;

		if (is_expect_key(e->key)) {
			if (cdm_expect_check(e->key + 7, e->value, err,
					     sizeof(err))) {
				sb_free(&name);
				return cdm_err("%s: %s", e->origin, err);
			}
			kv_add(&cs->expect, e->key + 7, e->value);
			continue;
		}
		o = opt_for(x->wl, e->key, &base, cs);
		if (cdm_opt_parse(o, base, val, err, sizeof(err))) {
			sb_free(&name);
			return cdm_err("%s: %s", e->origin, err);
		}
		if (x->nitems[i] > 1) {
			sb_addf(&name, "%s%s=%s", matrix ? " " : "[", e->key,
				val);
			matrix = true;
		}
	}
	if (matrix)
		sb_addc(&name, ']');
	cs->name = sb_detach(&name);
	describe_params(cs);
	return 0;
}

/* walk the cartesian product of every list-valued key */
static int expand_matrix(struct expand *x)
{
	size_t i;

	for (;;) {
		if (make_case(x))
			return -1;
		for (i = x->l->n; i-- > 0;) {
			if (++x->pick[i] < x->nitems[i])
				break;
			x->pick[i] = 0;
		}
		if (i == (size_t)-1)
			return 0;
	}
}

static int expand_section(struct cdm_job *job, size_t s,
			  const struct grouped *g)
{
	const struct cdm_workload *wl;
	struct layer l = { 0 };
	struct expand x = { .job = job, .sec = job->sections[s], .l = &l };
	size_t i, j;
	int r = -1;

	if (section_workload(job, s, &g->sec[s], &wl))
		return -1;
	x.wl = wl;
	if (build_layer(job, g, &g->sec[s], wl, &l))
		goto out;
	x.items = xcalloc(l.n ? l.n : 1, sizeof(char **));
	x.nitems = xcalloc(l.n ? l.n : 1, sizeof(size_t));
	x.pick = xcalloc(l.n ? l.n : 1, sizeof(size_t));
	for (i = 0; i < l.n; i++) {
		const struct cdm_opt *o = cdm_opt_find(wl->opts, l.e[i]->key);
		bool nolist = is_expect_key(l.e[i]->key) ||
			(o && (o->flags & CDM_OF_NOLIST));

		if (!*l.e[i]->value) {
			cdm_err("%s: %s: empty value", l.e[i]->origin,
				l.e[i]->key);
			goto out;
		}
		x.items[i] = split_list(l.e[i]->value, nolist, &x.nitems[i]);
		if (!x.nitems[i]) {
			cdm_err("%s: %s = %s: empty item in the list",
				l.e[i]->origin, l.e[i]->key, l.e[i]->value);
			goto out;
		}
	}
	r = expand_matrix(&x);
out:
	for (i = 0; x.items && i < l.n; i++) {
		for (j = 0; j < x.nitems[i]; j++)
			free(x.items[i][j]);
		free(x.items[i]);
	}
	free(x.items);
	free(x.nitems);
	free(x.pick);
	free(l.e);
	index_free(&l.keys);
	return r;
}

/* [global] and --set keys must mean something to at least one case */
static int check_orphans(struct cdm_job *job)
{
	const struct cdm_workload *used_wl[256];
	size_t i, s, nwl = 0;

	/* the distinct workloads of the job, once, not once per key */
	for (s = 0; s < job->ncases; s++) {
		for (i = 0; i < nwl && used_wl[i] != job->cases[s].wl; i++)
			;
		if (i == nwl && nwl < ARRAY_SIZE(used_wl))
			used_wl[nwl++] = job->cases[s].wl;
	}

	for (i = 0; i < job->nent; i++) {
		const struct cdm_entry *e = &job->ent[i];
		bool used = false;

		if (strcmp(e->section, GLOBAL) && strcmp(e->section, "--set"))
			continue;
		if (is_global_setting(e->key) && !strcmp(e->section, GLOBAL))
			continue;
		if (is_expect_key(e->key))
			continue;
		if (!strcmp(e->key, "workload"))
			return cdm_err("%s: 'workload' belongs in a case section, not [%s]",
				       e->origin, e->section);
		for (s = 0; s < nwl && !used; s++)
			used = has_option(used_wl[s], e->key);
		if (!used)
			return unknown_key(e, NULL);
	}
	return 0;
}

static uint64_t random_seed(void)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), 0) != sizeof(s))
		s = cdm_wall_ns() ^ ((uint64_t)getpid() << 32);
	/* keep it positive in SQLite's signed INTEGER */
	return s & INT64_MAX;
}

int job_expand(struct cdm_job *job)
{
	struct grouped g = { 0 };
	size_t s, c;
	int r = 0;

	if (parse_global(job))
		return -1;
	group_entries(job, &g);
	for (s = 0; s < job->nsections && !r; s++) {
		if (!strcmp(job->sections[s], GLOBAL) ||
		    !strcmp(job->sections[s], "--set"))
			continue;
		r = expand_section(job, s, &g);
	}
	grouped_free(job, &g);
	if (r)
		return -1;
	if (!job->ncases)
		return cdm_err("%s: no cases: add a section per case, e.g. [copy] with workload = stream",
			       job->path ? job->path : "job");
	if (check_orphans(job))
		return -1;
	if (!job->seed_set)
		job->seed = random_seed();
	for (c = 0; c < job->ncases; c++) {
		struct cdm_case_spec *cs = &job->cases[c];

		/* from name and parameters, not position: rerunning one case
		 * of a job with the same seed gives it the same data */
		cs->seed = mix64(job->seed,
				 hash_str(hash_str(0, cs->name), cs->match_key)) &
			   INT64_MAX;
	}
	return 0;
}

void job_free(struct cdm_job *job)
{
	size_t i;

	for (i = 0; i < job->ncases; i++) {
		struct cdm_case_spec *cs = &job->cases[i];

		if (cs->wl->opts)
			cdm_opt_free(cs->wl->opts, cs->cfg);
		cdm_opt_free(cdm_common_opts, &cs->common);
		free(cs->cfg);
		free(cs->name);
		free(cs->section);
		free(cs->params_json);
		free(cs->match_key);
		kv_free(&cs->params);
		kv_free(&cs->expect);
	}
	free(job->cases);
	for (i = 0; i < job->nent; i++) {
		free(job->ent[i].section);
		free(job->ent[i].key);
		free(job->ent[i].value);
		free(job->ent[i].origin);
	}
	free(job->ent);
	for (i = 0; i < job->nsections; i++)
		free(job->sections[i]);
	free(job->sections);
	free(job->section_line);
	free(job->path);
	free(job->name);
	free(job->description);
	free(job->text);
	kv_free(&job->tags);
	memset(job, 0, sizeof(*job));
}
