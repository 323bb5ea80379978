/**
 * The "why" section of `mmsim run --explain`: per phase, each decision hook's answers with the
 * references that were present beyond the faulting mapping, the copies a drain or freeing
 * the swap cache would have avoided, and the taps that answered (explain/explainer.ts in core).
 */
import type { AnswerSummary, Decisions, RunResult } from '@mmsim/core';
import { num, wrapList } from './table.js';

const AVOID_LABEL: ReadonlyArray<[keyof AnswerSummary, string]> = [
  ['avoidable_by_drain_local', 'drain_local'],
  ['avoidable_by_drain_all', 'drain_all'],
  ['avoidable_by_free_swap', 'free_swap'],
];

function answerLines(phase: string, hook: string, answer: string, s: AnswerSummary, W: number): string[] {
  const items: string[] = [];
  for (const [k, n] of Object.entries(s.by ?? {})) items.push(`${k} ${num(n!)}`);
  const avoid = AVOID_LABEL.filter(([k]) => s[k] !== undefined).map(([k, l]) => `${l} ${num(s[k] as number)}`);
  const taps = Object.entries(s.taps).map(([t, n]) => `${t} ${num(n)}`);
  const lead = `  ${phase.padEnd(10)} ${hook} ${answer} ${num(s.count)}`;
  const out = [lead];
  if (items.length) out.push(...wrapList('      with   ', items, W));
  if (avoid.length) out.push(...wrapList('      avoidable by ', avoid, W));
  out.push(...wrapList('      taps   ', taps, W));
  return out;
}

/** Lines of the why section (none when the run was not explained). */
export function whySection(r: RunResult, W: number): string[] {
  if (!r.decisions) return [];
  const out = ['why (--explain: decisions and the references present beyond the faulting mapping)'];
  const phases: Array<[string, Decisions | undefined]> = Object.entries(r.phases).map(([n, p]) => [n, p.decisions]);
  let any = false;
  for (const [name, d] of phases) {
    for (const [hook, answers] of Object.entries(d ?? {})) {
      for (const [answer, s] of Object.entries(answers)) {
        out.push(...answerLines(name, hook, answer, s, W));
        any = true;
      }
    }
  }
  if (!any) out.push('  no decision hook was called');
  out.push('');
  return out;
}
