import type { TraceEvent } from './format.js';

/** 0.1 ns units from µs (the recorder's precision), exact for the values it writes. */
const u = (us: number) => Math.round(us * 10_000);

/**
 * Structural problems of a trace (empty when none): events well formed; per track, complete
 * slices nest (a child ends before its parent); every flow id has one start and one end, each
 * inside a slice of its track; a thread_name for each track used; counters with numeric args.
 */
export function traceProblems(trace: unknown): string[] {
  const out: string[] = [];
  const t = trace as { traceEvents?: unknown; displayTimeUnit?: unknown; metadata?: unknown };
  if (!t || !Array.isArray(t.traceEvents)) return ['traceEvents is not an array'];
  const evs = t.traceEvents as TraceEvent[];
  const named = new Set<string>();
  const used = new Set<string>();
  const slices = new Map<string, Array<{ b: number; e: number; name: string }>>();
  const flows = new Map<number, { s: TraceEvent[]; f: TraceEvent[] }>();
  for (const [i, e] of evs.entries()) {
    const track = `${e.pid}/${e.tid}`;
    if (typeof e.ph !== 'string' || typeof e.name !== 'string' || typeof e.pid !== 'number') {
      out.push(`event ${i}: needs ph, name and pid`);
      continue;
    }
    if (e.ph === 'M') {
      if (e.name === 'thread_name') named.add(track);
      continue;
    }
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts) || e.ts < 0) out.push(`event ${i} (${e.name}): bad ts`);
    if (e.ph === 'C') {
      const vals = Object.values(e.args ?? {});
      if (vals.length === 0 || vals.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
        out.push(`counter ${i} (${e.name}): args must be numbers`);
      continue;
    }
    used.add(track);
    if (e.ph === 'X') {
      if (typeof e.dur !== 'number' || e.dur < 0) out.push(`slice ${i} (${e.name}): bad dur`);
      const l = slices.get(track) ?? [];
      l.push({ b: u(e.ts!), e: u(e.ts! + e.dur!), name: e.name });
      slices.set(track, l);
    } else if (e.ph === 's' || e.ph === 'f') {
      const fl = flows.get(e.id!) ?? { s: [], f: [] };
      fl[e.ph].push(e);
      flows.set(e.id!, fl);
    } else if (e.ph !== 'i') out.push(`event ${i}: unexpected ph ${e.ph}`);
  }
  for (const tr of used) if (!named.has(tr)) out.push(`track ${tr} has no thread_name`);
  for (const [tr, l] of slices) {
    l.sort((a, b) => a.b - b.b || b.e - a.e);
    const stack: Array<{ b: number; e: number; name: string }> = [];
    for (const s of l) {
      while (stack.length > 0 && stack.at(-1)!.e <= s.b) stack.pop();
      const p = stack.at(-1);
      if (p && s.e > p.e) out.push(`track ${tr}: "${s.name}" [${s.b}, ${s.e}) overlaps "${p.name}" [${p.b}, ${p.e})`);
      stack.push(s);
    }
  }
  const inside = (e: TraceEvent) =>
    (slices.get(`${e.pid}/${e.tid}`) ?? []).some((s) => s.b <= u(e.ts!) && u(e.ts!) <= s.e);
  for (const [id, fl] of flows) {
    if (fl.s.length !== 1 || fl.f.length !== 1) out.push(`flow ${id}: ${fl.s.length} starts, ${fl.f.length} ends`);
    for (const e of [...fl.s, ...fl.f]) if (!inside(e)) out.push(`flow ${id}: ${e.ph} at ${e.ts} is in no slice`);
  }
  return out;
}
