#ifndef UTIL_H
#define UTIL_H
#include <stddef.h>
struct table { size_t n, cap; double *v; };
void table_push(struct table *t, double x);
double table_mean(const struct table *t);
void table_sort(struct table *t);
#endif
