/**
 * Scenario schemas of KSM (docs/scenario-format.md "KSM"): the sysfs knobs (`system.ksm` and
 * the `ksm` step, named as /sys/kernel/mm/ksm names them), ksmd's scan (`ksmd`), prctl
 * PR_SET/GET_MEMORY_MERGE (`prctl`) and /proc/PID/ksm_stat (`ksmStat`).
 */
import { z } from 'zod';

const zeroOne = z.union([z.boolean(), z.literal(0), z.literal(1)]);

/** /sys/kernel/mm/ksm knobs */
export const KsmKnobs = {
  run: z.union([z.literal(0), z.literal(1), z.literal(2)]).optional(),
  pages_to_scan: z.number().int().min(0).max(0xffffffff).optional(),
  use_zero_pages: zeroOne.optional(),
  max_page_sharing: z.number().int().min(2).max(0x7fffffff).optional(),
  smart_scan: zeroOne.optional(),
};
export const KsmSystem = z.strictObject({ ...KsmKnobs });

const count = z.number().int();
/** what a `ksm` step expects to read from /sys/kernel/mm/ksm */
export const KsmSysfsExpect = z.strictObject({
  run: count.optional(),
  full_scans: count.optional(),
  pages_shared: count.optional(),
  pages_sharing: count.optional(),
  pages_unshared: count.optional(),
  pages_volatile: count.optional(),
  pages_scanned: count.optional(),
  pages_skipped: count.optional(),
  ksm_zero_pages: count.optional(),
  general_profit: count.optional(),
});
/** what a `ksmStat` step expects to read from /proc/PID/ksm_stat */
export const KsmStatExpect = z.strictObject({
  ksm_rmap_items: count.optional(),
  ksm_zero_pages: count.optional(),
  ksm_merging_pages: count.optional(),
  ksm_process_profit: count.optional(),
});

export const ksmSteps = <B extends z.ZodRawShape>(base: B, pid: z.ZodString) => ({
  Ksm: z.strictObject({ op: z.literal('ksm'), ...KsmKnobs, expect: KsmSysfsExpect.optional(), ...base }),
  Ksmd: z.strictObject({
    op: z.literal('ksmd'),
    pages: z.number().int().min(0).optional(),
    fullScans: z.number().int().min(1).max(1000000).optional(),
    ...base,
  }),
  Prctl: z.strictObject({
    op: z.literal('prctl'),
    pid,
    option: z.literal('memoryMerge'),
    value: z.union([z.literal(0), z.literal(1)]).optional(),
    expect: z.union([z.literal(0), z.literal(1)]).optional(),
    ...base,
  }),
  KsmStat: z.strictObject({ op: z.literal('ksmStat'), pid, expect: KsmStatExpect.optional(), ...base }),
});
