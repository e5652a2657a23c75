/* pbplan.c — compiles the configured field paths against a Protobuf message into plans (see pbplan.h).
 *
 * Paths are split once (rtml_pointer_split) and grouped segment by segment: at depth d, every path naming the
 * same field shares one want; paths ending there give its slot, the others continue into its message, its
 * elements (repeated: by index) or its entries (map: by key). A path that cannot fit is reported with the
 * field it came from, e.g. "field /items/sku: 'sku' is not an element index of the repeated field 'items'". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "codec/pbplan.h"
#include "base/rtml.h"

typedef struct {
    pb_target *t;
    const char *const *fields;
    char ***seg; /* seg[i]: path i split */
    size_t *nseg;
    char why[RTML_ERRLEN];
    int failed, oom;
} pb_compiler;

__attribute__((format(printf, 2, 3))) static void plan_fail(pb_compiler *cc, const char *fmt, ...) {
    if (cc->failed) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cc->why, sizeof cc->why, fmt, ap);
    va_end(ap);
    cc->failed = 1;
}

static int is_numeric(int type) {
    return type != RTML_PB_STRING && type != RTML_PB_BYTES && type != RTML_PB_MESSAGE && type != RTML_PB_GROUP;
}

static int is_map(const rtml_pb_field *fd) {
    return fd->label == RTML_PB_LABEL_REPEATED && fd->type == RTML_PB_MESSAGE && fd->msg->map_entry;
}

static pb_plan *new_plan(pb_compiler *cc, size_t n) {
    pb_target *t = cc->t;
    pb_plan *p = calloc(1, sizeof *p);
    pb_plan **all = p ? realloc(t->plans, (t->n_plans + 1) * sizeof *all) : NULL;
    if (p) p->w = calloc(n ? n : 1, sizeof *p->w);
    if (!p || !all || !p->w) {
        if (all) t->plans = all;
        if (p) free(p->w);
        free(p);
        cc->oom = 1;
        return NULL;
    }
    t->plans = all;
    t->plans[t->n_plans++] = p;
    return p;
}

static long add_vec(pb_compiler *cc, long slot) {
    pb_target *t = cc->t;
    pb_vec *v = realloc(t->vecs, (t->n_vecs + 1) * sizeof *v);
    if (!v) {
        cc->oom = 1;
        return -1;
    }
    t->vecs = v;
    t->vecs[t->n_vecs] = (pb_vec){NULL, 0, 0, 0, slot};
    return (long)t->n_vecs++;
}

static int cmp_want(const void *a, const void *b) {
    uint32_t x = ((const pb_want *)a)->f->number, y = ((const pb_want *)b)->f->number;
    return (x > y) - (x < y);
}

/* An element index as JSON Pointers write one: "0" or [1-9][0-9]{0,8}. */
static int parse_index(const char *s, uint32_t *out) {
    size_t len = strlen(s);
    if (len == 0 || len > 9 || (len > 1 && s[0] == '0')) return -1;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* Is s a key of a map whose keys have type `type`, written as rtml compares them (canonical decimal)? */
static int key_ok(int type, const char *s) {
    char back[32];
    char *end;
    errno = 0;
    switch (type) {
    case RTML_PB_STRING: return 1;
    case RTML_PB_BOOL: return strcmp(s, "true") == 0 || strcmp(s, "false") == 0;
    case RTML_PB_UINT32:
    case RTML_PB_FIXED32:
    case RTML_PB_UINT64:
    case RTML_PB_FIXED64: {
        unsigned long long u = strtoull(s, &end, 10);
        int wide = type == RTML_PB_UINT64 || type == RTML_PB_FIXED64;
        snprintf(back, sizeof back, "%llu", u);
        return s[0] != '-' && !errno && !*end && (wide || u <= UINT32_MAX) && strcmp(back, s) == 0;
    }
    default: {
        long long i = strtoll(s, &end, 10);
        int wide = type == RTML_PB_INT64 || type == RTML_PB_SINT64 || type == RTML_PB_SFIXED64;
        snprintf(back, sizeof back, "%lld", i);
        return !errno && !*end && (wide || (i >= INT32_MIN && i <= INT32_MAX)) && strcmp(back, s) == 0;
    }
    }
}

static pb_plan *compile(pb_compiler *cc, const rtml_pb_message *m, const size_t *idx, size_t n, size_t d);

/* The paths idx[0..n) whose segment d is seg: those ending there (the last one's slot) and the deeper ones. */
static size_t group(const pb_compiler *cc, const size_t *idx, size_t n, size_t d, const char *seg, long *slot,
                    size_t *deeper) {
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (strcmp(cc->seg[idx[k]][d], seg) != 0) continue;
        if (cc->nseg[idx[k]] == d + 1) *slot = (long)idx[k];
        else deeper[m++] = idx[k];
    }
    return m;
}

/* Paths continuing below a field of type fd (a message field, a repeated element or a map value). */
static pb_plan *compile_below(pb_compiler *cc, const rtml_pb_field *fd, const char *what, const size_t *deeper,
                              size_t m, size_t d) {
    if (fd->type != RTML_PB_MESSAGE) {
        plan_fail(cc, "field %s: %s is a %s, not a message", cc->fields[deeper[0]], what, rtml_pb_type_name(fd->type));
        return NULL;
    }
    return compile(cc, fd->msg, deeper, m, d);
}

/* One element (index) or entry (key) of repeated field or map w, named by segment d of paths idx. */
static int compile_elem(pb_compiler *cc, pb_want *w, const rtml_pb_field *value, const char *seg, const size_t *idx,
                        size_t n, size_t d, size_t *deeper) {
    pb_elem *e = realloc(w->elems, (w->n_elems + 1) * sizeof *e);
    if (!e) return cc->oom = 1, -1;
    w->elems = e;
    e = &w->elems[w->n_elems++];
    *e = (pb_elem){0, NULL, -1, NULL, 0};
    if (is_map(w->f) && !(e->key = strdup(seg))) return cc->oom = 1, -1;
    if (!e->key) parse_index(seg, &e->index);
    size_t m = group(cc, idx, n, d, seg, &e->slot, deeper);
    char what[160];
    snprintf(what, sizeof what, "%s of '%s'", e->key ? "a value" : "an element", w->f->name);
    if (m && !(e->sub = compile_below(cc, value, what, deeper, m, d + 1))) return -1;
    return 0;
}

/* Does seg name an element of repeated field fd (an index) or an entry of its map (a key of type key)? */
static int segment_ok(pb_compiler *cc, const rtml_pb_field *fd, const rtml_pb_field *key, const char *seg,
                      const char *field) {
    uint32_t unused;
    if (key && !key_ok(key->type, seg))
        plan_fail(cc, "field %s: '%s' is not a key of map '%s' (its keys are %ss)", field, seg, fd->name,
                  rtml_pb_type_name(key->type));
    else if (!key && parse_index(seg, &unused) != 0)
        plan_fail(cc, "field %s: '%s' is not an element index of the repeated field '%s'", field, seg, fd->name);
    else return 1;
    return 0;
}

/* The elements or entries paths idx[0..n) name at segment d, below repeated field or map w. */
static int compile_elems(pb_compiler *cc, pb_want *w, const size_t *idx, size_t n, size_t d) {
    const rtml_pb_field *fd = w->f, *key = NULL, *value = fd;
    if (is_map(fd)) {
        key = rtml_pb_field_by_number(fd->msg, 1);
        value = rtml_pb_field_by_number(fd->msg, 2);
        if (!key || !value) {
            plan_fail(cc, "field %s: map '%s' has no key or value field", cc->fields[idx[0]], fd->name);
            return -1;
        }
    }
    size_t *deeper = malloc(n * sizeof *deeper);
    if (!deeper) return cc->oom = 1, -1;
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < n; k++) {
        const char *seg = cc->seg[idx[k]][d];
        size_t j = 0;
        while (j < k && strcmp(cc->seg[idx[j]][d], seg) != 0) j++;
        if (j < k) continue; /* done with an earlier path */
        rc = segment_ok(cc, fd, key, seg, cc->fields[idx[k]]) ? compile_elem(cc, w, value, seg, idx, n, d, deeper) : -1;
    }
    free(deeper);
    return rc;
}

/* The want for field fd: the path ending there (if any) and the paths going deeper. */
static int compile_want(pb_compiler *cc, const rtml_pb_field *fd, const size_t *idx, size_t n, size_t d, pb_want *w) {
    *w = (pb_want){fd, -1, -1, NULL, NULL, 0, 0};
    size_t *deeper = malloc(n * sizeof *deeper);
    if (!deeper) return cc->oom = 1, -1;
    size_t m = group(cc, idx, n, d, fd->name, &w->slot, deeper);
    int rc = 0;
    char what[160];
    snprintf(what, sizeof what, "'%s'", fd->name);
    if (m && fd->label == RTML_PB_LABEL_REPEATED) rc = compile_elems(cc, w, deeper, m, d + 1);
    else if (m && !(w->sub = compile_below(cc, fd, what, deeper, m, d + 1))) rc = -1;
    if (rc == 0 && w->slot >= 0 && fd->label == RTML_PB_LABEL_REPEATED && !is_map(fd) && is_numeric(fd->type) &&
        (w->vec = add_vec(cc, w->slot)) < 0)
        rc = -1;
    free(deeper);
    return rc;
}

/* Plan for message m at depth d, for paths idx[0..n) that agree on their first d segments (all deeper). */
static pb_plan *compile(pb_compiler *cc, const rtml_pb_message *m, const size_t *idx, size_t n, size_t d) {
    pb_plan *p = new_plan(cc, n);
    for (size_t k = 0; p && k < n; k++) {
        const char *name = cc->seg[idx[k]][d];
        const rtml_pb_field *fd = rtml_pb_find_field(m, name);
        if (!fd) {
            plan_fail(cc, "field %s: message %s has no field '%s'", cc->fields[idx[k]], m->name, name);
            return NULL;
        }
        size_t j = 0;
        while (j < p->n && p->w[j].f != fd) j++;
        if (j < p->n) continue; /* done with an earlier path of the same field */
        if (compile_want(cc, fd, idx, n, d, &p->w[p->n++]) != 0) return NULL; /* counted: freed with p */
    }
    if (p) qsort(p->w, p->n, sizeof *p->w, cmp_want);
    return p;
}

/* Split every distinct path and compile them from the message's root. */
static void compile_root(pb_compiler *cc, const size_t *first, size_t n) {
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), m = 0;
    if (!idx) {
        cc->oom = 1;
        return;
    }
    char why[RTML_ERRLEN];
    for (size_t i = 0; i < n && !cc->failed; i++) {
        if (first[i] != i) continue;
        if (!(cc->seg[i] = rtml_pointer_split(cc->fields[i], &cc->nseg[i], why, sizeof why)))
            plan_fail(cc, "%s", why);
        else idx[m++] = i;
    }
    if (!cc->failed) cc->t->root = compile(cc, cc->t->msg, idx, m, 0);
    free(idx);
}

pb_target *rtml_pb_target_new(const rtml_pb_message *msg, const char *const *fields, const size_t *first, size_t n) {
    pb_target *t = calloc(1, sizeof *t);
    pb_compiler cc = {.t = t, .fields = fields};
    cc.seg = calloc(n ? n : 1, sizeof *cc.seg);
    cc.nseg = calloc(n ? n : 1, sizeof *cc.nseg);
    if (t && cc.seg && cc.nseg) {
        t->msg = msg;
        compile_root(&cc, first, n);
        if (cc.failed) t->root = NULL;
        if (!t->root && !cc.oom && !(t->why = strdup(cc.failed ? cc.why : "out of memory"))) cc.oom = 1;
    }
    for (size_t i = 0; cc.seg && i < n; i++) free(cc.seg[i]);
    free(cc.seg);
    free(cc.nseg);
    if (!t || !cc.seg || !cc.nseg || cc.oom) {
        rtml_pb_target_free(t);
        return NULL;
    }
    return t;
}

void rtml_pb_target_reset(pb_target *t) {
    for (size_t i = 0; i < t->n_plans; i++) {
        pb_plan *p = t->plans[i];
        for (size_t k = 0; k < p->n; k++) {
            p->w[k].count = 0;
            for (size_t e = 0; e < p->w[k].n_elems; e++) p->w[k].elems[e].seen = 0;
        }
    }
    for (size_t k = 0; k < t->n_vecs; k++) t->vecs[k].n = 0, t->vecs[k].seen = 0;
}

void rtml_pb_plan_clear(pb_target *t, pb_plan *p, rtml_value *out) {
    if (!p) return;
    for (size_t k = 0; k < p->n; k++) {
        pb_want *w = &p->w[k];
        if (w->slot >= 0) out[w->slot] = (rtml_value){.type = RTML_V_ABSENT};
        if (w->vec >= 0) t->vecs[w->vec].n = 0, t->vecs[w->vec].seen = 0;
        w->count = 0;
        for (size_t e = 0; e < w->n_elems; e++) {
            if (w->elems[e].slot >= 0) out[w->elems[e].slot] = (rtml_value){.type = RTML_V_ABSENT};
            w->elems[e].seen = 0;
            rtml_pb_plan_clear(t, w->elems[e].sub, out);
        }
        rtml_pb_plan_clear(t, w->sub, out);
    }
}

void rtml_pb_target_free(pb_target *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n_plans; i++) {
        pb_plan *p = t->plans[i];
        for (size_t k = 0; k < p->n; k++) {
            for (size_t e = 0; e < p->w[k].n_elems; e++) free(p->w[k].elems[e].key);
            free(p->w[k].elems);
        }
        free(p->w);
        free(p);
    }
    free(t->plans);
    for (size_t k = 0; k < t->n_vecs; k++) free(t->vecs[k].v);
    free(t->vecs);
    free(t->why);
    free(t);
}
