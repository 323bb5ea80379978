/**
 * The scenario file format (shared/spec/scenario-format.md), as zod schemas.
 * Extend freely; never rename or drop what the spec lists.
 */
import { z } from 'zod';
import { parseSize } from '../units.js';
import { ADVICES } from '../kernel/madvise.js';
import { GUARD_ADVICES } from '../kernel/guard-regions.js';
import { UFFD_FEATURE_NAMES, UFFD_IOCTL_NAMES } from '../kernel/uffd-ctx.js';
import { KsmSystem, ksmSteps } from './ksm-schema.js';

// z.number() rejects Infinity and NaN (YAML `.inf`, `.nan`) with a bare "Invalid input": the
// custom member lets every number through to the "not a size" check below
export const Size = z
  .union([z.number(), z.string(), z.custom<number>((v) => typeof v === 'number')])
  .superRefine((v, ctx) => {
    if (Number.isNaN(parseSize(v)))
      ctx.addIssue({
        code: 'custom',
        message: `not a size: ${typeof v === 'number' ? String(v) : JSON.stringify(v)} (use bytes or e.g. "4KiB", "2MiB", "1GiB")`,
      });
  });

const pid = z.string().min(1);
const phase = z.string().min(1).optional();
const range = {
  region: z.string().min(1),
  offset: Size.optional(),
  size: Size.optional(),
};
/**
 * What a step may expect to fail with (`expectError`): a syscall's errno, or the signal an
 * access raises. The run goes on after it (docs/scenario-format.md, "Expected errors").
 */
export const EXPECTED_ERRORS = [
  'EINVAL',
  'ENOMEM',
  'ENOENT',
  'EEXIST',
  'EFAULT',
  'EAGAIN',
  'EBUSY',
  'EPERM',
  'SIGSEGV',
  'SIGBUS',
] as const;
export type ExpectedError = (typeof EXPECTED_ERRORS)[number];
const base = {
  phase,
  cpu: z.number().int().nonnegative().optional(),
  expectError: z.enum(EXPECTED_ERRORS).optional(),
};

/** `cgroup`: the memory cgroup (a name of system.cgroups) the process starts in; children inherit it */
const Spawn = z.strictObject({ op: z.literal('spawn'), pid, cgroup: z.string().min(1).optional(), ...base });
const ThreadOp = z.strictObject({ op: z.literal('thread'), pid, ...base, spin: z.boolean().optional() });
const Mmap = z.strictObject({
  op: z.literal('mmap'),
  pid,
  name: z.string().min(1),
  size: Size,
  advice: z.enum(ADVICES).optional(),
  align: Size.optional(),
  prot: z.enum(['r', 'w', 'rw', 'none']).optional(),
  /** a file of the scenario's `files` (docs/scenario-format.md "Files and shared memory") */
  file: z.string().min(1).optional(),
  /** the file offset (bytes, page-aligned): vm_pgoff */
  offset: Size.optional(),
  /** MAP_SHARED (without `file`: MAP_SHARED|MAP_ANONYMOUS, shmem-backed); default MAP_PRIVATE */
  shared: z.boolean().optional(),
  /** MAP_POPULATE: __mm_populate() after mapping (kernel/populate.ts) */
  populate: z.boolean().optional(),
  ...base,
});
const Munmap = z.strictObject({ op: z.literal('munmap'), pid, ...range, ...base });
const Access = z.enum(['read', 'write']);
const Touch = z.strictObject({
  op: z.literal('touch'),
  pid,
  ...range,
  access: Access,
  stride: Size.optional(),
  value: z.number().int().optional(),
  /** visit order of the pages: sequential (default) or a seeded random permutation */
  pattern: z.enum(['sequential', 'random']).optional(),
  ...base,
});
const AccessOp = z.strictObject({
  op: z.literal('access'),
  pid,
  addr: z.union([z.number().int().nonnegative(), z.string().regex(/^0x[0-9a-fA-F]+$/)]).optional(),
  region: z.string().min(1).optional(),
  offset: Size.optional(),
  access: Access,
  value: z.number().int().optional(),
  expect: z.number().int().optional(),
  ...base,
});
/**
 * A batch of one-page accesses (a replayed trace's form, scenario/ops/accesses.ts):
 * `refs[i] = (page * 2 + write) * 256 + index into regions`
 */
const Accesses = z.strictObject({
  op: z.literal('accesses'),
  pid,
  regions: z.array(z.string().min(1)).min(1).max(256),
  refs: z.array(z.number().int().nonnegative()),
  ...base,
});
const Fork = z.strictObject({ op: z.literal('fork'), pid, child: pid, ...base });
const Exit = z.strictObject({ op: z.literal('exit'), pid, ...base });
const Madvise = z.strictObject({
  op: z.literal('madvise'),
  pid,
  ...range,
  advice: z.enum([...ADVICES, ...GUARD_ADVICES]),
  ...base,
});
const Mprotect = z.strictObject({
  op: z.literal('mprotect'),
  pid,
  ...range,
  prot: z.enum(['r', 'w', 'rw', 'none']),
  ...base,
});
const Mremap = z.strictObject({
  op: z.literal('mremap'),
  pid,
  region: z.string().min(1),
  offset: Size.optional(),
  size: Size.optional(),
  /** the region name of the result (required when it may move); alone: the move to a fresh place */
  to: z.string().min(1).optional(),
  /** new_len (default: the old size) */
  newSize: Size.optional(),
  /** MREMAP_MAYMOVE */
  mayMove: z.boolean().optional(),
  /** MREMAP_FIXED (with mayMove) to new_addr = that region's start + offset */
  fixed: z.strictObject({ region: z.string().min(1), offset: Size.optional() }).optional(),
  /** MREMAP_DONTUNMAP (with mayMove, newSize = size) */
  dontUnmap: z.boolean().optional(),
  ...base,
});
/** What a maps step expects of one VMA (smaps fields in bytes or sizes). */
export const MapsVmaExpect = z.strictObject({
  /** where the VMA starts: a region of the process and an offset in it */
  region: z.string().min(1).optional(),
  offset: Size.optional(),
  /** end - start */
  size: Size.optional(),
  perms: z
    .string()
    .regex(/^[r-][w-][x-][ps]$/)
    .optional(),
  rss: Size.optional(),
  anonymous: Size.optional(),
  anonHugePages: Size.optional(),
  swap: Size.optional(),
  sharedClean: Size.optional(),
  sharedDirty: Size.optional(),
  privateClean: Size.optional(),
  privateDirty: Size.optional(),
  locked: Size.optional(),
  lazyFree: Size.optional(),
  thpEligible: z.boolean().optional(),
  vmFlags: z.string().optional(),
});
export type MapsVmaExpect = z.infer<typeof MapsVmaExpect>;
/** /proc/PID/maps + smaps: the VMAs (of a region's range, or all), checked against expect */
const Maps = z.strictObject({
  op: z.literal('maps'),
  pid,
  region: z.string().min(1).optional(),
  offset: Size.optional(),
  size: Size.optional(),
  expect: z
    .strictObject({
      /** the number of VMAs listed */
      count: z.number().int().nonnegative().optional(),
      /** one per VMA listed, in address order */
      vmas: z.array(MapsVmaExpect).optional(),
    })
    .optional(),
  ...base,
});
const Pin = z.strictObject({
  op: z.literal('pin'),
  pid,
  ...range,
  write: z.boolean(),
  longterm: z.boolean().optional(),
  id: z.string().min(1),
  ...base,
});
const Unpin = z.strictObject({ op: z.literal('unpin'), id: z.string().min(1), ...base });
const ReadPin = z.strictObject({
  op: z.literal('readPin'),
  id: z.string().min(1),
  expect: z.union([z.number().int(), z.array(z.number().int())]).optional(),
  ...base,
});
const UffdMode = z.enum(['wp', 'missing', 'minor']);
const UffdRegister = z.strictObject({
  op: z.literal('uffdRegister'),
  pid,
  ...range,
  /** one mode or several (UFFDIO_REGISTER_MODE_MISSING | _WP | _MINOR); [] is no mode (EINVAL) */
  mode: z.union([UffdMode, z.array(UffdMode)]),
  /** expected uffdio_register.ioctls, every ioctl by name (a check, like `expect`) */
  ioctls: z.array(z.enum(UFFD_IOCTL_NAMES)).optional(),
  ...base,
});
/** UFFDIO_API: the handshake and its `features` (docs/scenario-format.md "userfaultfd") */
const UffdApi = z.strictObject({
  op: z.literal('uffdApi'),
  pid,
  features: z.array(z.enum(UFFD_FEATURE_NAMES)).optional(),
  api: z.number().int().optional(),
  ...base,
});
const UffdZeropage = z.strictObject({ op: z.literal('uffdZeropage'), pid, ...range, ...base });
const UffdUnregister = z.strictObject({ op: z.literal('uffdUnregister'), pid, ...range, ...base });
const UffdPoison = z.strictObject({ op: z.literal('uffdPoison'), pid, ...range, ...base });
/** UFFDIO_MOVE: the pages at `from` + `fromOffset` move to region + offset (`size` bytes) */
const UffdMove = z.strictObject({
  op: z.literal('uffdMove'),
  pid,
  ...range,
  from: z.string().min(1),
  fromOffset: Size.optional(),
  /** UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES */
  allowSrcHoles: z.boolean().optional(),
  ...base,
});
/** What a uffdRead expects of each message, in order (every field but `event` optional). */
export const UffdMsgExpect = z.strictObject({
  event: z.enum(['pagefault', 'fork', 'remap', 'remove', 'unmap']),
  /** pagefault: the faulting address as region + offset */
  region: z.string().min(1).optional(),
  offset: Size.optional(),
  write: z.boolean().optional(),
  wp: z.boolean().optional(),
  /** fork: the child's pid */
  child: z.string().min(1).optional(),
});
export type UffdMsgExpect = z.infer<typeof UffdMsgExpect>;
/** read(2) of the userfaultfd: takes every queued message; `expect` lists them all, in order */
const UffdRead = z.strictObject({
  op: z.literal('uffdRead'),
  pid,
  expect: z.array(UffdMsgExpect).optional(),
  ...base,
});
/** a FOLL_FORCE write (write(2) to /proc/PID/mem, ptrace POKEDATA) of `value` into one page */
const PokeMem = z.strictObject({
  op: z.literal('pokeMem'),
  pid,
  region: z.string().min(1),
  offset: Size.optional(),
  value: z.number().int(),
  ...base,
});
/** move_pages(2) / mbind(MPOL_MF_MOVE): migrate the anonymous pages of the range to new frames */
const Migrate = z.strictObject({ op: z.literal('migrate'), pid, ...range, ...base });
const UffdCopy = z.strictObject({
  op: z.literal('uffdCopy'),
  pid,
  ...range,
  wp: z.boolean().optional(),
  value: z.number().int().optional(),
  ...base,
});
const UffdWriteProtect = z.strictObject({
  op: z.literal('uffdWriteProtect'),
  pid,
  ...range,
  enable: z.boolean(),
  ...base,
});
/** What a pagemap step expects of each page (every field optional; `pfn` a label, see docs). */
export const PagemapExpect = z.strictObject({
  present: z.boolean().optional(),
  swapped: z.boolean().optional(),
  exclusive: z.boolean().optional(),
  softDirty: z.boolean().optional(),
  uffdWp: z.boolean().optional(),
  file: z.boolean().optional(),
  pmdMapped: z.boolean().optional(),
  /** /proc/kpageflags KPF_MLOCKED and KPF_UNEVICTABLE of the page's frame */
  mlocked: z.boolean().optional(),
  unevictable: z.boolean().optional(),
  /** /proc/kpageflags KPF_SWAPBACKED: false for a lazyfree (MADV_FREE) page */
  swapbacked: z.boolean().optional(),
  order: z.number().int().min(0).max(10).optional(),
  pfn: z.string().min(1).optional(),
  /** PM_GUARD_REGION: a guard marker (MADV_GUARD_INSTALL) */
  guard: z.boolean().optional(),
});
export type PagemapExpect = z.infer<typeof PagemapExpect>;
const Pagemap = z.strictObject({
  op: z.literal('pagemap'),
  pid,
  ...range,
  expect: z.union([PagemapExpect, z.array(PagemapExpect)]).optional(),
  ...base,
});
/** echo VALUE > /proc/PID/clear_refs: 1 (all) and 2 (anon) clear accessed bits, 4 soft-dirty */
const ClearRefs = z.strictObject({
  op: z.literal('clearRefs'),
  pid,
  value: z.union([z.literal(1), z.literal(2), z.literal(4)]),
  ...base,
});
/** read(2) / write(2) of whole pages of a scenario file (the page cache, no mapping) */
const FileIo = {
  pid,
  file: z.string().min(1),
  offset: Size.optional(),
  size: Size.optional(),
  ...base,
};
const Read = z.strictObject({ op: z.literal('read'), ...FileIo, expect: z.number().int().optional() });
const Write = z.strictObject({ op: z.literal('write'), ...FileIo, value: z.number().int().optional() });
const Drain = z.strictObject({ op: z.literal('drain'), ...base });
/**
 * `replay {trace, pid?}`: a program trace (docs/trace-format.md) replayed inside the scenario.
 * The scenario loader expands it into its steps before the run (@mmsim/program-trace's
 * expandReplaySteps(); the CLI does it): the runner never sees one.
 */
const Replay = z.strictObject({
  op: z.literal('replay'),
  trace: z.string().min(1),
  pid: pid.optional(),
  phase,
  /** phases started at the trace's 1st, 2nd, … `fork` record (e.g. a snapshot's fork: BGSAVE) */
  phaseAtFork: z.array(z.string().min(1)).optional(),
  /** phases started right after the trace's 1st, 2nd, … `fork` (the fork alone in phaseAtFork's phase) */
  phaseAfterFork: z.array(z.string().min(1)).optional(),
  /** an access outside every traced mapping maps its 2 MiB block (default true), or is skipped */
  implicitMappings: z.boolean().optional(),
  /** a foreign trace read through its importer: champsim, lackey, strace (docs/trace-format.md "Importers") */
  from: z.string().min(1).optional(),
});
/**
 * The khugepaged thread's scan passes (khugepaged_do_scan()): until khugepaged/full_scans has
 * advanced by `fullScans` (default 1), or `passes` passes; it ends early when khugepaged has no work
 */
const Khugepaged = z.strictObject({
  op: z.literal('khugepaged'),
  fullScans: z.number().int().min(1).max(1_000_000).optional(),
  passes: z.number().int().min(1).max(1_000_000).optional(),
  ...base,
});
/** user-mode work of the workload between its accesses, in cycles (charged as user cycles) */
const Compute = z.strictObject({
  op: z.literal('compute'),
  pid,
  cycles: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  ...base,
});
const Phase = z.strictObject({ op: z.literal('phase'), name: z.string().min(1), cpu: z.number().int().optional() });
/** mlock() / mlock2() (`onfault`: MLOCK_ONFAULT), munlock(), mlockall(), munlockall() (kernel/mlock.ts) */
const Mlock = z.strictObject({ op: z.literal('mlock'), pid, ...range, onfault: z.boolean().optional(), ...base });
const Munlock = z.strictObject({ op: z.literal('munlock'), pid, ...range, ...base });
const Mlockall = z.strictObject({
  op: z.literal('mlockall'),
  pid,
  /** MCL_CURRENT, MCL_FUTURE, MCL_ONFAULT */
  current: z.boolean().optional(),
  future: z.boolean().optional(),
  onfault: z.boolean().optional(),
  ...base,
});
const Munlockall = z.strictObject({ op: z.literal('munlockall'), pid, ...base });
/** process_madvise(pidfd of `target`, iovec of `ranges`, advice) called by `pid` (kernel/process-madvise.ts) */
const ProcessMadvise = z.strictObject({
  op: z.literal('processMadvise'),
  pid,
  target: pid,
  ranges: z.array(z.strictObject(range)).min(1),
  advice: z.enum(ADVICES),
  ...base,
});
/** KSM: ksm (sysfs), ksmd, prctl, ksmStat (ksm-schema.ts) */
const { Ksm, Ksmd, Prctl, KsmStat } = ksmSteps(base, pid);

export type Step =
  | z.infer<typeof Spawn>
  | z.infer<typeof ThreadOp>
  | z.infer<typeof Mmap>
  | z.infer<typeof Munmap>
  | z.infer<typeof Touch>
  | z.infer<typeof AccessOp>
  | z.infer<typeof Accesses>
  | z.infer<typeof Fork>
  | z.infer<typeof Exit>
  | z.infer<typeof Madvise>
  | z.infer<typeof Mprotect>
  | z.infer<typeof Mremap>
  | z.infer<typeof Pin>
  | z.infer<typeof Unpin>
  | z.infer<typeof ReadPin>
  | z.infer<typeof UffdRegister>
  | z.infer<typeof UffdCopy>
  | z.infer<typeof UffdWriteProtect>
  | z.infer<typeof UffdApi>
  | z.infer<typeof UffdZeropage>
  | z.infer<typeof UffdUnregister>
  | z.infer<typeof UffdPoison>
  | z.infer<typeof UffdMove>
  | z.infer<typeof UffdRead>
  | z.infer<typeof PokeMem>
  | z.infer<typeof Migrate>
  | z.infer<typeof Pagemap>
  | z.infer<typeof ClearRefs>
  | z.infer<typeof Maps>
  | z.infer<typeof Drain>
  | z.infer<typeof Replay>
  | z.infer<typeof Khugepaged>
  | z.infer<typeof Read>
  | z.infer<typeof Write>
  | z.infer<typeof Compute>
  | z.infer<typeof Phase>
  | z.infer<typeof Mlock>
  | z.infer<typeof Munlock>
  | z.infer<typeof Mlockall>
  | z.infer<typeof Munlockall>
  | z.infer<typeof ProcessMadvise>
  | z.infer<typeof Ksm>
  | z.infer<typeof Ksmd>
  | z.infer<typeof Prctl>
  | z.infer<typeof KsmStat>
  | { op: 'repeat'; times: number; steps: Step[]; phase?: string | undefined };

export const StepSchema: z.ZodType<Step> = z.lazy(() =>
  z.discriminatedUnion('op', [
    Spawn,
    ThreadOp,
    Mmap,
    Munmap,
    Touch,
    AccessOp,
    Accesses,
    Fork,
    Exit,
    Madvise,
    Mprotect,
    Mremap,
    Pin,
    Unpin,
    ReadPin,
    UffdRegister,
    UffdCopy,
    UffdWriteProtect,
    UffdApi,
    UffdZeropage,
    UffdUnregister,
    UffdPoison,
    UffdMove,
    UffdRead,
    PokeMem,
    Migrate,
    Pagemap,
    ClearRefs,
    Maps,
    Drain,
    Replay,
    Khugepaged,
    Read,
    Write,
    Compute,
    Phase,
    Mlock,
    Munlock,
    Mlockall,
    Munlockall,
    ProcessMadvise,
    Ksm,
    Ksmd,
    Prctl,
    KsmStat,
    z.strictObject({
      op: z.literal('repeat'),
      times: z.number().int().nonnegative(),
      steps: z.array(StepSchema),
      phase,
    }),
  ]),
) as z.ZodType<Step>;

export const OP_NAMES = [
  'spawn',
  'thread',
  'mmap',
  'munmap',
  'touch',
  'access',
  'accesses',
  'fork',
  'exit',
  'madvise',
  'mprotect',
  'mremap',
  'pin',
  'unpin',
  'readPin',
  'uffdRegister',
  'uffdCopy',
  'uffdWriteProtect',
  'uffdApi',
  'uffdZeropage',
  'uffdUnregister',
  'uffdPoison',
  'uffdMove',
  'uffdRead',
  'pokeMem',
  'migrate',
  'pagemap',
  'clearRefs',
  'maps',
  'drain',
  'replay',
  'khugepaged',
  'read',
  'write',
  'compute',
  'phase',
  'repeat',
  'mlock',
  'munlock',
  'mlockall',
  'munlockall',
  'processMadvise',
  'ksm',
  'ksmd',
  'prctl',
  'ksmStat',
] as const;

const ThpMode = z.enum(['always', 'inherit', 'madvise', 'never']);
const PluginRef = z.union([
  z.string().min(1),
  z.strictObject({ name: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }),
]);

export const SystemSchema = z.strictObject({
  hardware: z.string().min(1).optional(),
  hardwareOptions: z.record(z.string(), z.unknown()).optional(),
  kernel: z.string().min(1).optional(),
  kernelOptions: z.record(z.string(), z.unknown()).optional(),
  policies: z.array(PluginRef).optional(),
  thp: z.record(z.string(), ThpMode).optional(),
  swap: z
    .strictObject({
      synchronousIo: z.boolean().optional(),
      size: Size.optional(),
    })
    .optional(),
  memory: Size.optional(),
  /**
   * memory cgroups (v2) below the root, by name: memory.max, memory.high, memory.swap.max as
   * sizes or "max" (docs/scenario-format.md "Memory cgroups")
   */
  cgroups: z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a cgroup name: letters, digits, "_", "." and "-"'),
      z.strictObject({
        max: z.union([z.literal('max'), Size]).optional(),
        high: z.union([z.literal('max'), Size]).optional(),
        swapMax: z.union([z.literal('max'), Size]).optional(),
      }),
    )
    .optional(),
  /** /proc/sys/vm knobs reclaim reads (docs/scenario-format.md "Memory pressure") */
  vm: z
    .strictObject({
      swappiness: z.number().int().min(0).max(200).optional(),
      watermarkScaleFactor: z.number().int().min(1).max(3000).optional(),
      minFreeKbytes: z.number().int().min(128).optional(),
      /** /sys/kernel/mm/lru_gen/enabled (v6.1+ presets) */
      lruGen: z.boolean().optional(),
    })
    .optional(),
  lruBatchSize: z.number().int().min(1).max(4096).optional(),
  /** /sys/kernel/mm/transparent_hugepage/khugepaged/ knobs, by their sysfs names (docs/scenario-format.md "khugepaged") */
  khugepaged: z
    .strictObject({
      pages_to_scan: z
        .number()
        .int()
        .min(1)
        .max(1 << 30)
        .optional(),
      max_ptes_none: z.number().int().min(0).max(511).optional(),
      max_ptes_swap: z.number().int().min(0).max(511).optional(),
      max_ptes_shared: z.number().int().min(0).max(511).optional(),
      defrag: z.union([z.literal(0), z.literal(1)]).optional(),
    })
    .optional(),
  /** /sys/kernel/mm/ksm knobs at boot (docs/scenario-format.md "KSM") */
  ksm: KsmSystem.optional(),
});

/** Guards against runaway work (docs/scenario-format.md "Limits"). */
export const LimitsSchema = z.strictObject({
  /** the step budget: a scenario whose leaf steps (repeats multiplied out) exceed it is refused before it runs */
  maxSteps: z.number().int().positive().optional(),
});

/** A file of the scenario: its size, its contents seed (regular files), or shmem (tmpfs, memfd). */
export const FileSchema = z.strictObject({
  size: Size,
  /** page i holds filePageValue(seed, i); default: a hash of the file's name */
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  /** a shmem (tmpfs / memfd) file: zero-filled, swap-backed, no disk */
  shmem: z.boolean().optional(),
  /**
   * every page is in the page cache when the run starts (a warm cache: the libraries every
   * program maps), read before the first phase so no counter shows it
   */
  cached: z.boolean().optional(),
});

export const ScenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  system: SystemSchema.optional(),
  /** files by name (page cache, file mmap, shmem) */
  files: z.record(z.string().min(1), FileSchema).optional(),
  /** 0..2^32-1: the PRNG takes it modulo 2^32, so other values would alias one of these */
  seed: z.number().int().min(0).max(0xffffffff).optional(),
  limits: LimitsSchema.optional(),
  steps: z.array(StepSchema),
});

export type Scenario = z.infer<typeof ScenarioSchema>;
export type SystemSpec = z.infer<typeof SystemSchema>;
export type FileSpec = z.infer<typeof FileSchema>;
export type LimitsSpec = z.infer<typeof LimitsSchema>;
export type PluginRefSpec = z.infer<typeof PluginRef>;

/** Typed helper for `.ts` scenario modules: `export default defineScenario({...})`. */
export function defineScenario(s: Scenario): Scenario {
  return s;
}
