/**
 * Scenarios run unchanged on hw-x86 and hw-arm64 (test/comparable.test.ts of each package) to
 * check the counters that are comparable across architectures (docs/counters.md). Keep the two
 * copies identical.
 */
export const COMPARABLE = [
  'tlb_remote_inval',
  'tlb_remote_inval_cpus',
  'tlb_local_inval',
  'tlb_inval_pages',
  'tlb_inval_full',
] as const;

/** 4 CPUs: the process runs on cpu 0, spinning threads on cpus 1 and 2, a lazy one on cpu 3. */
export const SHARED_MM = {
  name: 'comparable-shared',
  system: { swap: { synchronousIo: true } },
  steps: [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'thread', pid: 'p', cpu: 1, spin: true },
    { op: 'thread', pid: 'p', cpu: 2, spin: true },
    { op: 'thread', pid: 'p', cpu: 3 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '256KiB' },
    { op: 'touch', pid: 'p', region: 'buf', access: 'write' },
    { op: 'access', pid: 'p', region: 'buf', access: 'read', cpu: 3 },
    { op: 'munmap', pid: 'p', region: 'buf', size: '4KiB', phase: 'munmap1' },
    { op: 'madvise', pid: 'p', region: 'buf', offset: '16KiB', size: '64KiB', advice: 'dontneed', phase: 'dontneed16' },
    {
      op: 'madvise',
      pid: 'p',
      region: 'buf',
      offset: '96KiB',
      size: '160KiB',
      advice: 'dontneed',
      phase: 'dontneed40',
    },
    { op: 'mprotect', pid: 'p', region: 'buf', offset: '80KiB', size: '8KiB', prot: 'r', phase: 'mprotect2' },
    { op: 'madvise', pid: 'p', region: 'buf', offset: '4KiB', size: '12KiB', advice: 'pageout', phase: 'pageout3' },
    { op: 'exit', pid: 'p', phase: 'exit' },
  ],
};

/** 4 CPUs, one thread on cpu 0: every request stays local. */
export const PRIVATE_MM = {
  name: 'comparable-private',
  steps: [
    { op: 'spawn', pid: 'p', cpu: 0 },
    { op: 'mmap', pid: 'p', name: 'buf', size: '256KiB' },
    { op: 'touch', pid: 'p', region: 'buf', access: 'write' },
    { op: 'munmap', pid: 'p', region: 'buf', size: '4KiB', phase: 'munmap1' },
    {
      op: 'madvise',
      pid: 'p',
      region: 'buf',
      offset: '64KiB',
      size: '160KiB',
      advice: 'dontneed',
      phase: 'dontneed40',
    },
    { op: 'fork', pid: 'p', child: 'c', phase: 'fork' },
    { op: 'exit', pid: 'p', phase: 'exit' },
  ],
};
