// tsyringe needs the Reflect metadata polyfill before any decorated class is evaluated
import 'reflect-metadata';

/**
 * @mmsim/core: the machine model, the kernel mechanisms, the hook catalogue, DI composition
 * and the scenario runner.
 */
export * from './units.js';
export { FolioTable, PG, GUP_PIN_COUNTING_BIAS } from './mem/folios.js';
export { PhysMem, ZERO_PFN, HUGE_ZERO_PFN } from './mem/phys-mem.js';
export { SwapDevice, type SwapDeviceOptions } from './mem/swap.js';
export { LRU_BATCH_KINDS, type LruBatchKind } from './mem/lru.js';
export { PTE, PTE_HW_MASK } from './mm/pte.js';
export { PageTablePool } from './mm/page-table.js';
export { Vma, VM } from './mm/vma.js';
export { MmStruct } from './mm/mm-struct.js';
export { AnonVmaRegistry } from './mm/anon-vma.js';
export { Kernel, SimError } from './kernel/kernel.js';
export {
  KsmState,
  MmSlot,
  RmapItem,
  StableNode,
  STABLE,
  UNSTABLE,
  KSM_DEFAULTS,
  type KsmConfig,
} from './kernel/ksm-state.js';
export { ksmDoScan, ksmOf } from './kernel/ksm.js';
export { ksmSysfs, ksmStat } from './scenario/ops/ksm.js';
export { defaultKernelConfig, type KernelConfig, type ThpMode } from './kernel/config.js';
export {
  MIN_MEMORY_PAGES,
  calculateMinFreeKbytes,
  intSqrt,
  zoneWatermarks,
  type Watermarks,
} from './kernel/watermarks.js';
export { LRU, Lruvec } from './mem/lru.js';
export {
  LruGen,
  lruGenList,
  MIN_NR_GENS,
  MAX_NR_GENS,
  LRU_GEN_MASK,
  LRU_LIST_MASK,
  LRU_LIST_SHIFT,
} from './mem/lru-gen.js';
export {
  MemCgroup,
  MEMCG_EVENTS,
  MEMCG_FILE_EVENTS,
  ME,
  memcgByName,
  type MemcgConfig,
} from './kernel/memcontrol.js';
export { memcgFiles, type MemcgFiles } from './stats/memcg-files.js';
export { DEF_PRIORITY, ScanControl, SWAP_CLUSTER_MAX, shrinkNode } from './kernel/vmscan.js';
export { Cpu, Process, Thread, type PendingFault } from './kernel/task.js';
export { MmGather } from './kernel/tlb-gather.js';
export { userAccess, handleMmFault, defaultWpReuse, FaultResult, AccessResult } from './kernel/fault.js';
export { accessRange, accessRangePages, accessRangeProgress } from './kernel/fault-range.js';
export { forkProcess } from './kernel/fork.js';
export {
  hugePmdSlot,
  isPmdFault,
  followHugePmd,
  splitHugePmd,
  splitHugePmdAt,
  thpState,
  PMD_SHIFT,
} from './kernel/huge-memory.js';
export { hugePmdFault, defaultPmdReuse } from './kernel/huge-pmd-fault.js';
export { madviseCollapse } from './kernel/khugepaged.js';
export { runKhugepaged, khugepagedEnterVma } from './kernel/khugepaged-scan.js';
export { KHUGEPAGED_DEFAULTS, khugepagedKnobs, type KhugepagedKnobs } from './kernel/khugepaged-knobs.js';
export { validCowOrder, wpCopyRange, reusePteRange, mappingsInMm } from './kernel/large-folio.js';
export { zapRange, munmap, exitMmap, exitProcess, freePgtables } from './kernel/zap.js';
export { mmapAnon, splitVma, vmasForRange, mergeVmas } from './kernel/mmap.js';
export { madvise, ADVICES, type Advice } from './kernel/madvise.js';
export { mprotect, changeProtection, canChangePteWritable, type Prot } from './kernel/mprotect.js';
export { mremapMove } from './kernel/mremap.js';
export { reclaimFolios, tryToUnmap } from './kernel/reclaim.js';
export { pinUserPages, unpinUserPages, readPin, type Pin } from './kernel/gup.js';
export { uffdRegister, uffdCopy, uffdWriteProtect } from './kernel/userfaultfd.js';
export { pagemapEntry, PM, type PagemapEntry } from './kernel/pagemap.js';
export { createHooks, HOOK_SPECS, hookSpec, type Hooks, type HookKind, type HookSpec } from './hooks/catalogue.js';
export type { FlushKind, FlushRequest, TableUnshareRequest } from './hooks/contexts.js';
export { ForkCtx, ReclaimCtx } from './hooks/contexts.js';
export { VmFault } from './kernel/vm-fault.js';
export { TableApi } from './kernel/pgtable-share.js';

// ---- the policy API (versioned: POLICY_API_VERSION; docs/policy-api.md) ----
export { POLICY_API_VERSION, apiMismatch } from './api/version.js';
export type * from './api/views.js';
export type * from './api/contexts.js';
export type * from './api/hooks.js';
export type * from './api/tables.js';
export {
  definePlugin,
  defineService,
  type MmPlugin,
  type MmPluginFactory,
  type PolicyContext,
  type ServiceToken,
  type SystemKey,
  type DeepReadonly,
} from './api/plugin.js';
export { definePluginHooks } from './api/plugin-hooks.js';
export type { HardwareModel, HardwareFactoryOptions, HardwareFactory } from './hardware/hardware.js';
export { UNIT_COSTS, type CostProfile, type CostKey } from './hardware/cost-profile.js';
export { FlatHardware } from './hardware/flat.js';
export {
  MAX_CPUS,
  checkCpus,
  X86_64_TASK_SIZE,
  arm64TaskSize,
  taskSizeOf,
  formatBytes,
} from './hardware/limits.js';
export { Stats, CostClock } from './stats/stats.js';
export { C, CORE_COUNTERS, type CoreCounter } from './stats/counters.js';
export { meminfo, type Meminfo, type ProcessMeminfo } from './stats/meminfo.js';
export { TOKENS } from './di/tokens.js';
export { createSystem, resolvePolicies, type MmSystem, type SystemOptions } from './di/system.js';
export { resetKernelState } from './di/reset.js';
export {
  ASYNC_APPLY_DETAIL,
  PluginError,
  isKernelPlugin,
  showValue,
  type KernelPlugin,
  type AnyPlugin,
} from './di/plugin.js';
export { STAGE, setTapMonitor, type TapMonitor } from './di/instrument.js';
export { refHolders, lruBatchIndex, describeHolders, type RefHolders, type BatchHolder } from './explain/holders.js';
export {
  Explainer,
  HOLDER_KINDS,
  AVOIDABLE,
  type HolderKind,
  type Avoidable,
  type DecisionRecord,
  type AnswerSummary,
  type Decisions,
  type ExplainerOptions,
} from './explain/explainer.js';
export * from './scenario/schema.js';
export { ScenarioError, describePath, fromZod } from './scenario/errors.js';
export {
  runScenario,
  countSteps,
  countWork,
  checkScenarioBudget,
  checkStepBudget,
  DEFAULT_MAX_STEPS,
  prng,
  type RunResult,
  type RunOptions,
  type PhaseResult,
  type CheckFailure,
} from './scenario/runner.js';
export {
  OpExecutor,
  OP_HANDLERS,
  type OpExecutorOptions,
  type OpHandler,
  type OpName,
  type OpRegion,
  type StepOf,
} from './scenario/ops/executor.js';
export type { OpObserver, AccessStep, TouchStep, ReadPinStep } from './scenario/ops/observer.js';
export { AddressSpace, PageCache, filePageValue, nameSeed } from './mem/page-cache.js';
export { FAULT_AROUND_PAGES } from './kernel/file-fault.js';
