/* String processing: a JSON tokenizer (strings with escapes, numbers, literals,
   punctuation) run repeatedly over a generated document of nested records. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "bench.h"

struct buf { char *p; size_t len, cap; };

static void put(struct buf *b, const char *s) {
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 4096;
        b->p = realloc(b->p, b->cap);
        if (!b->p) { puts("out of memory"); exit(1); }
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static const char *words[] = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta",
                              "theta", "iota", "kappa", "lambda", "mu"};

/* A document of `records` objects in one array, with nesting, escapes and numbers. */
static void generate(struct buf *b, int records) {
    uint64_t seed = 0x853c49e6748fea9bull;
    char tmp[128];
    put(b, "[\n");
    for (int i = 0; i < records; i++) {
        uint64_t r = bench_rand(&seed);
        snprintf(tmp, sizeof tmp, "  {\"id\": %d, \"name\": \"%s-%s\", \"score\": %d.%03d,", i,
                 words[r % 12], words[(r >> 8) % 12], (int)(r >> 16 & 1023) - 512, (int)(r >> 32 & 511));
        put(b, tmp);
        snprintf(tmp, sizeof tmp, " \"tags\": [\"%s\", \"x\\\"y\\\\z\\n\", \"\\u00e9t\\u00e9\"], ", words[(r >> 40) % 12]);
        put(b, tmp);
        snprintf(tmp, sizeof tmp, "\"active\": %s, \"parent\": %s, \"ratio\": %de-%d, ",
                 r & 1 ? "true" : "false", r & 2 ? "null" : "{\"ref\": 7}", (int)(r >> 48 & 255), (int)(r >> 56 & 7));
        put(b, tmp);
        put(b, "\"nested\": {\"a\": [1, 2, [3, 4, {\"b\": -5.25}]], \"c\": \"plain text value\"}}");
        put(b, i + 1 < records ? ",\n" : "\n");
    }
    put(b, "]\n");
}

struct counts { uint64_t punct, strings, numbers, literals, str_hash, num_sum, errors; };

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void tokenize(const char *s, size_t len, struct counts *k) {
    const char *end = s + len;
    while (s < end) {
        char c = *s;
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') { s++; continue; }
        if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',') { k->punct++; s++; continue; }
        if (c == '"') {  /* decode the string, hashing its code points */
            uint32_t h = 2166136261u;
            s++;
            while (s < end && *s != '"') {
                uint32_t cp = (unsigned char)*s++;
                if (cp == '\\') {
                    char e = *s++;
                    switch (e) {
                    case 'n': cp = '\n'; break;
                    case 't': cp = '\t'; break;
                    case 'u': {
                        cp = 0;
                        for (int i = 0; i < 4; i++) {
                            int v = hexval(s[i]);
                            if (v < 0) { k->errors++; v = 0; }
                            cp = cp << 4 | (uint32_t)v;
                        }
                        s += 4;
                        break;
                    }
                    default: cp = (unsigned char)e; break;
                    }
                }
                h = (h ^ cp) * 16777619u;
            }
            s++;
            k->strings++;
            k->str_hash = k->str_hash * 31 + h;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {  /* integer part scaled, fraction digits, exponent */
            int neg = c == '-';
            if (neg) s++;
            int64_t v = 0;
            while (s < end && *s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
            if (s < end && *s == '.') {
                s++;
                while (s < end && *s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
            }
            if (s < end && (*s == 'e' || *s == 'E')) {
                s++;
                if (*s == '-' || *s == '+') s++;
                int ex = 0;
                while (s < end && *s >= '0' && *s <= '9') ex = ex * 10 + (*s++ - '0');
                v += ex;
            }
            k->numbers++;
            k->num_sum += (uint64_t)(neg ? -v : v);
            continue;
        }
        if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4)) { k->literals++; s += 4; continue; }
        if (!strncmp(s, "false", 5)) { k->literals++; s += 5; continue; }
        k->errors++;
        s++;
    }
}

int main(int argc, char **argv) {
    int records = (int)bench_arg(argc, argv, 1, 20000);
    int reps = (int)bench_arg(argc, argv, 2, 75);
    struct buf b = {0};
    generate(&b, records);
    struct counts k = {0};
    for (int r = 0; r < reps; r++) tokenize(b.p, b.len, &k);
    printf("json bytes=%zu reps=%d punct=%" PRIu64 " strings=%" PRIu64 " numbers=%" PRIu64
           " literals=%" PRIu64 " errors=%" PRIu64 " str_hash=%016" PRIx64 " num_sum=%" PRIu64 "\n",
           b.len, reps, k.punct, k.strings, k.numbers, k.literals, k.errors, k.str_hash, k.num_sum);
    free(b.p);
    return 0;
}
