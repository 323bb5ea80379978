// Fault counts per phase on the real kernel, for holding mmsim against it.
// Usage: faults SCENARIO MIB   (SCENARIO: touch | fork-cow | read-write | pageout | time)
// Prints one JSON object: per phase minor/major faults (getrusage) and VmPTE / VmRSS.
// `time` (bench/real-kernel.mjs) prints ns per 4 KiB page instead, with 4 KiB pages only
// (MADV_NOHUGEPAGE): first touch (do_anonymous_page), fork (copy_pte_range, per PTE), the
// child's writes (wp_page_copy) and the parent's writes after the child exited (wp_page_reuse).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

static long minflt(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_minflt; }
static long majflt(void) { struct rusage r; getrusage(RUSAGE_SELF, &r); return r.ru_majflt; }
static long status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r"); char line[256]; long v = -1; size_t n = strlen(key);
  while (f && fgets(line, sizeof line, f)) if (!strncmp(line, key, n) && line[n] == ':') { v = atol(line + n + 1); break; }
  if (f) fclose(f);
  return v;
}
static double now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
static int first = 1;
static void phase(const char *name, long mi, long ma) {
  printf("%s\"%s\":{\"minflt\":%ld,\"majflt\":%ld,\"VmPTE\":%ld,\"VmRSS\":%ld}", first ? "" : ",", name, mi, ma, status_kb("VmPTE"), status_kb("VmRSS"));
  first = 0; fflush(stdout);
}
static void touch(volatile char *p, size_t len, int write) {
  for (size_t o = 0; o < len; o += 4096) { if (write) p[o] = (char)(o >> 12) | 1; else (void)p[o]; }
}

int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s touch|fork-cow|read-write|pageout|time MIB\n", argv[0]); return 2; }
  const char *sc = argv[1];
  size_t len = (size_t)atol(argv[2]) << 20;
  // 2 MiB-aligned private anonymous mapping (what thp_get_unmapped_area gives large mappings)
  char *raw = mmap(NULL, len + (2 << 20), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) { perror("mmap"); return 1; }
  char *p = (char *)(((unsigned long)raw + (2 << 20) - 1) & ~((2UL << 20) - 1));
  if (!strcmp(sc, "time")) {
    size_t pages = len >> 12;
    if (madvise(p, len, MADV_NOHUGEPAGE)) { perror("madvise"); return 1; }
    long m0 = minflt();
    double t0 = now_ns(); touch(p, len, 1); double touch_ns = now_ns() - t0;
    long touch_flt = minflt() - m0;
    int fds[2]; if (pipe(fds)) return 1;
    t0 = now_ns();
    pid_t c = fork();
    if (c == 0) {
      long a = minflt(); double c0 = now_ns(); touch(p, len, 1);
      double r[2] = { now_ns() - c0, (double)(minflt() - a) };
      if (write(fds[1], r, sizeof r) != sizeof r) _exit(1);
      _exit(0);
    }
    double fork_ns = now_ns() - t0;
    double child[2]; if (read(fds[0], child, sizeof child) != sizeof child) return 1;
    waitpid(c, NULL, 0);
    m0 = minflt(); t0 = now_ns(); touch(p, len, 1); double reuse_ns = now_ns() - t0;
    long reuse_flt = minflt() - m0;
    printf("{\"pages\":%zu,\"ns\":{\"touch\":%.1f,\"fork\":%.1f,\"cow\":%.1f,\"reuse\":%.1f},"
           "\"minflt\":{\"touch\":%ld,\"cow\":%ld,\"reuse\":%ld}}\n",
           pages, touch_ns / pages, fork_ns / pages, child[0] / pages, reuse_ns / pages, touch_flt, (long)child[1], reuse_flt);
    return 0;
  }
  printf("{");
  long m0 = minflt(), j0 = majflt();
  if (!strcmp(sc, "touch")) {
    touch(p, len, 1); phase("touch", minflt() - m0, majflt() - j0);
  } else if (!strcmp(sc, "read-write")) {
    touch(p, len, 0); phase("read", minflt() - m0, majflt() - j0);
    m0 = minflt(); touch(p, len, 1); phase("write", minflt() - m0, majflt() - j0);
  } else if (!strcmp(sc, "fork-cow")) {
    touch(p, len, 1); phase("touch", minflt() - m0, majflt() - j0);
    int fds[2]; if (pipe(fds)) return 1;
    pid_t c = fork();
    if (c == 0) {
      long a = minflt(); touch(p, len, 1);
      long d = minflt() - a; if (write(fds[1], &d, sizeof d) != sizeof d) _exit(1);
      _exit(0);
    }
    long child = 0; if (read(fds[0], &child, sizeof child) != sizeof child) return 1;
    waitpid(c, NULL, 0);
    printf(",\"child-cow\":{\"minflt\":%ld}", child);
    m0 = minflt(); touch(p, len, 1); phase("parent-after-exit", minflt() - m0, 0);
  } else if (!strcmp(sc, "pageout")) {
    touch(p, len, 1); phase("touch", minflt() - m0, majflt() - j0);
    if (madvise(p, len, MADV_PAGEOUT)) { perror("madvise"); return 1; }
    m0 = minflt(); j0 = majflt(); touch(p, len, 0); phase("read", minflt() - m0, majflt() - j0);
    m0 = minflt(); j0 = majflt(); touch(p, len, 1); phase("write", minflt() - m0, majflt() - j0);
  } else { fprintf(stderr, "unknown scenario %s\n", sc); return 2; }
  printf("}\n");
  return 0;
}
