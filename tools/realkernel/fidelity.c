// Per-phase counters of issue-13 scenarios on the real kernel, for holding mmsim's
// linux-6.18 preset against it (tools/realkernel/fidelity.mjs runs it; needs root).
// Usage: fidelity SCENARIO      (prints one JSON line: {"scenario":..,"phases":{NAME:{...}}})
// Per phase: this process's (and, in child phases, the child's) getrusage minor/major faults;
// /proc/self/status VmPTE, RssAnon, VmSwap at the phase's end, as kB above their value before
// the scenario's first mmap (the C runtime's own); /proc/vmstat deltas (system-wide: noisy);
// hugepages-64kB and hugepages-2048kB stats deltas (system-wide); tlb:tlb_flush tracepoint events
// of this process's threads (tracefs at $TRACEFS with set_event_pid, when TRACEFS is set).
// The driver runs it under `taskset -c 0`; the 2-CPU scenarios pin a spinning thread to CPU 1.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/ioctl.h>
#include <linux/userfaultfd.h>
#include <unistd.h>

#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define KB 1024UL
#define MB (1024UL * 1024UL)

// file reads and the JSON line: an MADV_DONTFORK mapping faulted in up front, so that the
// harness's own memory neither faults inside a phase nor is CoW-shared by fork
#define BUFSZ (1 << 17)
#define OUTSZ (1 << 16)
static char *buf, *out;
static size_t outn;
static const char *tracefs;
static int nphase;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
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
static void put(const char *path, const char *s, int append) {
  int fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC)); if (fd < 0) { perror(path); exit(3); }
  if (write(fd, s, strlen(s)) < 0) { perror(path); exit(3); }
  close(fd);
}

// ---- counters ----
#define NV 64
static const char *vm_prefix[] = { "pgfault", "pgmajfault", "pgreuse", "pswpin", "pswpout", "pgdeactivate",
                                   "pgactivate", "thp_", "swpin_zero", "swpout_zero", "pgsteal_anon", NULL };
static const char *mthp_dirs[] = { "64kB", "2048kB", NULL };
static const char *mthp_stats[] = { "anon_fault_alloc", "anon_fault_fallback", "swpout", "swpout_fallback", "swpin",
                                    "swpin_fallback", "split", "split_failed", "split_deferred", "nr_anon",
                                    "nr_anon_partially_mapped", NULL };
struct snap {
  long minflt, majflt, cminflt, cmajflt;
  int nv; char vname[NV][40]; long vval[NV];
  long mthp[2][16];
};
static int vm_wanted(const char *name) {
  for (int i = 0; vm_prefix[i]; i++) {
    size_t n = strlen(vm_prefix[i]);
    if (vm_prefix[i][n - 1] == '_' ? !strncmp(name, vm_prefix[i], n) : !strcmp(name, vm_prefix[i])) return 1;
  }
  return 0;
}
static void take(struct snap *s) {
  struct rusage r; getrusage(RUSAGE_SELF, &r); s->minflt = r.ru_minflt; s->majflt = r.ru_majflt;
  getrusage(RUSAGE_CHILDREN, &r); s->cminflt = r.ru_minflt; s->cmajflt = r.ru_majflt;
  s->nv = 0;
  if (slurp("/proc/vmstat") > 0) {
    for (char *l = strtok(buf, "\n"); l && s->nv < NV; l = strtok(NULL, "\n")) {
      char *sp = strchr(l, ' '); if (!sp) continue; *sp = 0;
      if (!vm_wanted(l)) continue;
      snprintf(s->vname[s->nv], 40, "%s", l); s->vval[s->nv++] = atol(sp + 1);
    }
  }
  for (int d = 0; mthp_dirs[d]; d++)
    for (int k = 0; mthp_stats[k]; k++) {
      char p[160]; snprintf(p, sizeof p, "/sys/kernel/mm/transparent_hugepage/hugepages-%s/stats/%s", mthp_dirs[d], mthp_stats[k]);
      s->mthp[d][k] = slurp(p) > 0 ? atol(buf) : 0;
    }
}
static long file_kb(const char *file, const char *key) {
  if (slurp(file) <= 0) return -1;
  size_t n = strlen(key);
  for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
    if (!strncmp(l, key, n) && l[n] == ':') return atol(l + n + 1);
  return -1;
}
static long status_kb(const char *key) { return file_kb("/proc/self/status", key); }
// exact figures: /proc/self/status's RSS and swap counters are percpu_counter reads (since 6.2)
// that lag by up to the per-CPU batch; smaps_rollup walks the page tables
static long rollup_kb(const char *key) { return file_kb("/proc/self/smaps_rollup", key); }
static long anonx0;

// ---- tlb:tlb_flush through tracefs ----
struct tlb { long send, send_all, send_pages, recv, recv_all, local_one, local_pages, local_all, local_nomm, task_switch, task_switch_all, wrong_cpu, other; };
static void trace_reset(void) {
  if (!tracefs) return;
  char p[200]; snprintf(p, sizeof p, "%s/trace", tracefs); put(p, "", 0);
}
static void trace_read(struct tlb *t) {
  memset(t, 0, sizeof *t);
  if (!tracefs) return;
  char p[200]; snprintf(p, sizeof p, "%s/trace", tracefs);
  if (slurp(p) <= 0) return;
  for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
    if (l[0] == '#') continue;
    char *q = strstr(l, "tlb_flush: pages:"); if (!q) continue;
    long pages = atol(q + 17); int all = pages == -1;
    char *r = strstr(q, "reason:"); if (!r) continue; r += 7;
    if (!strncasecmp(r, "remote ipi send", 15)) { t->send++; if (all) t->send_all++; else t->send_pages += pages; }
    else if (!strncasecmp(r, "remote shootdown", 16)) { t->recv++; if (all) t->recv_all++; }
    else if (!strncasecmp(r, "local mm shootdown", 18)) { if (all) t->local_all++; else { t->local_one++; t->local_pages += pages; } }
    // mm == NULL (a reclaim batch, arch_tlbbatch_flush): flush_tlb_func traces "local shootdown"
    // and counts NR_TLB_LOCAL_FLUSH_* like a local mm shootdown
    else if (!strncasecmp(r, "local shootdown", 15)) { t->local_nomm++; if (all) t->local_all++; else { t->local_one++; t->local_pages += pages; } }
    // switch_mm_irqs_off(): pages ALL when choose_new_asid() (or a stale lazy tlb_gen) flushed
    // the ASID, 0 when it was up to date; traced in the context of the task switched away from
    else if (!strncasecmp(r, "flush on task switch", 20)) { t->task_switch++; if (all) t->task_switch_all++; }
    else if (!strncasecmp(r, "remote wrong cpu", 16)) t->wrong_cpu++;
    else t->other++;
  }
}
static void trace_add_pid(long pid) {
  if (!tracefs) return;
  char p[200], s[32]; snprintf(p, sizeof p, "%s/set_event_pid", tracefs); snprintf(s, sizeof s, "%ld\n", pid);
  put(p, s, 1);
}

// ---- phases ----
static struct snap *basep;
#define base (*basep)
static long pte0, anon0;
static long child_min = -1, child_maj = -1;   // set by a child phase (reported through a pipe)
static void start(void) { trace_reset(); take(&base); }
static void gauges0(void) { pte0 = status_kb("VmPTE"); anon0 = status_kb("RssAnon"); anonx0 = rollup_kb("Anonymous"); }
static void phase(const char *name) {
  struct snap now; take(&now);
  struct tlb t; trace_read(&t);
  long mi = now.minflt - base.minflt, ma = now.majflt - base.majflt;
  if (child_min >= 0) { mi += child_min; ma += child_maj; child_min = child_maj = -1; }
  emit("%s\"%s\":{\"minflt\":%ld,\"majflt\":%ld,\"VmPTE\":%ld,\"RssAnon\":%ld,\"VmSwap\":%ld,\"Anonymous\":%ld,\"Swap\":%ld",
       nphase++ ? "," : "", name, mi, ma, status_kb("VmPTE") - pte0, status_kb("RssAnon") - anon0, status_kb("VmSwap"),
       rollup_kb("Anonymous") - anonx0, rollup_kb("Swap"));
  emit(",\"vmstat\":{");
  int c = 0;
  for (int i = 0; i < now.nv; i++) {
    long b = 0;
    for (int j = 0; j < base.nv; j++) if (!strcmp(base.vname[j], now.vname[i])) { b = base.vval[j]; break; }
    if (now.vval[i] != b) emit("%s\"%s\":%ld", c++ ? "," : "", now.vname[i], now.vval[i] - b);
  }
  emit("},\"mthp\":{");
  c = 0;
  for (int d = 0; mthp_dirs[d]; d++)
    for (int k = 0; mthp_stats[k]; k++)
      if (now.mthp[d][k] != base.mthp[d][k]) emit("%s\"%s_%s\":%ld", c++ ? "," : "", mthp_dirs[d], mthp_stats[k], now.mthp[d][k] - base.mthp[d][k]);
  emit("}");
  if (tracefs)
    emit(",\"tlb\":{\"remote_send\":%ld,\"remote_send_all\":%ld,\"remote_send_pages\":%ld,\"remote_recv\":%ld,\"remote_recv_all\":%ld,"
         "\"local_one\":%ld,\"local_one_pages\":%ld,\"local_all\":%ld,\"local_nomm\":%ld,\"task_switch\":%ld,\"task_switch_all\":%ld,\"wrong_cpu\":%ld,\"other\":%ld}",
         t.send, t.send_all, t.send_pages, t.recv, t.recv_all, t.local_one, t.local_pages, t.local_all, t.local_nomm, t.task_switch, t.task_switch_all, t.wrong_cpu, t.other);
  emit("}");
  start();
}

// ---- helpers ----
// The scenario's mappings go into a fresh 512 GiB (PGD) slot, away from the C runtime's, so that
// their PUD, PMD and PTE tables are all the scenario's own (as in mmsim, whose process maps
// nothing else): VmPTE then counts the same tables on both sides.
static char *next_hint = (char *)0x300000000000UL;
static char *map_aligned(size_t len, size_t align) {
  char *raw = mmap(next_hint, len + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  next_hint += len + align;
  if (raw == MAP_FAILED) { perror("mmap"); exit(1); }
  char *p = (char *)(((unsigned long)raw + align - 1) & ~(align - 1));
  if (p > raw) munmap(raw, (size_t)(p - raw));
  munmap(p + len, (size_t)(raw + len + align - (p + len)));
  return p;
}
static void touchw(volatile char *p, size_t len, int zero) {
  for (size_t o = 0; o < len; o += 4096) p[o] = zero ? 0 : (char)((o >> 12) | 1);
}
static void touchr(volatile char *p, size_t len) {
  for (size_t o = 0; o < len; o += 4096) (void)p[o];
}
static void adv(char *p, size_t len, int a) {
  if (madvise(p, len, a)) { perror("madvise"); exit(1); }
}
static void pin_cpu(int cpu) {
  cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s);
  if (sched_setaffinity(0, sizeof s, &s)) { perror("sched_setaffinity"); exit(1); }
}
static volatile int spin_stop, spin_ready;
static volatile long spin_tid;
static volatile int spin_fifo;
static void *spinner(void *arg) {
  (void)arg; pin_cpu(1); spin_tid = syscall(SYS_gettid);
  // SCHED_FIFO (root): other tasks of this shared machine must not preempt the spinner, or CPU 1
  // is not running the mm when a flush IPI comes (best effort; the scenario runs < 1 s)
  struct sched_param sp = { .sched_priority = 1 };
  spin_fifo = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
  spin_ready = 1;
  while (!spin_stop) __asm__ volatile("pause");
  return NULL;
}
// fork; the child waits for a byte, writes all of [p, p+len), reports its faults, exits
static void fork_cow(char *p, size_t len) {
  int go[2], rep[2]; if (pipe(go) || pipe(rep)) exit(1);
  pid_t c = fork();
  if (c == 0) {
    char b; if (read(go[0], &b, 1) != 1) _exit(1);
    struct rusage r0, r1; long d[2]; memset(&r0, 0, sizeof r0); memset(&r1, 0, sizeof r1); d[0] = d[1] = 0;
    getrusage(RUSAGE_SELF, &r0); touchw(p, len, 0); getrusage(RUSAGE_SELF, &r1);
    d[0] = r1.ru_minflt - r0.ru_minflt; d[1] = r1.ru_majflt - r0.ru_majflt;
    if (write(rep[1], d, sizeof d) != sizeof d) _exit(1);
    _exit(0);
  }
  phase("fork");
  if (write(go[1], "x", 1) != 1) exit(1);
  long d[2]; if (read(rep[0], d, sizeof d) != sizeof d) exit(1);
  waitpid(c, NULL, 0);
  child_min = d[0]; child_maj = d[1];
  phase("child-cow");
}

// fault in the stack, the read buffer and the output buffer up front, so that the harness's own
// faults do not land inside a phase
static void __attribute__((noinline)) prefault_stack(void) {
  volatile char a[256 * 1024];
  for (size_t i = 0; i < sizeof a; i += 512) a[i] = 1;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s SCENARIO\n", argv[0]); return 2; }
  const char *sc = argv[1];
  tracefs = getenv("TRACEFS");
  if (tracefs && !*tracefs) tracefs = NULL;
  if (tracefs) { char p[200], me[32]; snprintf(p, sizeof p, "%s/set_event_pid", tracefs); snprintf(me, sizeof me, "%d\n", getpid()); put(p, me, 0); }
  size_t hsz = BUFSZ + OUTSZ + 2 * sizeof(struct snap);
  char *h = mmap(NULL, hsz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (h == MAP_FAILED || madvise(h, hsz, MADV_DONTFORK)) { perror("harness mmap"); return 1; }
  memset(h, 1, hsz); buf = h; out = h + BUFSZ; basep = (struct snap *)(h + BUFSZ + OUTSZ);
  prefault_stack();
  gauges0();
  struct snap warm; take(&warm); (void)warm;   // fault in the code paths once
  emit("{\"scenario\":\"%s\",\"phases\":{", sc);
  start();
  if (!strcmp(sc, "dsplit-64k")) {            // partial munmap of one 64 KiB mTHP (item 1, 8)
    gauges0(); char *p = map_aligned(2 * MB, 2 * MB); start();
    touchw(p, 2 * MB, 0); phase("touch");
    munmap(p + 32 * KB, 32 * KB); phase("munmap");
  } else if (!strcmp(sc, "dsplit-2m")) {      // partial munmap of a PMD THP (item 1, 4)
    gauges0(); char *p = map_aligned(2 * MB, 2 * MB); start();
    touchw(p, 2 * MB, 0); phase("touch");
    munmap(p + MB, 4 * KB); phase("munmap");
  } else if (!strcmp(sc, "pageout-64k") || !strcmp(sc, "pageout-2m")) {   // whole folios (item 2, 8)
    gauges0(); char *p = map_aligned(2 * MB, 2 * MB); start();
    touchw(p, 2 * MB, 0); phase("touch");
    adv(p, 2 * MB, MADV_PAGEOUT); phase("pageout");
    touchr(p, 2 * MB); phase("read");
    touchw(p, 2 * MB, 0); phase("write");
  } else if (!strcmp(sc, "dontneed-ptes")) {  // empty PTE tables after MADV_DONTNEED (item 3)
    gauges0(); char *p = map_aligned(8 * MB, 2 * MB); start();
    touchw(p, 8 * MB, 0); phase("touch");
    adv(p, 8 * MB, MADV_DONTNEED); phase("dontneed");
  } else if (!strcmp(sc, "mprotect-thp")) {   // mprotect 4 KiB of a PMD THP (item 4)
    gauges0(); char *p = map_aligned(2 * MB, 2 * MB); start();
    touchw(p, 2 * MB, 0); phase("touch");
    if (mprotect(p + MB, 4 * KB, PROT_READ)) { perror("mprotect"); return 1; }
    phase("mprotect");
  } else if (!strcmp(sc, "mremap-thp")) {     // mremap 1 MiB out of a PMD THP (item 4)
    gauges0(); char *p = map_aligned(2 * MB, 2 * MB);
    char *dst = map_aligned(2 * MB, 2 * MB); munmap(dst, 2 * MB); start();
    touchw(p, 2 * MB, 0); phase("touch");
    if (mremap(p + MB, MB, MB, MREMAP_MAYMOVE | MREMAP_FIXED, dst + 4 * KB) == MAP_FAILED) { perror("mremap"); return 1; }
    phase("mremap");
  } else if (!strcmp(sc, "zero-thp")) {       // huge zero page, then a write fault (item 4)
    gauges0(); char *p = map_aligned(2 * MB, 2 * MB); start();
    touchr(p, 2 * MB); phase("read");
    p[0] = 1; phase("write");
  } else if (!strcmp(sc, "pageout-1cpu") || !strcmp(sc, "pageout-2cpu")) {   // reclaim flush batching (item 5, 7)
    pthread_t th; int two = !strcmp(sc, "pageout-2cpu");
    if (two) {
      if (pthread_create(&th, NULL, spinner, NULL)) return 1;
      while (!spin_ready) __asm__ volatile("pause");
      trace_add_pid(spin_tid);
    }
    gauges0(); char *p = map_aligned(256 * KB, 2 * MB); start();
    touchw(p, 256 * KB, 0); phase("touch");
    adv(p, 256 * KB, MADV_PAGEOUT); phase("pageout");
    touchr(p, 256 * KB); phase("read");
    touchw(p, 256 * KB, 0); phase("write");
    if (two) { spin_stop = 1; pthread_join(th, NULL); }
  } else if (!strcmp(sc, "cold-twice-write")) {   // MADV_COLD on inactive folios (item 6)
    gauges0(); char *p = map_aligned(256 * KB, 2 * MB); start();
    touchw(p, 256 * KB, 0); phase("touch");
    fork_cow(p, 0);                            // the child writes nothing: the parent's PTEs are write-protected
    adv(p, 256 * KB, MADV_COLD); phase("cold1");
    adv(p, 256 * KB, MADV_COLD); phase("cold2");
    touchw(p, 256 * KB, 0); phase("write");
  } else if (!strcmp(sc, "swap-zero")) {      // zero-filled pages at swap-out (item 9)
    gauges0(); char *p = map_aligned(256 * KB, 2 * MB); start();
    touchw(p, 256 * KB, 1); phase("touch");
    adv(p, 256 * KB, MADV_PAGEOUT); phase("pageout");
    touchr(p, 256 * KB); phase("read");
  } else if (!strcmp(sc, "fork-64k")) {       // fork of PTE-mapped 64 KiB folios (items 8, 10)
    gauges0(); char *p = map_aligned(2 * MB, 2 * MB); start();
    touchw(p, 2 * MB, 0); phase("touch");
    fork_cow(p, 2 * MB);
    touchw(p, 2 * MB, 0); phase("parent-after-exit");
  } else if (!strcmp(sc, "collapse")) {       // MADV_COLLAPSE of 512 small pages (item 4, 3)
    gauges0(); char *p = map_aligned(2 * MB, 2 * MB); start();
    touchw(p, 2 * MB, 0); phase("touch");
    adv(p, 2 * MB, MADV_COLLAPSE); phase("collapse");
    touchw(p, 2 * MB, 0); phase("write");
  } else if (!strcmp(sc, "pageout-64k-part")) {   // MADV_PAGEOUT of half of each 64 KiB folio (items 1, 2, 8)
    gauges0(); char *p = map_aligned(1 * MB, 2 * MB); start();
    touchw(p, MB, 0); phase("touch");
    for (size_t o = 0; o < MB; o += 64 * KB) adv(p + o, 32 * KB, MADV_PAGEOUT);
    phase("pageout");
  } else if (!strcmp(sc, "uffd-wp-2cpu")) {   // uffd-wp with a thread of the mm live on CPU 1 (item 7)
    pthread_t th;
    if (pthread_create(&th, NULL, spinner, NULL)) return 1;
    while (!spin_ready) __asm__ volatile("pause");
    trace_add_pid(spin_tid);
    gauges0(); char *p = map_aligned(256 * KB, 2 * MB); start();
    touchw(p, 256 * KB, 0); phase("touch");
    int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    struct uffdio_api api = { .api = UFFD_API, .features = 0 };
    if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)) { perror("userfaultfd"); return 1; }
    struct uffdio_register reg = { .range = { (unsigned long)p, 256 * KB }, .mode = UFFDIO_REGISTER_MODE_WP };
    if (ioctl(uffd, UFFDIO_REGISTER, &reg)) { perror("UFFDIO_REGISTER"); return 1; }
    phase("register");
    struct uffdio_writeprotect wp = { .range = { (unsigned long)p, 256 * KB }, .mode = UFFDIO_WRITEPROTECT_MODE_WP };
    if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)) { perror("UFFDIO_WRITEPROTECT"); return 1; }
    phase("writeprotect");
    wp.mode = 0;
    if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp)) { perror("UFFDIO_WRITEPROTECT"); return 1; }
    phase("unprotect");
    spin_stop = 1; pthread_join(th, NULL);
  } else if (!strcmp(sc, "zap-thp")) {        // whole-THP zaps through the mmu_gather (PMD_SHIFT stride)
    gauges0(); char *p = map_aligned(2 * MB, 2 * MB); start();
    touchw(p, 2 * MB, 0); phase("touch");
    adv(p, 2 * MB, MADV_DONTNEED); phase("dontneed");
    touchw(p, 2 * MB, 0); phase("touch2");
    munmap(p, 2 * MB); phase("munmap");
  } else if (!strcmp(sc, "switch-pingpong")) { // two mms taking turns on one CPU (PCID: no flush on switch)
    gauges0(); char *p = map_aligned(64 * KB, 2 * MB); start();
    touchw(p, 64 * KB, 0); phase("touch");
    int go[2], back[2]; if (pipe(go) || pipe(back)) return 1;
    pid_t c = fork();
    if (c == 0) {                              // the child reads a page per turn (9), then exits
      char b;
      for (int i = 0; i < 9; i++) {
        if (read(go[0], &b, 1) != 1) _exit(1);
        touchr(p + (size_t)i * 4096, 4096);
        if (write(back[1], "y", 1) != 1) _exit(1);
      }
      if (read(go[0], &b, 1) != 1) _exit(1);
      _exit(0);
    }
    for (int i = 0; i < 9; i++) {             // round 0 (the child's first run: a new ASID) in "fork"
      char b;
      if (write(go[1], "x", 1) != 1 || read(back[0], &b, 1) != 1) return 1;
      touchr(p + (size_t)i * 4096, 4096);
      if (i == 0) phase("fork");
    }
    phase("pingpong");
    if (write(go[1], "x", 1) != 1) return 1;
    waitpid(c, NULL, 0);
    phase("child-exit");
  } else { fprintf(stderr, "unknown scenario %s\n", sc); return 2; }
  emit("}}\n");
  if (write(1, out, outn) != (ssize_t)outn) return 1;
  return 0;
}
