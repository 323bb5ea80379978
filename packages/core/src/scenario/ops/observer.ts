/** OpObserver: what the op executor reports to its user (the scenario runner, @mmsim/check's driver). */
import type { AccessResult } from '../../kernel/fault.js';
import type { Advice } from '../../kernel/madvise.js';
import type { Prot } from '../../kernel/mprotect.js';
import type { PendingFault, Process, Thread } from '../../kernel/task.js';
import type { Step } from '../schema.js';
import type { PagemapEntry } from '../../kernel/pagemap.js';
import type { SmapsEntry } from '../../kernel/proc-maps.js';

export type AccessStep = Extract<Step, { op: 'access' }>;
export type TouchStep = Extract<Step, { op: 'touch' }>;
export type ReadPinStep = Extract<Step, { op: 'readPin' }>;
export type PagemapStep = Extract<Step, { op: 'pagemap' }>;
export type ReadStep = Extract<Step, { op: 'read' }>;
export type MapsStep = Extract<Step, { op: 'maps' }>;

/**
 * Every hook is optional and called per op, except `onWrite`, which is called per page written
 * (touch, uffdCopy) and skipped when absent. Ranges are [a, b) in pages. The effect hooks
 * (onSpawn ... onWrite) are what a reference model needs to follow the kernel.
 */
export interface OpObserver {
  /** before any step, `repeat` included (path: e.g. `steps[3].steps[0]`) */
  beforeOp?(step: Step, path: string): void;
  /** after a step completed (its own effects and the retries of threads it released); `repeat` too, after its body */
  afterOp?(step: Step, path: string): void;
  /** turns what a step threw into the error to throw (default: rethrown as is) */
  wrapError?(e: unknown, step: Step, path: string): Error;

  /**
   * a step with `expectError` ran: `got` is the errno or signal it failed with ('' when it
   * succeeded). The run goes on either way.
   */
  onExpectedError?(step: Step, path: string, want: string, got: string): void;
  /** a step's own expectation (uffdRegister `ioctls`, uffdRead `expect`): `mismatch` is '' when it held */
  onCheck?(path: string, mismatch: string): void;

  /** a `read` op (read(2) of a file) completed: `value` is what its last page held */
  onFileRead?(step: ReadStep, path: string, value: number): void;
  /** a `phase` op */
  onPhase?(name: string): void;
  onSpawn?(pid: string): void;
  onMmap?(pid: string, start: number, pages: number, prot: Prot): void;
  onMunmap?(pid: string, a: number, b: number): void;
  onFork?(parent: string, child: string): void;
  /** after exitProcess(p) */
  onExit?(p: Process): void;
  /** madvise, and the `advice` of an mmap */
  onMadvise?(pid: string, a: number, b: number, advice: Advice): void;
  onMprotect?(pid: string, a: number, b: number, prot: Prot): void;
  onMremap?(pid: string, a: number, b: number, newStart: number): void;
  onPin?(id: string, pid: string, a: number, b: number, write: boolean): void;
  onUnpin?(id: string): void;
  onUffdRegister?(pid: string, a: number, b: number, mode: 'wp' | 'missing'): void;
  /** a user write that completed (access, every page of a touch or uffdCopy, a retried write) */
  onWrite?(pid: string, vpn: number, value: number): void;

  /** an `access` op ran: OK (a read's value is in kernel.lastValue) or BLOCKED in userfaultfd */
  onAccess?(step: AccessStep, path: string, t: Thread, vpn: number, result: AccessResult): void;
  /** a thread blocked in userfaultfd retried its access (`path`: the step that released it) */
  onWake?(t: Thread, fault: PendingFault, result: AccessResult, path: string): void;
  /** a `pagemap` step read these entries, one per page from `vpn` on */
  onPagemap?(step: PagemapStep, path: string, vpn: number, entries: PagemapEntry[]): void;
  /** a `maps` step listed these VMAs; `starts[i]`: where expect.vmas[i] must start (-1: anywhere) */
  onMaps?(step: MapsStep, path: string, vmas: SmapsEntry[], starts: number[]): void;
  /** a step read values and compared them with its `expect` (ksm, prctl, ksmStat): each is a check */
  onValueChecks?(path: string, checks: ReadonlyArray<{ what: string; got: number; want: number }>): void;
  /** a `readPin` read these values */
  onReadPin?(step: ReadPinStep, path: string, values: number[]): void;
  /**
   * a touch visited `pages` more pages: called every 4096 pages and once at its end (a long
   * touch stays interruptible and its progress visible); it may throw to stop the run
   */
  onPages?(pages: number): void;
  /** a touch blocked in userfaultfd at page `vpn`: return true to end the touch quietly (default: a ScenarioError) */
  onTouchBlocked?(step: TouchStep, path: string, vpn: number): boolean;
}
