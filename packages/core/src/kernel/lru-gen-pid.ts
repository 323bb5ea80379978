/**
 * The multi-gen LRU's feedback loop (mm/vmscan.c "PID controller", v6.18): refaulted /
 * (evicted + protected) per tier of the generation being evicted (P) plus its moving average
 * over earlier generations (I, smoothing 1/2). get_tier_idx() protects the tiers whose refault
 * rate is above the first tier's; get_type_to_scan() picks anon or file. NR_HIST_GENS is 1.
 */
import {
  MAX_NR_TIERS,
  MAX_SWAPPINESS,
  MIN_LRU_BATCH,
  LRU_GEN_ANON,
  LRU_GEN_FILE,
  type LruGen,
} from '../mem/lru-gen.js';

/** struct ctrl_pos */
export class CtrlPos {
  refaulted = 0;
  total = 0;
  gain = 0;
}

/** read_ctrl_pos(): `tier` MAX_NR_TIERS sums all tiers. */
export function readCtrlPos(g: LruGen, type: number, tier: number, gain: number, pos: CtrlPos): void {
  pos.gain = gain;
  pos.refaulted = 0;
  pos.total = 0;
  const last = Math.min(tier, MAX_NR_TIERS - 1);
  for (let i = tier % MAX_NR_TIERS; i <= last; i++) {
    const j = type * MAX_NR_TIERS + i;
    pos.refaulted += g.avgRefaulted[j]! + g.refaulted[j]!;
    pos.total += g.avgTotal[j]! + g.protected[j]! + g.evicted[j]!;
  }
}

/**
 * reset_ctrl_pos(): when min_seq[type] advances (carryover) the averages take half of the
 * generation just finished and its counts restart; inc_max_seq()'s call changes nothing with
 * one history generation.
 */
export function resetCtrlPos(g: LruGen, type: number, carryover: boolean): void {
  if (!carryover) return;
  for (let tier = 0; tier < MAX_NR_TIERS; tier++) {
    const j = type * MAX_NR_TIERS + tier;
    g.avgRefaulted[j] = Math.floor((g.avgRefaulted[j]! + g.refaulted[j]!) / 2);
    g.avgTotal[j] = Math.floor((g.avgTotal[j]! + g.protected[j]! + g.evicted[j]!) / 2);
    g.refaulted[j] = 0;
    g.evicted[j] = 0;
    g.protected[j] = 0;
  }
}

/** positive_ctrl_err(): the PV has few refaults or a lower refaulted / total than the SP. */
export function positiveCtrlErr(sp: CtrlPos, pv: CtrlPos): boolean {
  return (
    pv.refaulted < MIN_LRU_BATCH ||
    pv.refaulted * (sp.total + MIN_LRU_BATCH) * sp.gain <= (sp.refaulted + 1) * pv.total * pv.gain
  );
}

const sp = new CtrlPos();
const pv = new CtrlPos();

/** get_tier_idx(): the highest tier not to protect (gain 2:3 against the first tier). */
export function getTierIdx(g: LruGen, type: number): number {
  readCtrlPos(g, type, 0, 2, sp);
  let tier = 1;
  for (; tier < MAX_NR_TIERS; tier++) {
    readCtrlPos(g, type, tier, 3, pv);
    if (!positiveCtrlErr(sp, pv)) break;
  }
  return tier - 1;
}

/** get_type_to_scan(): compare all tiers of anon (gain swappiness) with file's (200 - swappiness). */
export function getTypeToScan(g: LruGen, swappiness: number): number {
  if (swappiness <= 1) return LRU_GEN_FILE;
  if (swappiness >= MAX_SWAPPINESS) return LRU_GEN_ANON;
  readCtrlPos(g, LRU_GEN_ANON, MAX_NR_TIERS, swappiness, sp);
  readCtrlPos(g, LRU_GEN_FILE, MAX_NR_TIERS, MAX_SWAPPINESS - swappiness, pv);
  return positiveCtrlErr(sp, pv) ? LRU_GEN_FILE : LRU_GEN_ANON;
}
