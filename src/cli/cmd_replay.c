/* cmd_replay.c — `rtml replay`: the same pipeline as `run`, over a JSON-lines file instead of Kafka.
 *
 * For backtesting and quick evaluation: records are processed in file order, exactly as `run` processes
 * one partition, so the metrics agree with a `run` over the same records. Predictions go to --output (one
 * per line, in input order; rejected lines have none); the final report is the last line of stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli/progress.h"
#include "cli/cli.h"
#include "config/config.h"
#include "base/log.h"
#include "pipeline/pipeline.h"
#include "pipeline/drift_actions.h"
#include "base/rtml.h"
#include "state/checkpoint.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: rtml replay -c CONFIG --input FILE [--output FILE] [--from-state DIR] [--score-only]\n"
            "\n"
            "Runs the config's pipeline over a JSON-lines file (or - for stdin): scores every record, learns from\n"
            "labelled ones (test-then-train), and prints a final report as one JSON line on stdout:\n"
            "  {\"records\":N,\"learned\":N,\"errors\":N,\"seconds\":S,\"records_per_second\":R,\"metrics\":{...}}\n"
            "  --output FILE   write one prediction per record (JSON lines)\n"
            "  --from-state DIR  start from the newest checkpoint in DIR (a `rtml run` state.dir; native engines)\n"
            "  --score-only    score on that state without changing it: feature statistics frozen, nothing learned\n"
            "                  (labels are still evaluated): the scores the serve endpoint answers on that state\n");
}

typedef struct {
    const char *config, *input, *output, *state;
    bool score_only;
} replay_opts;

static int parse_opts(int argc, char **argv, replay_opts *o) {
    static const struct option longopts[] = {{"config", required_argument, 0, 'c'}, {"input", required_argument, 0, 'i'},
                                             {"output", required_argument, 0, 'o'}, {"help", no_argument, 0, 'h'},
                                             {"from-state", required_argument, 0, 's'}, {"score-only", no_argument, 0, 'S'},
                                             {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "c:i:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o->config = optarg; break;
        case 'i': o->input = optarg; break;
        case 'o': o->output = optarg; break;
        case 's': o->state = optarg; break;
        case 'S': o->score_only = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "rtml replay: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!o->config || !o->input) {
        fprintf(stderr, "rtml replay: %s is required\n", o->config ? "--input FILE" : "-c CONFIG");
        return 2;
    }
    return -1;
}

typedef struct {
    FILE *out; /* NULL: nobody reads the predictions */
    rtml_buf pending; /* predictions not yet written to out: written in blocks, not one stdio call each */
    const char *name;
    rtml_pipeline *p;
    uint64_t drift_seen;  /* drift events already listed */
    rtml_buf drift_json;  /* the first MAX_DRIFT_EVENTS of them, as JSON objects separated by commas */
} replay_sink;

#define MAX_DRIFT_EVENTS 1000
#define OUT_BLOCK (1u << 16)  /* predictions are written out in blocks of about this many bytes */
#define IN_BLOCK (1u << 20)   /* and the input read in blocks of this many */

/* After a batch: list a new drift event, and carry out a rollback as a reset (a file has no checkpoints). */
static void after_batch(replay_sink *s) {
    rtml_pipeline *p = s->p;
    if (p->drift_events == s->drift_seen) return;
    s->drift_seen = p->drift_events;
    rtml_log(RTML_LOG_INFO, "drift detected by %s after %llu evaluated records (change from about record %llu)",
             rtml_drift_kind_name(p->cfg->drift.detector), (unsigned long long)p->last_drift.evaluated,
             (unsigned long long)p->last_drift.change_at);
    if (s->drift_seen <= MAX_DRIFT_EVENTS) {
        if (s->drift_json.len) rtml_buf_putc(&s->drift_json, ',');
        rtml_drift_event_json(p, &p->last_drift, &s->drift_json);
    }
    char err[RTML_ERRLEN];
    if (p->drift_rollback_due && rtml_pipeline_reset_model(p, err, sizeof err) != 0)
        rtml_log(RTML_LOG_ERROR, "drift: the model could not be reset (%s)", err);
}

static void write_pending(replay_sink *s) {
    if (s->out && s->pending.len) fwrite(s->pending.data, 1, s->pending.len, s->out);
    rtml_buf_reset(&s->pending);
}

static void emit_line(void *ctx, const rtml_batch_item *item, rtml_reject why, const rtml_buf *prediction) {
    replay_sink *s = ctx;
    if (why != RTML_REJECT_NONE) {
        rtml_log_every(RTML_LOG_WARN, s->p->rejected_by[why], 10, 10, "%s:%lld: rejected (%s)", s->name,
                       (long long)item->offset, rtml_reject_name(why));
    } else if (s->out && prediction->len) {
        rtml_buf_reserve(&s->pending, prediction->len + 1);
        memcpy(s->pending.data + s->pending.len, prediction->data, prediction->len);
        s->pending.len += prediction->len;
        s->pending.data[s->pending.len++] = '\n';
        if (s->pending.len >= OUT_BLOCK) write_pending(s);
    }
}

/* The input's lines, read in blocks of up to IN_BLOCK (read(2): a pipe's lines come as they arrive) and cut at
 * '\n' in place: getline's lines without its call and copy per line. A line longer than the block grows it. */
typedef struct {
    int fd;
    char *buf;
    size_t cap, start, len; /* buf[start .. len): read, not yet handed out */
    bool eof;
    int error;              /* errno of a failed read (which ends the input) */
} line_reader;

/* The next line (without its '\n') in *line, *n bytes: 1, or 0 at the end of the input (or a read error). */
static int next_line(line_reader *r, char **line, size_t *n) {
    for (;;) {
        char *nl = r->len > r->start ? memchr(r->buf + r->start, '\n', r->len - r->start) : NULL;
        if (nl || (r->eof && r->len > r->start)) {
            *line = r->buf + r->start;
            *n = (size_t)((nl ? nl : r->buf + r->len) - *line);
            r->start += *n + (nl != NULL);
            return 1;
        }
        if (r->eof) return 0;
        if (r->start > 0) { /* the start of a line the block cut (none before the first read: no buffer yet) */
            memmove(r->buf, r->buf + r->start, r->len - r->start);
            r->len -= r->start;
            r->start = 0;
        }
        if (r->len == r->cap) {
            char *b = realloc(r->buf, r->cap ? 2 * r->cap : IN_BLOCK);
            if (!b) {
                fprintf(stderr, "rtml replay: out of memory for a line of %zu bytes\n", r->len);
                abort(); /* as buf.h */
            }
            r->buf = b;
            r->cap = r->cap ? 2 * r->cap : IN_BLOCK;
        }
        ssize_t got = read(r->fd, r->buf + r->len, r->cap - r->len);
        if (got < 0 && errno == EINTR) continue;
        if (got > 0) r->len += (size_t)got;
        else r->eof = true, r->error = got < 0 ? errno : 0;
    }
}

/* Stream the input through the pipeline in full batches (a file has no arrival times, so batches never
 * close early: the same file gives the same batches). Returns 0, or 1 on an I/O error. Never inlined: the
 * record loop is one function in profiles (bench/instructions.py counts its instructions apart). */
__attribute__((noinline)) static int replay_stream(rtml_pipeline *p, FILE *in, FILE *out, const char *name, replay_sink *sinkp) {
    char why[RTML_ERRLEN], *line;
    size_t len;
    int64_t lineno = 0;
    replay_sink sink = *sinkp;
    sink.out = out, sink.name = name, sink.p = p;
    line_reader reader = {.fd = fileno(in)};
    rtml_progress prog;
    rtml_progress_start(&prog, "replay");
    int rc = 0, queued;
    while (next_line(&reader, &line, &len)) {
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        if (len == 0) continue;
        rtml_origin origin = {name, 0, lineno, 0, (int64_t)lineno, NULL, 0};
        rtml_reject rej = rtml_pipeline_submit(p, line, len, &origin, (uint64_t)lineno, &queued, why, sizeof why);
        if (rej != RTML_REJECT_NONE)
            rtml_log_every(RTML_LOG_WARN, p->rejected_by[rej], 10, 10, "%s:%lld: rejected (%s): %s", name,
                           (long long)lineno, rtml_reject_name(rej), why);
        if (p->batch.n >= p->batch_size) {
            rtml_pipeline_flush(p, emit_line, &sink);
            after_batch(&sink);
        }
        if ((lineno & 4095) == 0) rtml_progress_update(&prog, (unsigned long long)lineno, 0);
    }
    rtml_pipeline_flush(p, emit_line, &sink);
    after_batch(&sink);
    write_pending(&sink);
    rtml_buf_free(&sink.pending);
    *sinkp = sink;
    if (reader.error) {
        fprintf(stderr, "rtml replay: read error on %s: %s\n", name, strerror(reader.error));
        rc = 1;
    }
    rtml_progress_end(&prog, (unsigned long long)lineno);
    free(reader.buf);
    return rc;
}

/* --from-state: the newest checkpoint of a run's state.dir. Not TensorFlow's: restoring one drops the model
 * directory's newer versions, which a replay must not do to a live pipeline's directory. */
static int start_from_state(rtml_pipeline *p, const rtml_config *cfg, const char *dir) {
    char err[RTML_ERRLEN];
    if (rtml_config_is_tensorflow(cfg)) {
        fprintf(stderr, "rtml replay: --from-state: native engines only (point model.tensorflow.saved_model at the "
                "version to replay)\n");
        return -1;
    }
    rtml_offsets offsets;
    rtml_offsets_init(&offsets, 16);
    uint64_t seq = 0;
    int rc = rtml_ckpt_restore(dir, p, &offsets, &seq, err, sizeof err);
    rtml_offsets_free(&offsets);
    if (rc < 0) fprintf(stderr, "rtml replay: --from-state %s: %s\n", dir, err);
    else if (rc == 0) fprintf(stderr, "rtml replay: --from-state %s: no checkpoint there\n", dir);
    else rtml_log(RTML_LOG_INFO, "replaying from checkpoint %llu in %s (%llu records learned)", (unsigned long long)seq,
                  dir, (unsigned long long)p->engine->learned);
    return rc == 1 ? 0 : -1;
}

int rtml_cmd_replay(int argc, char **argv) {
    replay_opts o = {0};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) return rc;
    char err[RTML_ERRLEN];
    rtml_config cfg;
    if (rtml_config_load(o.config, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rtml replay: %s\n", err);
        return 2;
    }
    if (rtml_log_configure(cfg.log.level, cfg.log.format, err, sizeof err) != 0) {
        fprintf(stderr, "rtml replay: %s: %s\n", o.config, err);
        rtml_config_free(&cfg);
        return 2;
    }
    if (cfg.label.topic) { /* a file has one stream; the join needs the label topic beside it */
        fprintf(stderr, "rtml replay: %s: label.topic: delayed labels are joined by `rtml run` from their topic; "
                "replay reads labels inside the records (label.field)\n", o.config);
        rtml_config_free(&cfg);
        return 2;
    }
    rtml_pipeline p;
    if (rtml_pipeline_init(&p, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "rtml replay: %s: %s\n", o.config, err);
        rtml_config_free(&cfg);
        return 2;
    }
    if (o.state && start_from_state(&p, &cfg, o.state) != 0) {
        rtml_pipeline_free(&p);
        rtml_config_free(&cfg);
        return 2;
    }
    p.serve_only = o.score_only; /* features frozen, nothing learned (pipeline.c) */
    bool from_stdin = strcmp(o.input, "-") == 0;
    FILE *in = from_stdin ? stdin : fopen(o.input, "r");
    FILE *out = NULL;
    if (!in) fprintf(stderr, "rtml replay: cannot open %s: %s\n", o.input, strerror(errno));
    else if (o.output && !(out = fopen(o.output, "w")))
        fprintf(stderr, "rtml replay: cannot create %s: %s\n", o.output, strerror(errno));
    if (!in || (o.output && !out)) rc = 1;
    else {
        double t0 = rtml_now();
        replay_sink sink = {0};
        rc = replay_stream(&p, in, out, from_stdin ? "stdin" : o.input, &sink);
        double secs = rtml_now() - t0;
        if (p.learned && rtml_pipeline_checkpoint(&p, err, sizeof err) != 0) {
            fprintf(stderr, "rtml replay: checkpoint: %s\n", err);
            rc = 1;
        }
        if (out && fclose(out) != 0) {
            fprintf(stderr, "rtml replay: writing %s: %s\n", o.output, strerror(errno));
            rc = 1;
        }
        out = NULL;
        rtml_buf report = RTML_BUF_INIT;
        rtml_pipeline_report(&p, secs, &report);
        if (p.drift) { /* reopen the object: the events detected, in order */
            report.len--;
            rtml_buf_printf(&report, ",\"drift_events\":[%s]}", sink.drift_json.data ? sink.drift_json.data : "");
        }
        printf("%s\n", report.data);
        rtml_buf_free(&report);
        rtml_buf_free(&sink.drift_json);
    }
    if (out) fclose(out);
    if (in && !from_stdin) fclose(in);
    rtml_pipeline_free(&p);
    rtml_config_free(&cfg);
    return rc;
}
