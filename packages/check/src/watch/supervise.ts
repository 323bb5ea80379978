/**
 * The main thread's side of `mmsim check` in a worker (channel.ts): it writes what the worker
 * prints, watches the policies' taps (the flags the worker's TapWatch writes) and owns SIGINT /
 * SIGTERM. A signal sets the stop flag: the worker ends its run, prints what finished and exits
 * 130. A worker that has not ended after `graceMs` (a tap is busy), or a second signal, is
 * terminated, and this side prints what finished from the worker's last report. A tap running
 * past the budget is a plugin error (exit 2) and the worker is terminated.
 */
import type { Worker } from 'node:worker_threads';
import type { CheckResult } from '../check.js';
import { formatCheckResult } from '../check.js';
import { checkJson, interruptedLine, stuckTapLine } from '../cli.js';
import type { CheckMessage } from './channel.js';
import { SLOT, whereText } from './taps.js';

export interface SuperviseOptions {
  /** the worker posts its exit code as `{ code }` before it ends */
  worker: Worker;
  flags: Int32Array;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** `--json`: what finished is one document */
  json: boolean;
  /** how long a signalled worker may take to stop (default 300 ms) */
  graceMs?: number;
}

/** Resolves to the command's exit code. */
export function superviseCheck(o: SuperviseOptions): Promise<number> {
  const { worker, flags } = o;
  const taps: Array<{ plugin: string; hook: string }> = [];
  const ops: string[] = [];
  const done: CheckResult[] = [];
  let current: CheckResult | undefined;
  let code: number | undefined;
  let signals = 0;
  let over = false;
  let wrote = false;

  return new Promise<number>((resolve, reject) => {
    const finish = (c: number) => {
      if (over) return;
      over = true;
      clearInterval(poll);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      void worker.terminate();
      resolve(c);
    };
    /** print what finished from the worker's reports (it was terminated before it could) */
    const brokenOff = () => {
      if (over) return;
      if (code !== undefined || (o.json && wrote)) {
        // the worker has written its own output and is ending: nothing to add
        setTimeout(() => finish(code ?? 130), 2000).unref();
        return;
      }
      const results = [...done];
      if (current && !done.includes(current)) {
        const r = { ...current, interrupted: true as const, incomplete: true as const };
        results.push(r);
        if (!o.json) o.stdout.write(formatCheckResult(r) + '\n');
      }
      if (o.json) o.stdout.write(checkJson(results));
      o.stderr.write(interruptedLine(results));
      finish(130);
    };
    const onSignal = () => {
      signals++;
      Atomics.store(flags, SLOT.stop, 1);
      if (signals > 1) brokenOff();
      else setTimeout(brokenOff, o.graceMs ?? 300).unref();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    // the tap watchdog: the same call of one tap running for the budget
    let id = 0;
    let calls = -1;
    let since = 0;
    const poll = setInterval(() => {
      const budget = Atomics.load(flags, SLOT.budget);
      const now = Date.now();
      const i = Atomics.load(flags, SLOT.running);
      const c = Atomics.load(flags, SLOT.calls);
      if (budget <= 0 || i === 0 || i !== id || c !== calls) {
        id = i;
        calls = c;
        since = now;
        return;
      }
      if (now - since < budget || over) return;
      Atomics.store(flags, SLOT.firedTap, i);
      const t = taps[i - 1] ?? { plugin: '?', hook: '?' };
      const where = whereText(Atomics.load(flags, SLOT.step) - 1, ops[Atomics.load(flags, SLOT.op) - 1]);
      o.stderr.write(stuckTapLine(t, budget, current?.kernel ?? '?', where));
      finish(2);
    }, 10);

    worker.on('message', (m: CheckMessage | { code: number }) => {
      if ('code' in m) code = m.code;
      else if (m.t === 'stdout') {
        wrote = true;
        o.stdout.write(m.s);
      } else if (m.t === 'progress') current = m.r;
      else if (m.t === 'done') {
        done.push(m.r);
        current = m.r;
      } else if (m.t === 'tap') taps[m.id] = { plugin: m.plugin, hook: m.hook };
      else if (m.t === 'op') ops[m.id] = m.op;
    });
    worker.on('error', (e) => {
      if (over) return;
      over = true;
      clearInterval(poll);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      reject(e);
    });
    worker.on('exit', (c) => finish(code ?? (c === 0 ? 0 : 3)));
  });
}
