/** mm->hiwater_rss (update_hiwater_rss() where the RSS drops) and signal->maxrss at exit: getrusage's ru_maxrss. */
import { describe, expect, it } from 'vitest';
import { runSys } from './helpers.js';

describe('hiwater_rss and maxrss', () => {
  it('the peak RSS survives munmap and exit; a child forked at the peak has its own', () => {
    const { sys } = runSys({
      name: 'hw',
      files: { lib: { size: '64KiB', cached: true } },
      steps: [
        { op: 'spawn', pid: 'a' },
        { op: 'mmap', pid: 'a', name: 'buf', size: '40KiB' },
        { op: 'mmap', pid: 'a', name: 'lib', size: '64KiB', file: 'lib', prot: 'r' },
        { op: 'touch', pid: 'a', region: 'buf', access: 'write' },
        // fault-around maps the 16 cached pages: RSS 10 anon + 16 file = 26 pages
        { op: 'touch', pid: 'a', region: 'lib', size: '4KiB', access: 'read' },
        { op: 'munmap', pid: 'a', region: 'buf', offset: '20KiB', size: '20KiB' },
        { op: 'fork', pid: 'a', child: 'c' },
        { op: 'mmap', pid: 'c', name: 'big', size: '200KiB' },
        { op: 'touch', pid: 'c', region: 'big', access: 'write' },
        { op: 'exit', pid: 'c' },
      ],
    });
    const k = sys.kernel;
    const a = k.procs.get('a')!.mm;
    a.updateHiwaterRss();
    // a: the peak was before the munmap (26 pages), now 21
    expect(a.hiwaterRss).toBe(26);
    expect(a.rssAnon + a.rssFile).toBe(21);
    // c: the 5 anon pages its fork copied (the read-only file VMA has no anon_vma:
    // vma_needs_copy() copies none of its PTEs) + the 50 it wrote: its peak at exit
    expect(k.maxRss).toBe(55);
  });
});
