/**
 * A progress bar on stderr for long runs: shown only when stderr is a terminal and the run has
 * been going for more than `delayMs`. runScenario is synchronous and reports its work units
 * (leaf steps + pages touched) every 1024 steps and every 4096 pages of a touch, so the bar
 * draws synchronously from those reports.
 */
import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';

export interface Progress {
  onProgress(done: number, total: number): void;
  /** remove the bar (call on success and on error) */
  stop(): void;
  /** whether the bar was ever shown */
  readonly shown: boolean;
  /** a status after the count (`--queue`: "2 running, 3 workers"; with opts.status) */
  onStatus?(status: string): void;
}

export interface ProgressOptions {
  /** default 2000 ms */
  delayMs?: number;
  /** clock, for tests */
  now?: () => number;
  /** what is counted (default 'steps'; `mmsim compare` counts 'runs') */
  unit?: string;
  /** show the text of onStatus() after the count */
  status?: boolean;
}

const NONE: Progress = { onProgress() {}, stop() {}, shown: false };

/** A progress reporter on `stream`, or a no-op when `isTTY` is false. */
export function createProgress(
  stream: NodeJS.WritableStream | undefined,
  isTTY: boolean,
  opts: ProgressOptions = {},
): Progress {
  if (!isTTY || !stream) return NONE;
  const now = opts.now ?? Date.now;
  const delay = opts.delayMs ?? 2000;
  const start = now();
  let bar: SingleBar | undefined;
  let shown = false;
  let status = '';
  let last = 0;
  return {
    onProgress(done, total) {
      last = done;
      if (!bar) {
        if (now() - start < delay || done >= total) return;
        // loaded only when a bar is drawn (a CommonJS package: require keeps onProgress synchronous)
        const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
        bar = new cliProgress.SingleBar(
          {
            stream,
            format: `mmsim {bar} {percentage}% | {value}/{total} ${opts.unit ?? 'steps'}${opts.status ? ' | {status}' : ''} | ETA {eta_formatted}`,
            hideCursor: true,
            clearOnComplete: true,
            gracefulExit: true,
            fps: 10,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(total, done, { status });
        shown = true;
        return;
      }
      bar.update(done, { status });
    },
    onStatus(s) {
      status = s;
      bar?.update(last, { status });
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
    get shown() {
      return shown;
    },
  };
}
