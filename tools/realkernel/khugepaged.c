// Cases of tools/testing/selftests/mm/khugepaged.c (the khugepaged context, anonymous memory)
// on this machine's kernel, for tools/realkernel/khugepaged.mjs (which sets the khugepaged sysfs
// knobs as root and restores them). One case per run: `./khugepaged CASE`. Prints one JSON
// line: whether the 2 MiB ended PMD-mapped (smaps AnonHugePages of the process that scanned),
// the khugepaged/full_scans that passed, and the vmstat deltas of the collapse counters.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#define HPAGE (2UL << 20)
#define PAGE 4096UL

static const char *VMSTAT[] = {"thp_collapse_alloc", "thp_scan_exceed_none_pte", "thp_scan_exceed_share_pte",
                               "thp_scan_exceed_swap_pte"};
#define NV (sizeof(VMSTAT) / sizeof(VMSTAT[0]))

static long read_num(const char *path) {
  FILE *f = fopen(path, "r");
  long v = -1;
  if (f) {
    if (fscanf(f, "%ld", &v) != 1) v = -1;
    fclose(f);
  }
  return v;
}
static long full_scans(void) { return read_num("/sys/kernel/mm/transparent_hugepage/khugepaged/full_scans"); }
static void vmstat(long *out) {
  char name[128];
  long v;
  FILE *f = fopen("/proc/vmstat", "r");
  for (size_t i = 0; i < NV; i++) out[i] = 0;
  while (fscanf(f, "%127s %ld", name, &v) == 2)
    for (size_t i = 0; i < NV; i++)
      if (!strcmp(name, VMSTAT[i])) out[i] = v;
  fclose(f);
}
/** smaps AnonHugePages (kB) of the VMA containing addr */
static long anon_huge_kb(void *addr) {
  FILE *f = fopen("/proc/self/smaps", "r");
  char line[512];
  int in = 0;
  long kb = -1;
  while (fgets(line, sizeof line, f)) {
    unsigned long a, b;
    if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      in = (unsigned long)addr >= a && (unsigned long)addr < b;
      continue;
    }
    if (in && !strncmp(line, "AnonHugePages:", 14)) {
      kb = atol(line + 14);
      break;
    }
  }
  fclose(f);
  return kb;
}
static char *alloc_mapping(void) {
  char *raw = mmap(NULL, 2 * HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *p = (char *)(((unsigned long)raw + HPAGE - 1) & ~(HPAGE - 1));
  // keep only the aligned 2 MiB (the selftest maps at a fixed aligned address)
  if (p > raw) munmap(raw, p - raw);
  munmap(p + HPAGE, raw + 2 * HPAGE - (p + HPAGE));
  return p;
}
static void fill(char *p, unsigned long from, unsigned long to) {
  for (unsigned long o = from; o < to; o += PAGE) p[o] = 7;
}
/** wait_for_scan(): MADV_HUGEPAGE, then until two more full scans (or the THP), then MADV_NOHUGEPAGE */
static long wait_for_scan(char *p) {
  madvise(p, HPAGE, MADV_HUGEPAGE);
  long start = full_scans();
  for (int i = 0; i < 3000; i++) { // 30 s: a full scan visits every registered mm of the machine
    if (anon_huge_kb(p) == 2048) break;
    if (full_scans() >= start + 2) break;
    usleep(10000);
  }
  long scans = full_scans() - start;
  madvise(p, HPAGE, MADV_NOHUGEPAGE);
  return scans;
}
static void report(const char *c, char *p, long scans, long *before) {
  long after[NV];
  vmstat(after);
  printf("{\"case\":\"%s\",\"huge_kb\":%ld,\"full_scans\":%ld", c, anon_huge_kb(p), scans);
  for (size_t i = 0; i < NV; i++) printf(",\"%s\":%ld", VMSTAT[i], after[i] - before[i]);
  printf("}\n");
  fflush(stdout);
}
/** alloc_hpage(): one 2 MiB, written, MADV_COLLAPSE'd (fails: exit 3) */
static char *alloc_hpage(void) {
  char *p = alloc_mapping();
  fill(p, 0, HPAGE);
  if (madvise(p, HPAGE, MADV_COLLAPSE) || anon_huge_kb(p) != 2048) exit(3);
  return p;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *c = argv[1];
  long before[NV];
  char *p;
  if (!strcmp(c, "full") || !strcmp(c, "single_pte") || !strcmp(c, "empty") || !strncmp(c, "none_", 5) ||
      !strcmp(c, "unreferenced")) {
    p = alloc_mapping();
    if (!strcmp(c, "full")) fill(p, 0, HPAGE);
    if (!strcmp(c, "single_pte")) fill(p, 0, PAGE);
    if (!strncmp(c, "none_", 5)) fill(p, 0, atol(c + 5) * PAGE);
    if (!strcmp(c, "unreferenced")) {
      fill(p, 0, HPAGE);
      int fd = open("/proc/self/clear_refs", O_WRONLY);
      if (fd < 0 || write(fd, "1", 1) != 1) return 4;
      close(fd);
    }
    vmstat(before);
    report(c, p, wait_for_scan(p), before);
    return 0;
  }
  if (!strcmp(c, "fork") || !strncmp(c, "shared_", 7)) {
    // collapse_fork: one page shared, the child faults another; collapse_max_ptes_shared: a THP
    // shared over fork, the child CoWs N pages
    int shared = !strncmp(c, "shared_", 7);
    if (shared) p = alloc_hpage();
    else {
      p = alloc_mapping();
      fill(p, 0, PAGE);
    }
    pid_t pid = fork();
    if (pid == 0) {
      if (shared) fill(p, 0, atol(c + 7) * PAGE);
      else fill(p, PAGE, 2 * PAGE);
      vmstat(before);
      report(c, p, wait_for_scan(p), before);
      _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 5;
  }
  return 2;
}
