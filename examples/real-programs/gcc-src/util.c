#include <stdlib.h>
#include <string.h>
#include "util.h"
void table_push(struct table *t, double x) {
  if (t->n == t->cap) {
    t->cap = t->cap ? 2 * t->cap : 16;
    t->v = realloc(t->v, t->cap * sizeof *t->v);
  }
  t->v[t->n++] = x;
}
double table_mean(const struct table *t) {
  double s = 0;
  for (size_t i = 0; i < t->n; i++) s += t->v[i];
  return t->n ? s / t->n : 0;
}
static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}
void table_sort(struct table *t) { qsort(t->v, t->n, sizeof *t->v, cmp); }
