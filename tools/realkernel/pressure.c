// Issue 17's memory-pressure scenarios on the real kernel, inside a cgroup v1 memory group
// (tools/realkernel/pressure.mjs creates the group, sets memory.limit_in_bytes and runs this;
// needs root). Usage: CGROUP=/sys/fs/cgroup/memory/G pressure SCENARIO
// Prints one JSON line: {"scenario":..,"phases":{NAME:{...}}}. Per phase: getrusage minor/major
// faults; /proc/self/status RssAnon and VmSwap at the phase's end (RssAnon in kB above its value
// before the scenario's first mmap); /proc/vmstat deltas (system-wide); the group's memory.stat
// counters as deltas (pgpgin, pgpgout, pgfault, pgmajfault, workingset_*) and its rss/swap at
// the phase's end (bytes in the file, kB here).
// The harness's buffers are faulted before the process joins the group, so they are charged
// outside it (v1's move_charge_at_immigrate is 0 by default: charges do not move).
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define KB 1024UL
#define MB (1024UL * 1024UL)
#define PAGE 4096UL
#define BUFSZ (1 << 17)
#define OUTSZ (1 << 16)
static char *buf, *out;
static size_t outn;
static const char *cgroup;
static int nphase;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...) {
  va_list ap; va_start(ap, fmt);
  outn += (size_t)vsnprintf(out + outn, OUTSZ - outn, fmt, ap);
  va_end(ap);
}
static ssize_t slurp(const char *path) {
  int fd = open(path, O_RDONLY); if (fd < 0) return -1;
  ssize_t n = 0, r;
  while ((r = read(fd, buf + n, BUFSZ - 1 - (size_t)n)) > 0) n += r;
  close(fd); buf[n] = 0; return n;
}
static void put(const char *path, const char *s) {
  int fd = open(path, O_WRONLY); if (fd < 0) { perror(path); exit(3); }
  if (write(fd, s, strlen(s)) < 0) { perror(path); exit(3); }
  close(fd);
}

// ---- counters: "name value" files ----
#define NV 64
static const char *vm_names[] = { "pgfault", "pgmajfault", "pswpin", "pswpout", "pgscan_kswapd", "pgscan_direct",
                                  "pgsteal_kswapd", "pgsteal_direct", "pgscan_anon", "pgsteal_anon", "pgactivate",
                                  "pgdeactivate", "pgrefill", "allocstall_normal", "allocstall_movable",
                                  "workingset_refault_anon", "workingset_activate_anon", "workingset_restore_anon",
                                  "swpout_zero", "swpin_zero", NULL };
static const char *cg_counters[] = { "pgpgin", "pgpgout", "pgfault", "pgmajfault", "workingset_refault_anon",
                                     "workingset_activate_anon", "workingset_restore_anon", NULL };
static const char *cg_gauges[] = { "rss", "swap", "swapcached", "active_anon", "inactive_anon", NULL };
struct kv { int n; char name[NV][40]; long val[NV]; };
struct snap { long minflt, majflt; struct kv vm, cg; };
static int listed(const char **names, const char *n) {
  for (int i = 0; names[i]; i++) if (!strcmp(names[i], n)) return 1;
  return 0;
}
static void read_kv(const char *path, struct kv *kv, const char **a, const char **b) {
  kv->n = 0;
  if (slurp(path) < 0) return;
  char *save, *line = strtok_r(buf, "\n", &save);
  for (; line; line = strtok_r(NULL, "\n", &save)) {
    char name[40]; long v;
    if (sscanf(line, "%39s %ld", name, &v) != 2) continue;
    if (!listed(a, name) && !(b && listed(b, name))) continue;
    if (kv->n < NV) { strcpy(kv->name[kv->n], name); kv->val[kv->n++] = v; }
  }
}
static long kv_get(const struct kv *kv, const char *name) {
  for (int i = 0; i < kv->n; i++) if (!strcmp(kv->name[i], name)) return kv->val[i];
  return 0;
}
static void take(struct snap *s) {
  struct rusage ru; getrusage(RUSAGE_SELF, &ru);
  s->minflt = ru.ru_minflt; s->majflt = ru.ru_majflt;
  read_kv("/proc/vmstat", &s->vm, vm_names, NULL);
  char p[512]; snprintf(p, sizeof p, "%s/memory.stat", cgroup);
  read_kv(p, &s->cg, cg_counters, cg_gauges);
}
static long status_kb(const char *key) {
  if (slurp("/proc/self/status") < 0) return -1;
  char *at = strstr(buf, key); if (!at) return -1;
  return strtol(at + strlen(key) + 1, NULL, 10);
}

static struct snap s0;
static long anon0;
static const char *phase_name;
static void phase(const char *name) { phase_name = name; take(&s0); }
static void end_phase(void) {
  struct snap s1; take(&s1);
  emit("%s\"%s\":{\"minflt\":%ld,\"majflt\":%ld,\"RssAnon\":%ld,\"VmSwap\":%ld,\"vmstat\":{", nphase++ ? "," : "",
       phase_name, s1.minflt - s0.minflt, s1.majflt - s0.majflt, status_kb("RssAnon:") - anon0, status_kb("VmSwap:"));
  for (int i = 0; i < s1.vm.n; i++)
    emit("%s\"%s\":%ld", i ? "," : "", s1.vm.name[i], s1.vm.val[i] - kv_get(&s0.vm, s1.vm.name[i]));
  emit("},\"memcg\":{");
  int k = 0;
  for (int i = 0; i < s1.cg.n; i++) {
    const char *n = s1.cg.name[i];
    if (listed(cg_gauges, n)) emit("%s\"%s_kB\":%ld", k++ ? "," : "", n, s1.cg.val[i] / 1024);
    else emit("%s\"%s\":%ld", k++ ? "," : "", n, s1.cg.val[i] - kv_get(&s0.cg, n));
  }
  // memory.usage_in_bytes (v1's memory.current; it includes the per-CPU charge stock)
  char up[512]; snprintf(up, sizeof up, "%s/memory.usage_in_bytes", cgroup);
  if (slurp(up) >= 0) emit("%s\"usage_kB\":%ld", k++ ? "," : "", strtol(buf, NULL, 10) / 1024);
  emit("}}");
}

static volatile unsigned long sink;
static unsigned long stamp = 1;
static void write_pages(char *p, size_t len) {
  for (size_t o = 0; o < len; o += PAGE) *(volatile unsigned long *)(p + o) = stamp++; // not zero-filled
}
static void read_pages(char *p, size_t len) {
  for (size_t o = 0; o < len; o += PAGE) sink += *(volatile unsigned long *)(p + o);
}
static char *map(size_t len) {
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); exit(2); }
  if (madvise(p, len, MADV_NOHUGEPAGE)) { perror("madvise"); exit(2); }
  return p;
}

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: CGROUP=DIR %s SCENARIO\n", argv[0]); return 1; }
  cgroup = getenv("CGROUP");
  if (!cgroup) { fprintf(stderr, "CGROUP is not set\n"); return 1; }
  buf = mmap(NULL, BUFSZ + OUTSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (buf == MAP_FAILED) { perror("mmap"); return 2; }
  out = buf + BUFSZ;
  if (mlock(buf, BUFSZ + OUTSZ)) { perror("mlock"); return 2; }
  const char *sc = argv[1];
  // warm up the functions the phases use (their stack and libc data) before joining the group
  struct snap warm; take(&warm); status_kb("RssAnon:");
  char pid[32]; snprintf(pid, sizeof pid, "%d\n", getpid());
  char procs[512]; snprintf(procs, sizeof procs, "%s/cgroup.procs", cgroup);
  put(procs, pid);
  anon0 = status_kb("RssAnon:");
  emit("{\"scenario\":\"%s\",\"phases\":{", sc);
  if (!strcmp(sc, "seq-128m")) {
    // 64 MiB group: 128 MiB written sequentially, then read back
    size_t len = 128 * MB; char *p = map(len);
    phase("fill"); write_pages(p, len); end_phase();
    phase("reread"); read_pages(p, len); end_phase();
  } else if (!strcmp(sc, "hot-cold")) {
    // 64 MiB group: a 16 MiB hot set, touched again before each 16 MiB chunk of a 128 MiB cold
    // stream; then the hot set once more
    size_t hl = 16 * MB, cl = 128 * MB, chunk = 16 * MB;
    char *hot = map(hl), *cold = map(cl);
    phase("hot"); write_pages(hot, hl); read_pages(hot, hl); end_phase();
    phase("stream");
    for (size_t o = 0; o < cl; o += chunk) { read_pages(hot, hl); write_pages(cold + o, chunk); }
    end_phase();
    phase("hot-again"); read_pages(hot, hl); end_phase();
  } else { fprintf(stderr, "unknown scenario %s\n", sc); return 1; }
  emit("}}\n");
  if (write(1, out, outn) < 0) return 4;
  return 0;
}
