/**
 * What a preset's kernel does not have yet. A scenario that uses an interface newer than the
 * preset's `kernelVersion` is an error (exit 2): on the real kernel the sysfs file is missing
 * or the call fails with EINVAL, so a silent run would model a kernel that never existed.
 * docs/scenario-format.md ("Era rules") lists them; each cites the commit that added the
 * interface.
 */
import { presetKernelVersion, presetNames } from './index.js';

/** The parts of a scenario the rules read (a parsed scenario satisfies it). */
export interface EraScenario {
  system?:
    | {
        thp?: Record<string, unknown> | undefined;
        vm?: { lruGen?: boolean | undefined } | undefined;
        khugepaged?: { max_ptes_shared?: number | undefined; [knob: string]: unknown } | undefined;
        ksm?: { smart_scan?: unknown } | undefined;
      }
    | undefined;
  steps?: readonly unknown[] | undefined;
}

export interface EraProblem {
  /** `scenario` or `steps[3].steps[1]` */
  where: string;
  /** `system.thp.64K`, `advice` */
  field: string;
  detail: string;
}

export interface EraRule {
  readonly id: string;
  /** the first mainline release with the interface */
  readonly since: string;
  /** the commit that added it (12 hex digits) */
  readonly commit: string;
  /** what the interface is, for messages and docs */
  readonly what: string;
  /** where a scenario uses it */
  find(sc: EraScenario): Array<{ where: string; field: string; value: string }>;
}

interface StepLike {
  op?: unknown;
  smart_scan?: unknown;
  advice?: unknown;
  mode?: unknown;
  features?: unknown;
  wp?: unknown;
  steps?: unknown;
}

/** Every leaf or repeat step with its `steps[i].steps[j]` path. */
function* walkSteps(steps: readonly unknown[] | undefined, prefix = 'steps'): Generator<[string, StepLike]> {
  if (!Array.isArray(steps)) return;
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i] as StepLike;
    if (!s || typeof s !== 'object') continue;
    const where = `${prefix}[${i}]`;
    yield [where, s];
    if (s.op === 'repeat') yield* walkSteps(s.steps as unknown[] | undefined, `${where}.steps`);
  }
}

const madvise = (advice: string) => (sc: EraScenario) => {
  const out: Array<{ where: string; field: string; value: string }> = [];
  for (const [where, s] of walkSteps(sc.steps)) {
    if (s.op === 'madvise' && s.advice === advice) out.push({ where, field: 'advice', value: advice });
  }
  return out;
};

/** userfaultfd write-protect: a `wp` registration, UFFDIO_WRITEPROTECT, or UFFDIO_COPY_MODE_WP. */
const uffdWp = (sc: EraScenario) => {
  const out: Array<{ where: string; field: string; value: string }> = [];
  for (const [where, s] of walkSteps(sc.steps)) {
    if (s.op === 'uffdRegister' && s.mode === 'wp') out.push({ where, field: 'mode', value: 'wp' });
    else if (s.op === 'uffdWriteProtect') out.push({ where, field: 'op', value: 'uffdWriteProtect' });
    else if (s.op === 'uffdCopy' && s.wp === true) out.push({ where, field: 'wp', value: 'true' });
  }
  return out;
};

/** A userfaultfd interface: a feature of uffdApi, an op, or a register mode. */
const uffdUse =
  (what: { feature?: string; op?: string; mode?: string }) =>
  (sc: EraScenario): Array<{ where: string; field: string; value: string }> => {
    const out: Array<{ where: string; field: string; value: string }> = [];
    for (const [where, s] of walkSteps(sc.steps)) {
      if (what.feature && s.op === 'uffdApi' && Array.isArray(s.features) && s.features.includes(what.feature))
        out.push({ where, field: 'features', value: what.feature });
      if (what.op && s.op === what.op) out.push({ where, field: 'op', value: what.op });
      const modes = typeof s.mode === 'string' ? [s.mode] : Array.isArray(s.mode) ? s.mode : [];
      if (what.mode && s.op === 'uffdRegister' && modes.includes(what.mode))
        out.push({ where, field: 'mode', value: what.mode });
    }
    return out;
  };
/** `madvise` and `processMadvise` steps and `mmap` steps' `advice` with one of `advices`. */
const adviceIn = (advices: readonly string[]) => (sc: EraScenario) => {
  const out: Array<{ where: string; field: string; value: string }> = [];
  for (const [where, s] of walkSteps(sc.steps)) {
    if ((s.op === 'madvise' || s.op === 'mmap' || s.op === 'processMadvise') && advices.includes(s.advice as string))
      out.push({ where, field: 'advice', value: s.advice as string });
  }
  return out;
};

export const ERA_RULES: readonly EraRule[] = Object.freeze([
  {
    // mm/uffd: UFFD_FEATURE_WP_UNPOPULATED
    id: 'uffd-wp-unpopulated',
    since: '6.4',
    commit: '2bad466cc9d9',
    what: 'UFFD_FEATURE_WP_UNPOPULATED',
    find: uffdUse({ feature: 'wp_unpopulated' }),
  },
  {
    // mm: userfaultfd: add new UFFDIO_POISON ioctl
    id: 'uffd-poison',
    since: '6.6',
    commit: 'fc71884a5f59',
    what: 'UFFDIO_POISON (UFFD_FEATURE_POISON)',
    find: (sc) => [...uffdUse({ feature: 'poison' })(sc), ...uffdUse({ op: 'uffdPoison' })(sc)],
  },
  {
    // userfaultfd: UFFDIO_MOVE uABI
    id: 'uffd-move',
    since: '6.8',
    commit: 'adc30b2a1bbf',
    what: 'UFFDIO_MOVE (UFFD_FEATURE_MOVE)',
    find: (sc) => [...uffdUse({ feature: 'move' })(sc), ...uffdUse({ op: 'uffdMove' })(sc)],
  },
  {
    // userfaultfd: add minor fault registration mode
    id: 'uffd-minor',
    since: '5.13',
    commit: '7677f7fd8be7',
    what: 'userfaultfd minor faults (UFFDIO_REGISTER_MODE_MINOR)',
    find: uffdUse({ mode: 'minor' }),
  },
  {
    id: 'mthp-sysfs',
    since: '6.8',
    commit: '3485b88390b0',
    what: 'per-size mTHP switches (/sys/kernel/mm/transparent_hugepage/hugepages-<size>kB/enabled)',
    find: (sc) =>
      Object.keys(sc.system?.thp ?? {})
        .filter((k) => k !== 'top')
        .map((k) => ({ where: 'scenario', field: `system.thp.${k}`, value: k })),
  },
  {
    // mm: multi-gen LRU: kill switch (/sys/kernel/mm/lru_gen/enabled, the MGLRU series of v6.1)
    id: 'lru-gen',
    since: '6.1',
    commit: '354ed5974429',
    what: 'multi-gen LRU (/sys/kernel/mm/lru_gen/enabled)',
    find: (sc) =>
      sc.system?.vm?.lruGen === true ? [{ where: 'scenario', field: 'system.vm.lruGen', value: 'true' }] : [],
  },
  {
    // khugepaged: introduce 'max_ptes_shared' tunable
    id: 'max-ptes-shared',
    since: '5.8',
    commit: '71a2c112a0f6',
    what: 'khugepaged/max_ptes_shared',
    find: (sc) =>
      sc.system?.khugepaged?.max_ptes_shared !== undefined
        ? [
            {
              where: 'scenario',
              field: 'system.khugepaged.max_ptes_shared',
              value: String(sc.system?.khugepaged?.max_ptes_shared),
            },
          ]
        : [],
  },
  {
    // mm/madvise: introduce MADV_POPULATE_(READ|WRITE) to prefault page tables
    id: 'madv-populate',
    since: '5.14',
    commit: '4ca9b3859dac',
    what: 'MADV_POPULATE_READ / MADV_POPULATE_WRITE',
    find: adviceIn(['populate_read', 'populate_write']),
  },
  {
    // mm/madvise: introduce process_madvise() syscall: an external memory hinting API
    id: 'process-madvise',
    since: '5.10',
    commit: 'ecb8ac8b1f14',
    what: 'process_madvise()',
    find: (sc) => {
      const out: Array<{ where: string; field: string; value: string }> = [];
      for (const [where, s] of walkSteps(sc.steps))
        if (s.op === 'processMadvise') out.push({ where, field: 'op', value: 'processMadvise' });
      return out;
    },
  },
  {
    // mm/madvise: introduce MADV_DONTNEED_LOCKED
    id: 'madv-dontneed-locked',
    since: '5.18',
    commit: '9457056ac426',
    what: 'MADV_DONTNEED_LOCKED',
    find: adviceIn(['dontneed_locked']),
  },
  {
    id: 'madv-collapse',
    since: '6.1',
    commit: '7d8faaf15545',
    what: 'MADV_COLLAPSE',
    find: madvise('collapse'),
  },
  {
    // userfaultfd: wp: add the writeprotect API to userfaultfd ioctl (UFFDIO_COPY_MODE_WP is the same v5.7 series)
    id: 'uffd-wp',
    since: '5.7',
    commit: '63b2d4174c4a',
    what: 'userfaultfd write-protect (UFFDIO_REGISTER_MODE_WP, UFFDIO_WRITEPROTECT, UFFDIO_COPY_MODE_WP)',
    find: uffdWp,
  },
  {
    // mm: madvise: implement lightweight guard page mechanism
    id: 'madv-guard-install',
    since: '6.13',
    commit: '662df3e5c376',
    what: 'MADV_GUARD_INSTALL (guard regions)',
    find: madvise('guard_install'),
  },
  {
    id: 'madv-guard-remove',
    since: '6.13',
    commit: '662df3e5c376',
    what: 'MADV_GUARD_REMOVE (guard regions)',
    find: madvise('guard_remove'),
  },
  {
    // mm: add new api to enable ksm per process (PR_SET_MEMORY_MERGE / PR_GET_MEMORY_MERGE)
    id: 'prctl-memory-merge',
    since: '6.4',
    commit: 'd7597f59d1d3',
    what: 'prctl(PR_SET_MEMORY_MERGE / PR_GET_MEMORY_MERGE)',
    find: (sc) => {
      const out: Array<{ where: string; field: string; value: string }> = [];
      for (const [where, s] of walkSteps(sc.steps))
        if (s.op === 'prctl') out.push({ where, field: 'op', value: 'prctl' });
      return out;
    },
  },
  {
    // mm/ksm: add smart page scanning (/sys/kernel/mm/ksm/smart_scan)
    id: 'ksm-smart-scan',
    since: '6.7',
    commit: '5e924ff54d08',
    what: 'KSM smart scan (/sys/kernel/mm/ksm/smart_scan)',
    find: (sc) => {
      const out: Array<{ where: string; field: string; value: string }> = [];
      if (sc.system?.ksm?.smart_scan !== undefined)
        out.push({ where: 'scenario', field: 'system.ksm.smart_scan', value: String(sc.system.ksm.smart_scan) });
      for (const [where, s] of walkSteps(sc.steps))
        if (s.op === 'ksm' && s.smart_scan !== undefined)
          out.push({ where, field: 'smart_scan', value: String(s.smart_scan) });
      return out;
    },
  },
  {
    // ksm: count allocated ksm rmap_items for each process (/proc/PID/ksm_stat)
    id: 'ksm-stat',
    since: '6.1',
    commit: 'cb4df4cae4f2',
    what: '/proc/PID/ksm_stat',
    find: (sc) => {
      const out: Array<{ where: string; field: string; value: string }> = [];
      for (const [where, s] of walkSteps(sc.steps))
        if (s.op === 'ksmStat') out.push({ where, field: 'op', value: 'ksmStat' });
      return out;
    },
  },
  {
    // mm: introduce MADV_COLD
    id: 'madv-cold',
    since: '5.4',
    commit: '9c276cc65a58',
    what: 'MADV_COLD',
    find: madvise('cold'),
  },
  {
    // mm: introduce MADV_PAGEOUT
    id: 'madv-pageout',
    since: '5.4',
    commit: '1a4e58cce84e',
    what: 'MADV_PAGEOUT',
    find: madvise('pageout'),
  },
]);

/** Compare dotted release numbers: '5.19' < '6.1'. */
function older(a: string, b: string): boolean {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0;
  }
  return false;
}

/** "; use linux-6.8 or later": the oldest preset that has the interface. */
function suggest(since: string): string {
  let best: [string, string] | undefined;
  for (const name of presetNames()) {
    const v = presetKernelVersion(name);
    if (v === undefined || older(v, since) || !/^linux-[\d.]+$/.test(name)) continue;
    if (!best || older(v, best[1])) best = [name, v];
  }
  return best ? `; use ${best[0]} or later` : '';
}

/** The era rules a scenario breaks on `preset` (none when the preset names no version). */
export function eraProblems(preset: string, sc: EraScenario): EraProblem[] {
  const version = presetKernelVersion(preset);
  if (version === undefined) return [];
  const out: EraProblem[] = [];
  for (const rule of ERA_RULES) {
    if (!older(version, rule.since)) continue;
    for (const u of rule.find(sc)) {
      out.push({
        where: u.where,
        field: u.field,
        detail: `kernel preset "${preset}" (v${version}) has no ${rule.what}: it arrived in v${rule.since} (${rule.commit})${suggest(rule.since)}`,
      });
    }
  }
  return out;
}
