/* test_log.c — log lines read back from a redirected stderr (fd 2 dup2'd onto a temporary file): the exact
 * text and JSON formats (JSON lines parsed with jansson), escaping and invalid UTF-8, level filtering, the
 * environment over the config, the count-based schedule of rtml_log_every, the time-based limiter, long
 * messages, and lines from several threads that never interleave. */
#include <jansson.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "base/log.h"

/* ---- capturing fd 2 ---------------------------------------------------------------------------------- */

/* The test's own stderr, saved while fd 2 points at the capture file (the harness's only extra state). */
static int saved_stderr = -1;
static FILE *capture_file;

static void capture_begin(void) {
    capture_file = tmpfile();
    fflush(stderr);
    saved_stderr = dup(2);
    dup2(fileno(capture_file), 2);
}

/* Restores stderr and returns what was written meanwhile (caller frees). */
static char *capture_end(void) {
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    long n = ftell(capture_file) >= 0 ? (fseek(capture_file, 0, SEEK_END), ftell(capture_file)) : 0;
    char *text = calloc((size_t)n + 1, 1);
    rewind(capture_file);
    size_t got = fread(text, 1, (size_t)n, capture_file);
    text[got] = '\0';
    fclose(capture_file);
    return text;
}

static int count_lines(const char *text) {
    int n = 0;
    for (const char *p = text; *p; p++) n += *p == '\n';
    return n;
}

static int count_substr(const char *text, const char *needle) {
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static int matches(const char *text, const char *pattern) {
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) return 0;
    int ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* The i-th line (0-based) parsed as one JSON object, or NULL. */
static json_t *json_line(const char *text, int i) {
    const char *p = text;
    while (i-- > 0 && p) p = (p = strchr(p, '\n')) ? p + 1 : NULL;
    if (!p || !*p) return NULL;
    const char *end = strchr(p, '\n');
    if (!end) return NULL;
    json_error_t e;
    json_t *v = json_loadb(p, (size_t)(end - p), 0, &e);
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

static void set_config(const char *level, const char *format) {
    unsetenv("RTML_LOG_LEVEL");
    unsetenv("RTML_LOG_FORMAT");
    char err[256];
    int rc = rtml_log_configure(level, format, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
}

/* ---- tests ------------------------------------------------------------------------------------------- */

/* The first line of the process reads the environment (set before any log call). */
static void test_lazy_env(void) {
    setenv("RTML_LOG_LEVEL", "warn", 1);
    setenv("RTML_LOG_FORMAT", "json", 1);
    capture_begin();
    rtml_log(RTML_LOG_INFO, "hidden");
    rtml_log(RTML_LOG_WARN, "shown");
    char *out = capture_end();
    CHECK_EQ_INT(count_lines(out), 1);
    json_t *o = json_line(out, 0);
    CHECK(o != NULL);
    CHECK_STR(json_string_value(json_object_get(o, "msg")), "shown");
    json_decref(o);
    free(out);
}

/* A value not understood at start-up is reported once and the default used. Start-up happens once per
 * process, so this runs the test binary again as a child with a bad environment (see main). */
static void test_bad_env_at_start(void) {
    capture_begin();
    pid_t pid = fork();
    if (pid == 0) {
        setenv("RTML_LOG_LEVEL", "loud", 1);
        setenv("RTML_LOG_FORMAT", "", 1);
        execl("/proc/self/exe", "test_log", "--child-bad-env", (char *)NULL);
        _exit(127);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    char *out = capture_end();
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ_INT(count_lines(out), 2);
    CHECK(matches(out, "^[^\n]* rtml\\[[0-9]+\\] warn: RTML_LOG_LEVEL=loud is not a level "
                       "\\(error\\|warn\\|info\\|debug\\); using info\n"));
    CHECK(strstr(out, "] info: child at info\n") != NULL && strstr(out, "child at debug") == NULL);
    free(out);
}

static int child_bad_env(void) {
    rtml_log(RTML_LOG_DEBUG, "child at debug");
    rtml_log(RTML_LOG_INFO, "child at info");
    return 0;
}

static void test_text_format(void) {
    set_config("info", "text");
    capture_begin();
    time_t before = time(NULL);
    rtml_log(RTML_LOG_WARN, "hello %d \"q\"", 5);
    time_t after = time(NULL);
    char *out = capture_end();
    char pattern[128];
    snprintf(pattern, sizeof pattern,
             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z rtml\\[%d\\] warn: hello 5 \"q\"\n$",
             (int)getpid());
    CHECK(matches(out, pattern));
    struct tm tm = {0};
    CHECK_EQ_INT(sscanf(out, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                        &tm.tm_sec), 6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm);
    CHECK(t >= before - 1 && t <= after);
    free(out);
}

/* A worker thread's lines name it (run/workers.c); the setting is the calling thread's only. */
static void test_worker_tag(void) {
    set_config("info", "text");
    capture_begin();
    rtml_log_set_worker(3);
    rtml_log(RTML_LOG_INFO, "assigned 2 partition(s)");
    rtml_log_set_worker(-1);
    rtml_log(RTML_LOG_INFO, "untagged");
    char *out = capture_end();
    CHECK(strstr(out, "] info: worker 3: assigned 2 partition(s)\n") != NULL);
    CHECK(strstr(out, "] info: untagged\n") != NULL);
    free(out);
    set_config("info", "json");
    capture_begin();
    rtml_log_set_worker(0);
    rtml_log(RTML_LOG_WARN, "w");
    rtml_log_set_worker(-1);
    out = capture_end();
    CHECK(strstr(out, "\"pid\":") && strstr(out, ",\"worker\":0,\"msg\":\"w\"}\n") != NULL);
    free(out);
    set_config("info", "text");
}

static void test_levels(void) {
    set_config("warn", "text");
    capture_begin();
    rtml_log(RTML_LOG_DEBUG, "d");
    rtml_log(RTML_LOG_INFO, "i");
    rtml_log(RTML_LOG_WARN, "w");
    rtml_log(RTML_LOG_ERROR, "e");
    char *out = capture_end();
    CHECK_EQ_INT(count_lines(out), 2);
    CHECK(strstr(out, "] warn: w\n") && strstr(out, "] error: e\n"));
    CHECK(!rtml_log_enabled(RTML_LOG_INFO) && rtml_log_enabled(RTML_LOG_WARN));
    free(out);

    set_config("debug", NULL); /* NULL keeps the format */
    CHECK_EQ_INT(rtml_log_current_format(), RTML_LOG_TEXT);
    capture_begin();
    rtml_log(RTML_LOG_DEBUG, "d");
    out = capture_end();
    CHECK(strstr(out, "] debug: d\n") != NULL);
    free(out);
}

static void test_json_format(void) {
    set_config("debug", "json");
    capture_begin();
    rtml_log(RTML_LOG_ERROR, "plain %s", "message");
    char *out = capture_end();
    CHECK_EQ_INT(count_lines(out), 1);
    json_t *o = json_line(out, 0);
    CHECK(o != NULL);
    CHECK_EQ_INT(json_object_size(o), 4);
    const char *ts = json_string_value(json_object_get(o, "ts"));
    CHECK(ts && matches(ts, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"));
    CHECK_STR(json_string_value(json_object_get(o, "level")), "error");
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "pid")), getpid());
    CHECK_STR(json_string_value(json_object_get(o, "msg")), "plain message");
    CHECK(strncmp(out, "{\"ts\":\"", 7) == 0); /* field order as documented */
    CHECK(strstr(out, "\",\"level\":\"error\",\"pid\":") != NULL);
    json_decref(o);
    free(out);
}

static void test_json_escaping(void) {
    set_config("info", "json");
    capture_begin();
    /* quote, backslash, newline, tab, CR, 0x01, 0x1f, DEL, é, €, U+1F600, then invalid: a lone 0xff, a cut
     * 3-byte sequence, an overlong '/', a UTF-16 surrogate, a code point above U+10FFFF */
    rtml_log(RTML_LOG_INFO, "%s", "a\"b\\c\nd\te\rf\x01g\x1fh\x7fi \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 "
                                  "\xff|\xe2\x82x|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80.");
    char *out = capture_end();
    CHECK_EQ_INT(count_lines(out), 1);
    CHECK(strstr(out, "a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u001fh") != NULL);
    json_t *o = json_line(out, 0);
    CHECK(o != NULL);
#define FFFD "\xef\xbf\xbd"
    CHECK_STR(json_string_value(json_object_get(o, "msg")),
              "a\"b\\c\nd\te\rf\x01g\x1fh\x7fi \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 " FFFD "|" FFFD FFFD "x|" FFFD FFFD
              "|" FFFD FFFD FFFD "|" FFFD FFFD FFFD FFFD ".");
#undef FFFD
    json_decref(o);
    free(out);
}

static void test_long_messages(void) {
    char big[5000];
    memset(big, '"', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    set_config("info", "json");
    capture_begin();
    rtml_log(RTML_LOG_INFO, "%s", big);
    set_config("info", "text");
    rtml_log(RTML_LOG_INFO, "%s", big);
    char *out = capture_end();
    CHECK_EQ_INT(count_lines(out), 2);
    json_t *o = json_line(out, 0);
    CHECK(o != NULL);
    CHECK_EQ_INT(strlen(json_string_value(json_object_get(o, "msg"))), RTML_LOG_MSG_MAX - 1);
    json_decref(o);
    const char *second = strchr(out, '\n') + 1;
    CHECK(strlen(second) < RTML_LOG_MSG_MAX + 100);
    free(out);
}

/* The environment overrides the config; an unknown name is an error that changes nothing. */
static void test_env_override(void) {
    char err[256] = "";
    setenv("RTML_LOG_LEVEL", "error", 1);
    setenv("RTML_LOG_FORMAT", "text", 1);
    CHECK_EQ_INT(rtml_log_configure("debug", "json", err, sizeof err), 0);
    CHECK_EQ_INT(rtml_log_current_format(), RTML_LOG_TEXT);
    CHECK(!rtml_log_enabled(RTML_LOG_WARN) && rtml_log_enabled(RTML_LOG_ERROR));
    capture_begin();
    rtml_log(RTML_LOG_WARN, "w");
    rtml_log(RTML_LOG_ERROR, "e");
    char *out = capture_end();
    CHECK(matches(out, "^[^\n]* rtml\\[[0-9]+\\] error: e\n$"));
    free(out);

    setenv("RTML_LOG_FORMAT", "yaml", 1);
    CHECK_EQ_INT(rtml_log_configure("info", "json", err, sizeof err), -1);
    CHECK_STR(err, "RTML_LOG_FORMAT=yaml is not a format (text|json)");
    CHECK(!rtml_log_enabled(RTML_LOG_WARN)); /* unchanged */
    setenv("RTML_LOG_FORMAT", "", 1);         /* empty counts as unset */
    unsetenv("RTML_LOG_LEVEL");
    CHECK_EQ_INT(rtml_log_configure("verbose", NULL, err, sizeof err), -1);
    CHECK_STR(err, "log.level: \"verbose\" is not a level (error|warn|info|debug)");
    CHECK_EQ_INT(rtml_log_configure(NULL, "xml", err, sizeof err), -1);
    CHECK_STR(err, "log.format: \"xml\" is not a format (text|json)");
    CHECK_EQ_INT(rtml_log_configure("info", "json", err, sizeof err), 0);
    CHECK_EQ_INT(rtml_log_current_format(), RTML_LOG_JSON);
    CHECK(rtml_log_enabled(RTML_LOG_INFO) && !rtml_log_enabled(RTML_LOG_DEBUG));
    unsetenv("RTML_LOG_FORMAT");
}

static void test_every_text(void) {
    set_config("warn", "text");
    capture_begin();
    for (uint64_t i = 1; i <= 1000000; i++) rtml_log_every(RTML_LOG_WARN, i, 10, 10, "bad record %llu", (unsigned long long)i);
    rtml_log_every(RTML_LOG_INFO, 1, 10, 10, "filtered"); /* below the level */
    char *out = capture_end();
    CHECK_EQ_INT(count_lines(out), 10 + 5); /* 10 first, then 100, 1k, 10k, 100k, 1M */
    CHECK_EQ_INT(count_substr(out, "] warn: bad record 9\n"), 1);
    CHECK_EQ_INT(count_substr(out, "bad record 10 (further ones are rate-limited)\n"), 1);
    CHECK_EQ_INT(count_substr(out, "bad record 100 (100 so far; next report at 1000)\n"), 1);
    CHECK_EQ_INT(count_substr(out, "bad record 1000000 (1000000 so far; next report at 10000000)\n"), 1);
    CHECK_EQ_INT(count_substr(out, "bad record 11"), 0);
    CHECK_EQ_INT(count_substr(out, "filtered"), 0);
    free(out);
}

static void test_every_json(void) {
    set_config("info", "json");
    capture_begin();
    for (uint64_t i = 1; i <= 1000; i++) rtml_log_every(RTML_LOG_WARN, i, 3, 10, "bad %llu", (unsigned long long)i);
    for (uint64_t i = 1; i <= 100; i++) rtml_log_every(RTML_LOG_WARN, i, 2, 1, "flat %llu", (unsigned long long)i);
    char *out = capture_end();
    CHECK_EQ_INT(count_lines(out), 5 + 2); /* 1, 2, 3, 30, 300; then 1, 2 (factor 1: no later reports) */
    static const char *const msgs[] = {"bad 1", "bad 2", "bad 3", "bad 30", "bad 300", "flat 1", "flat 2"};
    static const long long counts[] = {1, 2, 3, 30, 300, 1, 2};
    static const long long nexts[] = {0, 0, 30, 300, 3000, 0, 0}; /* 0: no next_report_at field */
    for (int i = 0; i < 7; i++) {
        json_t *o = json_line(out, i);
        CHECK(o != NULL);
        CHECK_STR(json_string_value(json_object_get(o, "msg")), msgs[i]); /* no text suffix in JSON */
        CHECK_EQ_INT(json_integer_value(json_object_get(o, "count")), counts[i]);
        json_t *next = json_object_get(o, "next_report_at");
        CHECK(nexts[i] ? json_integer_value(next) == nexts[i] : next == NULL);
        json_decref(o);
    }
    free(out);
}

static void test_limiter(void) {
    set_config("info", "text");
    rtml_log_limiter l = {0};
    capture_begin();
    for (int i = 0; i < 100; i++) rtml_log_limited(&l, RTML_LOG_ERROR, 1000.0 + i * 0.1, 3, "broker down %d", i);
    char *out = capture_end();
    CHECK_EQ_INT(count_lines(out), 3);
    CHECK(strstr(out, "] error: broker down 0\n") && strstr(out, "] error: broker down 2\n"));
    CHECK_EQ_INT(l.suppressed, 97);
    CHECK_EQ_INT(l.in_window, 3);
    free(out);

    capture_begin();
    rtml_log_limited(&l, RTML_LOG_ERROR, 1059.9, 3, "still in the window"); /* window opened at 1000 */
    rtml_log_limited(&l, RTML_LOG_ERROR, 1060.0, 3, "new window");
    rtml_log_limited(&l, RTML_LOG_ERROR, 1060.1, 3, "no suppression since");
    out = capture_end();
    CHECK_EQ_INT(count_lines(out), 2);
    CHECK(strstr(out, "] error: new window (98 similar lines suppressed)\n") != NULL);
    CHECK(strstr(out, "] error: no suppression since\n") != NULL);
    CHECK_EQ_INT(l.suppressed, 0);
    free(out);

    /* Lines below the level are not counted; a clock going backwards opens a window. */
    set_config("warn", "json");
    rtml_log_limiter m = {0};
    for (int i = 0; i < 10; i++) rtml_log_limited(&m, RTML_LOG_INFO, 5.0, 1, "filtered");
    CHECK_EQ_INT(m.in_window, 0);
    CHECK_EQ_INT(m.suppressed, 0);
    capture_begin();
    rtml_log_limited(&m, RTML_LOG_WARN, 5.0, 0, "one"); /* per_minute 0 counts as 1; a zeroed state works at 5 s */
    rtml_log_limited(&m, RTML_LOG_WARN, 100.0, 0, "two"); /* a new window */
    rtml_log_limited(&m, RTML_LOG_WARN, 101.0, 0, "three");
    rtml_log_limited(&m, RTML_LOG_WARN, 102.0, 0, "four");
    rtml_log_limited(&m, RTML_LOG_WARN, 50.0, 0, "back in time");
    out = capture_end();
    CHECK_EQ_INT(count_lines(out), 3);
    json_t *o = json_line(out, 2);
    CHECK(o != NULL);
    CHECK_STR(json_string_value(json_object_get(o, "msg")), "back in time");
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "suppressed")), 2);
    json_decref(o);
    o = json_line(out, 1);
    CHECK(o && json_object_get(o, "suppressed") == NULL);
    CHECK_STR(json_string_value(json_object_get(o, "msg")), "two");
    json_decref(o);
    free(out);
}

enum { N_THREADS = 4, LINES_PER_THREAD = 2000 };

static void *log_from_thread(void *arg) {
    char pad[301];
    memset(pad, 'a' + (int)(long)arg, 300);
    pad[300] = '\0';
    for (int i = 0; i < LINES_PER_THREAD; i++) rtml_log(RTML_LOG_INFO, "thread %ld line %d %s", (long)arg, i, pad);
    return NULL;
}

static void test_threads(void) {
    set_config("info", "json");
    capture_begin();
    pthread_t t[N_THREADS];
    for (long i = 0; i < N_THREADS; i++) pthread_create(&t[i], NULL, log_from_thread, (void *)i);
    for (int i = 0; i < N_THREADS; i++) pthread_join(t[i], NULL);
    char *out = capture_end();
    int lines = count_lines(out), parsed = 0;
    CHECK_EQ_INT(lines, N_THREADS * LINES_PER_THREAD);
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        json_error_t e;
        json_t *o = json_loads(line, 0, &e);
        parsed += o && json_string_value(json_object_get(o, "msg")) &&
                  strlen(json_string_value(json_object_get(o, "msg"))) > 300;
        json_decref(o);
    }
    CHECK_EQ_INT(parsed, N_THREADS * LINES_PER_THREAD);
    free(out);
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--child-bad-env") == 0) return child_bad_env();
    test_lazy_env(); /* first: it tests what the first log call reads */
    test_bad_env_at_start();
    test_text_format();
    test_levels();
    test_worker_tag();
    test_json_format();
    test_json_escaping();
    test_long_messages();
    test_env_override();
    test_every_text();
    test_every_json();
    test_limiter();
    test_threads();
    return check_exit("test_log");
}
