/* drift.c — the concept-drift detectors of drift.h: ADWIN, Page-Hinkley and DDM, as River 0.26.1 runs them.
 *
 * Each detector is written from River's algorithm (the Rust AdaptiveWindowing behind river.drift.ADWIN, and
 * river/drift/page_hinkley.py, river/drift/binary/ddm.py) keeping its order of floating-point operations, so
 * that the same input fires at the same index (tests/parity/drift.sh). Where River leaves a choice to the
 * container (Python floats for counts), the same values are kept as doubles here.
 *
 * No allocation beyond the detector itself: ADWIN's exponential histogram has at most 64 rows (a row i entry
 * summarises 2^i values, so 64 rows would need more than 2^63 values), stored inline. */
#include "pipeline/drift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rtml.h"

/* ADWIN's fixed settings (River's defaults; not exposed by the config). */
#define ADWIN_CLOCK 32u         /* check for a cut every 32 values */
#define ADWIN_MAX_BUCKETS 5u    /* entries a row keeps before its two oldest merge into the next row */
#define ADWIN_MIN_WINDOW 5.0    /* both sub-windows of a cut hold at least this many values */
#define ADWIN_ROWS 64u

/* One row of ADWIN's exponential histogram: up to ADWIN_MAX_BUCKETS + 1 entries (the extra one exists only
 * between an insert and the merge it triggers), oldest first; each entry is the sum of 2^row values and their
 * sum of squared deviations from their own mean. */
typedef struct {
    uint32_t count;
    double total[ADWIN_MAX_BUCKETS + 1];
    double variance[ADWIN_MAX_BUCKETS + 1];
} adwin_row;

/* The window: its width, sum and sum of squared deviations (doubles, as River keeps them), the rows in use
 * (row 0 holds single values, the last row the oldest and largest entries) and the clock. */
typedef struct {
    double total, variance, width;
    uint64_t tick;
    uint32_t n_rows; /* >= 1 */
    adwin_row rows[ADWIN_ROWS];
} adwin_state;

/* Page-Hinkley: the running mean (River's stats.Mean: n and mean), the two faded cumulative sums and their
 * extremes, and where (0-based value index) each extreme was last set. */
typedef struct {
    double n, mean;
    double sum_inc, sum_dec;
    double min_inc, max_dec;
    uint64_t min_inc_at, max_dec_at;
} ph_state;

/* DDM: the running error rate (stats.Mean), the point where p + s was lowest (p_min, s_min, their sum), and
 * the warning zone with the value index where it began. */
typedef struct {
    double n, p;
    double p_min, s_min, ps_min;
    bool warning;
    uint64_t warning_since;
} ddm_state;

struct rtml_drift {
    rtml_drift_params p;
    uint64_t seen, detections, change_at; /* rtml_drift_state's meaning */
    bool fired;                           /* the last value was a detection: the next one starts afresh */
    union {
        adwin_state adwin;
        ph_state ph;
        ddm_state ddm;
    } u;
};

/* ---- ADWIN ---- */

static void adwin_clear(adwin_state *a) {
    memset(a, 0, sizeof *a);
    a->n_rows = 1;
}

/* Drop the n oldest entries of a row (the rest move to the front). */
static void row_drop(adwin_row *r, uint32_t n) {
    memmove(r->total, r->total + n, (r->count - n) * sizeof r->total[0]);
    memmove(r->variance, r->variance + n, (r->count - n) * sizeof r->variance[0]);
    r->count -= n;
    memset(r->total + r->count, 0, n * sizeof r->total[0]);
    memset(r->variance + r->count, 0, n * sizeof r->variance[0]);
}

static void row_push(adwin_row *r, double total, double variance) {
    r->total[r->count] = total;
    r->variance[r->count] = variance;
    r->count++;
}

/* A full row (max_buckets + 1 entries) merges its two oldest entries into one entry of the next row, which
 * may fill that row in turn. */
static void adwin_compress(adwin_state *a) {
    for (uint32_t i = 0; i + 1 < ADWIN_ROWS && a->rows[i].count == ADWIN_MAX_BUCKETS + 1; i++) {
        adwin_row *r = &a->rows[i];
        double n1 = (double)(UINT64_C(1) << i);
        double mu1 = r->total[0] / n1, mu2 = r->total[1] / n1;
        double total12 = r->total[0] + r->total[1];
        double v12 = r->variance[0] + r->variance[1] + n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2);
        if (i + 1 >= a->n_rows) a->n_rows = i + 2; /* the row above is empty (cleared when dropped) */
        row_push(&a->rows[i + 1], total12, v12);
        row_drop(r, 2);
    }
}

static void adwin_insert(adwin_state *a, double x) {
    row_push(&a->rows[0], x, 0.0);
    a->width += 1.0;
    double inc = 0.0;
    if (a->width > 1.0) {
        double d = x - a->total / (a->width - 1.0);
        inc = (a->width - 1.0) * d * d / a->width;
    }
    a->variance += inc;
    a->total += x;
    adwin_compress(a);
}

/* Remove the oldest entry of the window (the first of the last row). */
static void adwin_delete_oldest(adwin_state *a) {
    uint32_t last = a->n_rows - 1;
    adwin_row *r = &a->rows[last];
    double n = (double)(UINT64_C(1) << last);
    double u = r->total[0], v = r->variance[0];
    double mu = u / n;
    a->width -= n;
    a->total -= u;
    double mu_window = a->total / a->width;
    a->variance -= v + n * a->width * (mu - mu_window) * (mu - mu_window) / (n + a->width);
    row_drop(r, 1);
    if (r->count == 0 && last > 0) a->n_rows--;
}

/* Is the difference of the sub-window means (n0 old values, n1 recent ones) beyond ADWIN's bound? */
static bool adwin_cut(const adwin_state *a, double n0, double n1, double delta_mean, double delta) {
    double delta_prime = log(2.0 * log(a->width) / delta);
    double m_recip = 1.0 / (n0 - ADWIN_MIN_WINDOW + 1.0) + 1.0 / (n1 - ADWIN_MIN_WINDOW + 1.0);
    double epsilon = sqrt(2.0 * m_recip * (a->variance / a->width) * delta_prime) + 2.0 / 3.0 * delta_prime * m_recip;
    return fabs(delta_mean) > epsilon;
}

/* One scan of the cut points, oldest first; at the first one that is beyond the bound, the oldest entry goes
 * and the scan reports true (the caller scans again). */
static bool adwin_scan(adwin_state *a, double delta) {
    double n0 = 0, n1 = a->width, u0 = 0, u1 = a->total;
    for (uint32_t i = a->n_rows; i-- > 0;) {
        const adwin_row *r = &a->rows[i];
        double size = (double)(UINT64_C(1) << i);
        for (uint32_t k = 0; k < r->count; k++) {
            n0 += size;
            n1 -= size;
            u0 += r->total[k];
            u1 -= r->total[k];
            if (i == 0 && k == r->count - 1) return false; /* the recent part would be empty */
            double delta_mean = (u0 / n0) - (u1 / n1);
            if (n1 >= ADWIN_MIN_WINDOW && n0 >= ADWIN_MIN_WINDOW && adwin_cut(a, n0, n1, delta_mean, delta) &&
                a->width > 0.0) {
                adwin_delete_oldest(a);
                return true;
            }
        }
    }
    return false;
}

static bool adwin_update(adwin_state *a, const rtml_drift_params *p, double x) {
    adwin_insert(a, x);
    a->tick++;
    if (a->tick % ADWIN_CLOCK != 0 || !(a->width > (double)p->min_instances)) return false;
    bool change = false;
    while (adwin_scan(a, p->delta)) change = true;
    return change;
}

/* ---- Page-Hinkley ---- */

static void ph_clear(ph_state *s) {
    memset(s, 0, sizeof *s);
    s->min_inc = INFINITY;
    s->max_dec = -1;
}

/* Updates the sums with value number `at` (0-based); true when either has moved threshold from its extreme.
 * *began is set to where the change began (the value after the extreme). */
static bool ph_update(ph_state *s, const rtml_drift_params *p, double x, uint64_t at, uint64_t *began) {
    s->n += 1.0;
    s->mean += (1.0 / s->n) * (x - s->mean);
    double dev = x - s->mean;
    s->sum_inc = p->alpha * s->sum_inc + dev - p->delta;
    s->sum_dec = p->alpha * s->sum_dec + dev + p->delta;
    if (s->sum_inc < s->min_inc) {
        s->min_inc = s->sum_inc;
        s->min_inc_at = at;
    }
    if (s->sum_dec > s->max_dec) {
        s->max_dec = s->sum_dec;
        s->max_dec_at = at;
    }
    if (!(s->n >= (double)p->min_instances)) return false;
    if (s->sum_inc - s->min_inc > p->threshold) {
        *began = s->min_inc_at + 1;
        return true;
    }
    if (s->max_dec - s->sum_dec > p->threshold) {
        *began = s->max_dec_at + 1;
        return true;
    }
    return false;
}

/* ---- DDM ---- */

static void ddm_clear(ddm_state *s) {
    memset(s, 0, sizeof *s);
    s->ps_min = INFINITY;
}

static bool ddm_update(ddm_state *s, const rtml_drift_params *p, double x, uint64_t at, uint64_t *began) {
    s->n += 1.0;
    s->p += (1.0 / s->n) * (x - s->p);
    double p_i = s->p;
    double s_i = sqrt(p_i * (1 - p_i) / s->n);
    if (!(s->n > (double)p->min_instances)) return false;
    if (p_i + s_i <= s->ps_min) {
        s->p_min = p_i;
        s->s_min = s_i;
        s->ps_min = s->p_min + s->s_min;
    }
    bool was_warning = s->warning;
    s->warning = p_i + s_i > s->p_min + p->warning_level * s->s_min;
    if (s->warning && !was_warning) s->warning_since = at;
    if (p_i + s_i > s->p_min + p->drift_level * s->s_min) {
        *began = was_warning ? s->warning_since : at;
        s->warning = false;
        return true;
    }
    return false;
}

/* ---- the detector ---- */

static void detector_clear(rtml_drift *d) {
    d->fired = false;
    switch (d->p.kind) {
    case RTML_DRIFT_ADWIN: adwin_clear(&d->u.adwin); break;
    case RTML_DRIFT_PAGE_HINKLEY: ph_clear(&d->u.ph); break;
    case RTML_DRIFT_DDM: ddm_clear(&d->u.ddm); break;
    case RTML_DRIFT_NONE: break;
    }
}

rtml_drift *rtml_drift_new(const rtml_drift_params *p) {
    rtml_drift *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->p = *p;
    detector_clear(d);
    return d;
}

void rtml_drift_free(rtml_drift *d) { free(d); }

void rtml_drift_reset(rtml_drift *d) { detector_clear(d); }

bool rtml_drift_update(rtml_drift *d, double x) {
    if (!isfinite(x)) return false;
    if (d->fired) detector_clear(d);
    uint64_t at = d->seen++, began = at;
    bool fired = false;
    switch (d->p.kind) {
    case RTML_DRIFT_ADWIN:
        fired = adwin_update(&d->u.adwin, &d->p, x);
        began = d->seen - (uint64_t)d->u.adwin.width;
        break;
    case RTML_DRIFT_PAGE_HINKLEY: fired = ph_update(&d->u.ph, &d->p, x, at, &began); break;
    case RTML_DRIFT_DDM: fired = ddm_update(&d->u.ddm, &d->p, x, at, &began); break;
    case RTML_DRIFT_NONE: break;
    }
    if (fired) {
        d->detections++;
        d->change_at = began;
    }
    d->fired = fired;
    return fired;
}

void rtml_drift_state_get(const rtml_drift *d, rtml_drift_state *s) {
    memset(s, 0, sizeof *s);
    s->seen = d->seen;
    s->detections = d->detections;
    s->change_at = d->change_at;
    switch (d->p.kind) {
    case RTML_DRIFT_ADWIN: {
        const adwin_state *a = &d->u.adwin;
        s->width = (uint64_t)a->width;
        s->estimation = a->width > 0 ? a->total / a->width : 0.0;
        break;
    }
    case RTML_DRIFT_PAGE_HINKLEY:
        s->width = (uint64_t)d->u.ph.n;
        s->estimation = d->u.ph.mean;
        break;
    case RTML_DRIFT_DDM:
        s->width = (uint64_t)d->u.ddm.n;
        s->estimation = d->u.ddm.p;
        s->warning = d->u.ddm.warning;
        break;
    case RTML_DRIFT_NONE: break;
    }
}

/* ---- checkpoints ----
 * Layout: u32 format (1) | u32 kind | the six params | u64 seen, detections, change_at | u32 fired | the
 * kind's state: ADWIN f64 total, variance, width | u64 tick | u32 rows | per row: u32 count, count totals,
 * count variances; Page-Hinkley f64 n, mean, sum_inc, sum_dec, min_inc, max_dec | u64 min_inc_at,
 * max_dec_at; DDM f64 n, p, p_min, s_min, ps_min | u32 warning | u64 warning_since. */

#define DRIFT_FORMAT 1u

static void save_params(const rtml_drift_params *p, rtml_writer *w) {
    rtml_w_u32(w, (uint32_t)p->kind);
    rtml_w_f64(w, p->delta);
    rtml_w_f64(w, p->threshold);
    rtml_w_f64(w, p->alpha);
    rtml_w_u64(w, p->min_instances);
    rtml_w_f64(w, p->warning_level);
    rtml_w_f64(w, p->drift_level);
}

static void save_adwin(const adwin_state *a, rtml_writer *w) {
    rtml_w_f64(w, a->total);
    rtml_w_f64(w, a->variance);
    rtml_w_f64(w, a->width);
    rtml_w_u64(w, a->tick);
    rtml_w_u32(w, a->n_rows);
    for (uint32_t i = 0; i < a->n_rows; i++) {
        rtml_w_u32(w, a->rows[i].count);
        rtml_w_f64s(w, a->rows[i].total, a->rows[i].count);
        rtml_w_f64s(w, a->rows[i].variance, a->rows[i].count);
    }
}

static void save_ph(const ph_state *s, rtml_writer *w) {
    const double v[] = {s->n, s->mean, s->sum_inc, s->sum_dec, s->min_inc, s->max_dec};
    rtml_w_f64s(w, v, sizeof v / sizeof v[0]);
    rtml_w_u64(w, s->min_inc_at);
    rtml_w_u64(w, s->max_dec_at);
}

static void save_ddm(const ddm_state *s, rtml_writer *w) {
    const double v[] = {s->n, s->p, s->p_min, s->s_min, s->ps_min};
    rtml_w_f64s(w, v, sizeof v / sizeof v[0]);
    rtml_w_u32(w, s->warning);
    rtml_w_u64(w, s->warning_since);
}

void rtml_drift_save(const rtml_drift *d, rtml_writer *w) {
    rtml_w_u32(w, DRIFT_FORMAT);
    save_params(&d->p, w);
    rtml_w_u64(w, d->seen);
    rtml_w_u64(w, d->detections);
    rtml_w_u64(w, d->change_at);
    rtml_w_u32(w, d->fired);
    switch (d->p.kind) {
    case RTML_DRIFT_ADWIN: save_adwin(&d->u.adwin, w); break;
    case RTML_DRIFT_PAGE_HINKLEY: save_ph(&d->u.ph, w); break;
    case RTML_DRIFT_DDM: save_ddm(&d->u.ddm, w); break;
    case RTML_DRIFT_NONE: break;
    }
}

/* Are two values of a parameter the same, bit for bit? */
static bool same(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* The saved params against the detector's: only the fields its kind uses must agree. */
static int load_params(const rtml_drift_params *want, rtml_reader *r, char *err, size_t errlen) {
    rtml_drift_params got;
    got.kind = (rtml_drift_kind)rtml_r_u32(r);
    got.delta = rtml_r_f64(r);
    got.threshold = rtml_r_f64(r);
    got.alpha = rtml_r_f64(r);
    got.min_instances = rtml_r_u64(r);
    got.warning_level = rtml_r_f64(r);
    got.drift_level = rtml_r_f64(r);
    if (r->failed) return rtml_fail(err, errlen, "drift state truncated (in its parameters)");
    if (got.kind != want->kind)
        return rtml_fail(err, errlen, "drift state is of a %s detector, not %s", rtml_drift_kind_name(got.kind),
                         rtml_drift_kind_name(want->kind));
    struct { const char *name; bool differ; } f[] = {
        {"delta", !same(got.delta, want->delta)},
        {"threshold", !same(got.threshold, want->threshold)},
        {"alpha", !same(got.alpha, want->alpha)},
        {"min_instances", got.min_instances != want->min_instances},
        {"warning_level", !same(got.warning_level, want->warning_level)},
        {"drift_level", !same(got.drift_level, want->drift_level)},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].differ && rtml_drift_uses(want->kind, f[i].name))
            return rtml_fail(err, errlen, "drift state was saved with another %s (the config changed)", f[i].name);
    return 0;
}

static int load_adwin(adwin_state *a, rtml_reader *r, char *err, size_t errlen) {
    a->total = rtml_r_f64(r);
    a->variance = rtml_r_f64(r);
    a->width = rtml_r_f64(r);
    a->tick = rtml_r_u64(r);
    a->n_rows = rtml_r_u32(r);
    if (r->failed) return rtml_fail(err, errlen, "drift state truncated (ADWIN window)");
    if (a->n_rows < 1 || a->n_rows > ADWIN_ROWS)
        return rtml_fail(err, errlen, "drift state corrupt: ADWIN has %u rows", (unsigned)a->n_rows);
    double width = 0;
    for (uint32_t i = 0; i < a->n_rows; i++) {
        adwin_row *row = &a->rows[i];
        row->count = rtml_r_u32(r);
        if (r->failed) return rtml_fail(err, errlen, "drift state truncated (ADWIN row %u)", (unsigned)i);
        if (row->count > ADWIN_MAX_BUCKETS)
            return rtml_fail(err, errlen, "drift state corrupt: ADWIN row %u has %u entries", (unsigned)i,
                             (unsigned)row->count);
        rtml_r_f64s(r, row->total, row->count);
        rtml_r_f64s(r, row->variance, row->count);
        width += (double)row->count * (double)(UINT64_C(1) << i);
    }
    if (r->failed) return rtml_fail(err, errlen, "drift state truncated (ADWIN rows)");
    if (width != a->width) return rtml_fail(err, errlen, "drift state corrupt: ADWIN rows do not add up to its width");
    return 0;
}

static int load_ph(ph_state *s, rtml_reader *r, char *err, size_t errlen) {
    double v[6];
    rtml_r_f64s(r, v, 6);
    s->n = v[0];
    s->mean = v[1];
    s->sum_inc = v[2];
    s->sum_dec = v[3];
    s->min_inc = v[4];
    s->max_dec = v[5];
    s->min_inc_at = rtml_r_u64(r);
    s->max_dec_at = rtml_r_u64(r);
    return r->failed ? rtml_fail(err, errlen, "drift state truncated (Page-Hinkley sums)") : 0;
}

static int load_ddm(ddm_state *s, rtml_reader *r, char *err, size_t errlen) {
    double v[5];
    rtml_r_f64s(r, v, 5);
    s->n = v[0];
    s->p = v[1];
    s->p_min = v[2];
    s->s_min = v[3];
    s->ps_min = v[4];
    s->warning = rtml_r_u32(r) != 0;
    s->warning_since = rtml_r_u64(r);
    return r->failed ? rtml_fail(err, errlen, "drift state truncated (DDM rates)") : 0;
}

int rtml_drift_load(rtml_drift *d, rtml_reader *r, char *err, size_t errlen) {
    uint32_t format = rtml_r_u32(r);
    if (r->failed) return rtml_fail(err, errlen, "drift state truncated (empty)");
    if (format != DRIFT_FORMAT)
        return rtml_fail(err, errlen, "drift state format %u is not one this rtml reads (%u)", (unsigned)format,
                         DRIFT_FORMAT);
    if (load_params(&d->p, r, err, errlen) < 0) return -1;
    rtml_drift *t = malloc(sizeof *t); /* loaded aside, so that a failure leaves d as it was */
    if (!t) return rtml_fail(err, errlen, "out of memory loading the drift state");
    memset(t, 0, sizeof *t);
    t->p = d->p;
    detector_clear(t);
    t->seen = rtml_r_u64(r);
    t->detections = rtml_r_u64(r);
    t->change_at = rtml_r_u64(r);
    t->fired = rtml_r_u32(r) != 0;
    int rc = r->failed ? rtml_fail(err, errlen, "drift state truncated (its counters)") : 0;
    if (rc == 0) {
        switch (d->p.kind) {
        case RTML_DRIFT_ADWIN: rc = load_adwin(&t->u.adwin, r, err, errlen); break;
        case RTML_DRIFT_PAGE_HINKLEY: rc = load_ph(&t->u.ph, r, err, errlen); break;
        case RTML_DRIFT_DDM: rc = load_ddm(&t->u.ddm, r, err, errlen); break;
        case RTML_DRIFT_NONE: break;
        }
    }
    if (rc == 0) *d = *t;
    free(t);
    return rc;
}
