#include <stdio.h>
#include <stdlib.h>
#include "util.h"
int main(int argc, char **argv) {
  struct table t = {0};
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  for (int i = 0; i < n; i++) table_push(&t, (double)((i * 7919) % 1000));
  table_sort(&t);
  printf("n=%zu mean=%.2f median=%.1f\n", t.n, table_mean(&t), t.n ? t.v[t.n / 2] : 0.0);
  free(t.v);
  return 0;
}
