// choices.cc — the per-record path's library choices, measured side by side (docs/performance.md).
//
//   bench_choices DENSE.jsonl CAT.jsonl
//
// Each contender is one function over every record of a file, so callgrind's inclusive count of that function
// divided by the records is its cost per record (bench/instructions.py runs this under callgrind; run alone,
// it prints each one's time per record, which is noisy on a busy machine):
//   decode_rtml          rtml's JSON decoder (codec/json_decoder.c) with the dense config's 11 paths
//   decode_simdjson_ptr  simdjson On-Demand, a JSON Pointer per path (the general case rtml must serve)
//   decode_simdjson_scan simdjson On-Demand, one pass over a flat object's fields matched by key (its best case)
//   hash_murmur3         rtml's MurmurHash3 of "NAME=" + value (the prefix hashed once) for the 40 fields
//   hash_xxh3            XXH3-64 of the value, seeded by the field (the same work with xxHash)
// Every contender returns a checksum of what it read, printed, so that nothing is optimised away and the
// decoders can be seen to agree.
#include <simdjson.h>
#include <xxhash.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "base/hash.h"
#include "codec/codec.h"
}

namespace {

struct Lines {
    std::string text;               // the file, followed by simdjson's padding
    std::vector<std::pair<size_t, size_t>> spans; // offset, length of each line
};

Lines read_lines(const char *path) {
    Lines l;
    FILE *f = std::fopen(path, "rb");
    if (!f) { std::perror(path); std::exit(2); }
    char buf[1 << 16];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) l.text.append(buf, n);
    std::fclose(f);
    for (size_t at = 0; at < l.text.size();) {
        size_t end = l.text.find('\n', at);
        if (end == std::string::npos) end = l.text.size();
        if (end > at) l.spans.emplace_back(at, end - at);
        at = end + 1;
    }
    l.text.append(simdjson::SIMDJSON_PADDING, ' ');
    return l;
}

const char *const DENSE[] = {"/x1", "/x2", "/x3", "/x4", "/x5", "/x6", "/x7", "/x8", "/x9", "/x10", "/label"};
constexpr size_t N_DENSE = sizeof DENSE / sizeof *DENSE;

__attribute__((noinline)) double decode_rtml(const Lines &l) {
    rtml_decoder d = {&rtml_json_decoder, N_DENSE, nullptr};
    char err[256];
    if (d.ops->open(&d, nullptr, DENSE, N_DENSE, err, sizeof err) != 0) { std::fprintf(stderr, "%s\n", err); std::exit(2); }
    rtml_value v[N_DENSE];
    double sum = 0;
    for (auto [at, len] : l.spans) {
        if (rtml_decode(&d, l.text.data() + at, len, v, err, sizeof err) != 0) continue;
        for (size_t i = 0; i < N_DENSE; i++) sum += v[i].num;
    }
    d.ops->close(&d);
    return sum;
}

// simdjson On-Demand over every line (padded by the file's tail and read_lines' padding): read adds what it takes
// out of each document to one sum, in the order decode_rtml adds them (so the checksums compare exactly).
template <class Read> double each_document(const Lines &l, Read read) {
    simdjson::ondemand::parser parser;
    double sum = 0;
    for (auto [at, len] : l.spans) {
        simdjson::padded_string_view view(l.text.data() + at, len, l.text.size() - at);
        auto doc = parser.iterate(view);
        read(doc, sum);
    }
    return sum;
}

__attribute__((noinline)) double decode_simdjson_ptr(const Lines &l) {
    return each_document(l, [](auto &doc, double &sum) {
        double x;
        if (doc.error()) return;
        for (const char *p : DENSE)
            if (!doc.at_pointer(p).get_double().get(x)) sum += x;
    });
}

__attribute__((noinline)) double decode_simdjson_scan(const Lines &l) {
    return each_document(l, [](auto &doc, double &sum) {
        double x;
        simdjson::ondemand::object o;
        if (doc.get_object().get(o)) return;
        for (auto field : o) {
            std::string_view key;
            if (field.unescaped_key().get(key)) break;
            bool wanted = key == "label";
            for (size_t i = 0; i + 1 < N_DENSE && !wanted; i++) wanted = key == DENSE[i] + 1;
            if (wanted && !field.value().get_double().get(x)) sum += x;
        }
    });
}

// The categorical stream's values, taken out before any hashing is measured: (field, value) per record.
struct Cats {
    std::vector<std::string> names;          // "c0".."c39"
    std::vector<std::vector<std::string>> values;
};

Cats read_cats(const Lines &l) {
    Cats c;
    for (int i = 0; i < 40; i++) c.names.push_back("c" + std::to_string(i));
    std::vector<std::string> ptrs;
    std::vector<const char *> fields;
    for (auto &n : c.names) ptrs.push_back("/" + n);
    for (auto &p : ptrs) fields.push_back(p.c_str());
    rtml_decoder d = {&rtml_json_decoder, fields.size(), nullptr};
    char err[256];
    if (d.ops->open(&d, nullptr, fields.data(), fields.size(), err, sizeof err) != 0) std::exit(2);
    std::vector<rtml_value> v(fields.size());
    for (auto [at, len] : l.spans) {
        if (rtml_decode(&d, l.text.data() + at, len, v.data(), err, sizeof err) != 0) continue;
        std::vector<std::string> row;
        for (auto &x : v) row.emplace_back(x.type == RTML_V_STRING ? std::string(x.str, x.len) : std::string());
        c.values.push_back(std::move(row));
    }
    d.ops->close(&d);
    return c;
}

__attribute__((noinline)) uint64_t hash_murmur3(const Cats &c, const std::vector<rtml_murmur3_prefix> &pre) {
    uint64_t sum = 0;
    for (auto &row : c.values)
        for (size_t i = 0; i < row.size(); i++) sum += rtml_murmur3_32_after(&pre[i], row[i].data(), row[i].size());
    return sum;
}

__attribute__((noinline)) uint64_t hash_xxh3(const Cats &c, const std::vector<uint64_t> &seed) {
    uint64_t sum = 0;
    for (auto &row : c.values)
        for (size_t i = 0; i < row.size(); i++) sum += XXH3_64bits_withSeed(row[i].data(), row[i].size(), seed[i]);
    return sum;
}

template <class F> double timed(size_t records, F f) {
    auto t = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t).count() / (double)records;
}

} // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: bench_choices DENSE.jsonl CAT.jsonl\n");
        return 2;
    }
    Lines dense = read_lines(argv[1]), cat = read_lines(argv[2]);
    Cats cats = read_cats(cat);
    std::vector<rtml_murmur3_prefix> pre(cats.names.size());
    std::vector<uint64_t> seed(cats.names.size());
    for (size_t i = 0; i < cats.names.size(); i++) {
        std::string eq = cats.names[i] + "=";
        rtml_murmur3_prefix_init(&pre[i], eq.data(), eq.size(), 0);
        seed[i] = XXH3_64bits(eq.data(), eq.size());
    }
    size_t nd = dense.spans.size(), nc = cats.values.size();
    double s1 = 0, s2 = 0, s3 = 0;
    uint64_t h1 = 0, h2 = 0;
    double t1 = timed(nd, [&] { s1 = decode_rtml(dense); });
    double t2 = timed(nd, [&] { s2 = decode_simdjson_ptr(dense); });
    double t3 = timed(nd, [&] { s3 = decode_simdjson_scan(dense); });
    double t4 = timed(nc, [&] { h1 = hash_murmur3(cats, pre); });
    double t5 = timed(nc, [&] { h2 = hash_xxh3(cats, seed); });
    std::printf("{\"records\": {\"dense\": %zu, \"cat\": %zu},\n", nd, nc);
    std::printf(" \"ns_per_record\": {\"decode_rtml\": %.1f, \"decode_simdjson_ptr\": %.1f, \"decode_simdjson_scan\": %.1f, "
                "\"hash_murmur3\": %.1f, \"hash_xxh3\": %.1f},\n", t1, t2, t3, t4, t5);
    std::printf(" \"checksums\": {\"decode_rtml\": %.17g, \"decode_simdjson_ptr\": %.17g, \"decode_simdjson_scan\": %.17g, "
                "\"hash_murmur3\": %llu, \"hash_xxh3\": %llu}}\n", s1, s2, s3, (unsigned long long)h1, (unsigned long long)h2);
    return s1 == s2 && s2 == s3 ? 0 : 1; // the decoders must read the same numbers
}
