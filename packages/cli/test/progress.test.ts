import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/progress.js';

function fakeTty() {
  let out = '';
  const stream = {
    isTTY: true,
    columns: 100,
    write(s: string) {
      out += s;
      return true;
    },
    cursorTo(_x: number, _y?: number, cb?: () => void) {
      cb?.();
      return true;
    },
    clearLine(_d: number, cb?: () => void) {
      cb?.();
      return true;
    },
    moveCursor(_x: number, _y: number, cb?: () => void) {
      cb?.();
      return true;
    },
    on() {
      return stream;
    },
    removeListener() {
      return stream;
    },
  };
  return { stream: stream as unknown as NodeJS.WritableStream, output: () => out };
}

describe('progress bar', () => {
  it('stays hidden when stderr is not a terminal', () => {
    const { stream, output } = fakeTty();
    const p = createProgress(stream, false, { now: () => 1e9 });
    p.onProgress(1024, 4096);
    p.stop();
    expect(p.shown).toBe(false);
    expect(output()).toBe('');
  });

  it('appears on a terminal only after the delay', () => {
    const { stream, output } = fakeTty();
    let t = 0;
    const p = createProgress(stream, true, { now: () => t, delayMs: 2000 });
    t = 1000;
    p.onProgress(1024, 8192);
    expect(p.shown).toBe(false);
    expect(output()).toBe('');
    t = 2500;
    p.onProgress(2048, 8192);
    expect(p.shown).toBe(true);
    expect(output()).toContain('2048/8192 steps');
    p.onProgress(8192, 8192);
    p.stop();
  });

  it('is not started for a run that finishes before the delay', () => {
    const { stream, output } = fakeTty();
    let t = 0;
    const p = createProgress(stream, true, { now: () => t });
    t = 5000;
    p.onProgress(4096, 4096); // the final report of a run that is already done
    p.stop();
    expect(p.shown).toBe(false);
    expect(output()).toBe('');
  });

  it('with status (compare --queue): the jobs running and workers alive after the count', () => {
    const { stream, output } = fakeTty();
    let t = 0;
    const p = createProgress(stream, true, { now: () => t, unit: 'runs', status: true });
    p.onStatus?.('0 running, 2 workers alive');
    t = 5000;
    p.onProgress(3, 48);
    expect(output()).toContain('3/48 runs | 0 running, 2 workers alive | ETA');
    p.stop();
  });
});
