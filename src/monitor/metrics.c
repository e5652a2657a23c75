/* metrics.c — per-partition counters and the latency ring of `rtml run` (metrics.h). */
#include "monitor/metrics.h"

#include <stdlib.h>
#include <string.h>

#include "base/ticket.h"


int rtml_metrics_init(rtml_metrics *m) {
    memset(m, 0, sizeof *m);
    if (rtml_hist_init(&m->e2e, rtml_hist_latency_bounds, rtml_hist_latency_n) != 0 ||
        rtml_hist_init(&m->processing, rtml_hist_latency_bounds, rtml_hist_latency_n) != 0 ||
        rtml_hist_init(&m->batch, rtml_hist_batch_bounds, rtml_hist_batch_n) != 0) {
        rtml_metrics_free(m);
        return -1;
    }
    return 0;
}

void rtml_metrics_free(rtml_metrics *m) {
    for (size_t i = 0; i < m->n; i++) {
        free(m->parts[i].lat_tag);
        free(m->parts[i].lat_ts);
    }
    free(m->parts);
    rtml_hist_free(&m->e2e);
    rtml_hist_free(&m->processing);
    rtml_hist_free(&m->batch);
    memset(m, 0, sizeof *m);
}

static int grow(rtml_metrics *m, size_t need) {
    if (need <= m->cap) return 0;
    size_t cap = m->cap ? m->cap * 2 : 16;
    while (cap < need) cap *= 2;
    rtml_part_metrics *p = realloc(m->parts, cap * sizeof *p);
    if (!p) return -1;
    m->parts = p;
    m->cap = cap;
    return 0;
}

/* A ring of cap entries, empty. 0, or -1 when out of memory (p unchanged). */
static int ring_alloc(rtml_part_metrics *p, size_t cap) {
    uint64_t *tag = malloc(cap * sizeof *tag);
    double *ts = malloc(cap * sizeof *ts);
    if (!tag || !ts) {
        free(tag);
        free(ts);
        return -1;
    }
    memset(tag, 0xff, cap * sizeof *tag);
    uint64_t *old_tag = p->lat_tag;
    double *old_ts = p->lat_ts;
    size_t old_cap = p->lat_cap;
    p->lat_tag = tag, p->lat_ts = ts, p->lat_cap = cap;
    for (size_t i = 0; i < old_cap; i++) /* the entries in flight, at their place in the larger ring */
        if (old_tag[i] != UINT64_MAX) tag[old_tag[i] & (cap - 1)] = old_tag[i], ts[old_tag[i] & (cap - 1)] = old_ts[i];
    free(old_tag);
    free(old_ts);
    return 0;
}

rtml_part_metrics *rtml_metrics_part(rtml_metrics *m, int slot) {
    if (slot < 0 || grow(m, (size_t)slot + 1) != 0) return NULL;
    while (m->n <= (size_t)slot) {
        rtml_part_metrics *p = &m->parts[m->n];
        *p = (rtml_part_metrics){.lag = -1, .committed_lag = -1, .hi_offset = -1};
        if (ring_alloc(p, RTML_LAT_RING_MIN) != 0) return NULL;
        m->n++;
    }
    return &m->parts[slot];
}

uint64_t rtml_metrics_ticket(rtml_metrics *m, int slot) {
    rtml_part_metrics *p = rtml_metrics_part(m, slot);
    uint64_t seq = p ? p->next_seq++ : 0;
    return rtml_ticket_make((size_t)slot, seq);
}

void rtml_metrics_sent(rtml_metrics *m, uint64_t ticket, double ts) {
    size_t slot = rtml_ticket_slot(ticket);
    if (slot >= m->n) return;
    rtml_part_metrics *p = &m->parts[slot];
    uint64_t seq = rtml_ticket_seq(ticket);
    /* An entry still in flight where this one goes: make room while the ring may grow. */
    while (p->lat_tag[seq & (p->lat_cap - 1)] != UINT64_MAX && p->lat_cap < RTML_LAT_RING_MAX &&
           ring_alloc(p, p->lat_cap * 2) == 0) {
    }
    p->lat_tag[seq & (p->lat_cap - 1)] = seq;
    p->lat_ts[seq & (p->lat_cap - 1)] = ts;
}

void rtml_metrics_acked(rtml_metrics *m, uint64_t ticket, double now) {
    size_t slot = rtml_ticket_slot(ticket);
    if (slot >= m->n) return;
    rtml_part_metrics *p = &m->parts[slot];
    uint64_t seq = rtml_ticket_seq(ticket);
    size_t i = seq & (p->lat_cap - 1);
    p->produced++;
    if (p->lat_tag[i] != seq) {
        m->latency_untracked++;
        return;
    }
    p->lat_tag[i] = UINT64_MAX;
    double lat = now - p->lat_ts[i];
    rtml_hist_add(&m->e2e, lat > 0 ? lat : 0);
}
