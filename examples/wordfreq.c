/*
** wordfreq.c: prints the 10 most frequent words of a text file, a WASI
** command built for wasm32-wasi (see `make demo`). A word is a run of ASCII
** letters, compared case-insensitively; ties are listed alphabetically.
**   wordfreq FILE [N]
*/
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct word {
  char *text;
  unsigned count;
  struct word *next;   /* hash chain */
} word_t;

typedef struct table {
  word_t **buckets;
  size_t nbuckets, nwords;
} table_t;

static size_t hash(const char *s) {   /* FNV-1a */
  size_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static int grow(table_t *t) {
  size_t n = t->nbuckets ? t->nbuckets * 2 : 256;
  word_t **b = calloc(n, sizeof *b);
  if (!b) return -1;
  for (size_t i = 0; i < t->nbuckets; i++) {
    for (word_t *w = t->buckets[i], *next; w; w = next) {
      next = w->next;
      w->next = b[hash(w->text) & (n - 1)];
      b[hash(w->text) & (n - 1)] = w;
    }
  }
  free(t->buckets);
  t->buckets = b;
  t->nbuckets = n;
  return 0;
}

static int add(table_t *t, const char *text) {
  if (t->nwords >= t->nbuckets && grow(t) != 0) return -1;
  word_t **head = &t->buckets[hash(text) & (t->nbuckets - 1)];
  for (word_t *w = *head; w; w = w->next) {
    if (strcmp(w->text, text) == 0) {
      w->count++;
      return 0;
    }
  }
  word_t *w = malloc(sizeof *w);
  if (!w || !(w->text = strdup(text))) {
    free(w);
    return -1;
  }
  w->count = 1;
  w->next = *head;
  *head = w;
  t->nwords++;
  return 0;
}

static int by_count(const void *a, const void *b) {
  const word_t *x = *(word_t *const *)a, *y = *(word_t *const *)b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  return strcmp(x->text, y->text);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: wordfreq FILE [N]\n");
    return 2;
  }
  size_t top = argc > 2 ? strtoul(argv[2], NULL, 10) : 10;
  FILE *f = fopen(argv[1], "r");
  if (!f) {
    fprintf(stderr, "wordfreq: %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  table_t t = { 0 };
  char buf[256];
  size_t len = 0, total = 0;
  int c, failed = 0;
  do {
    c = getc(f);
    if (c != EOF && isalpha(c) && c < 128) {
      if (len < sizeof buf - 1) buf[len++] = (char)tolower(c);
    } else if (len > 0) {
      buf[len] = 0;
      len = 0;
      total++;
      if (add(&t, buf) != 0) failed = 1;
    }
  } while (c != EOF && !failed);
  if (ferror(f) || failed) {
    fprintf(stderr, "wordfreq: %s: %s\n", argv[1], failed ? "out of memory" : "read error");
    return 1;
  }
  fclose(f);

  word_t **all = malloc((t.nwords ? t.nwords : 1) * sizeof *all);
  if (!all) return 1;
  size_t n = 0;
  for (size_t i = 0; i < t.nbuckets; i++)
    for (word_t *w = t.buckets[i]; w; w = w->next) all[n++] = w;
  qsort(all, n, sizeof *all, by_count);
  printf("%s: %zu words, %zu distinct\n", argv[1], total, n);
  for (size_t i = 0; i < n && i < top; i++) printf("%6u  %s\n", all[i]->count, all[i]->text);
  for (size_t i = 0; i < n; i++) {
    free(all[i]->text);
    free(all[i]);
  }
  free(all);
  free(t.buckets);
  return 0;
}
