/**
 * The hooks a scaffold can tap: core's hook catalogue (HOOK_SPECS, hooks/catalogue.ts), and the
 * tap each one gets: it counts its calls and leaves the answer to the kernel preset.
 */
import { HOOK_SPECS, type HookKind } from '@mmsim/core';

/** The hook a scaffold taps when `--hook` is not given. */
export const DEFAULT_HOOK = 'fault.wpReuse';

/** The kernel function each hook models (docs/policy-api.md), for the generated comments. */
const MODELS: Readonly<Record<string, string>> = {
  'fault.entered': 'handle_mm_fault() entered',
  'fault.exited': 'handle_mm_fault() returned',
  'fault.anonOrders': 'thp_vma_allowable_orders(): the orders a new anonymous folio may have',
  'fault.beforeWpReuse': 'do_wp_page(), before the reuse decision: side effects (drain, free swap cache)',
  'fault.wpReuse': 'do_wp_page(): reuse the write-protected anonymous page in place, or copy it',
  'fault.cowOrder': 'wp_page_copy(): the order of the replacement folio',
  'fault.swapinWritable': 'do_swap_page(): map the swapped-in page writable at once',
  'fault.swapinSkipCache': 'do_swap_page(): skip the swap cache (SWP_SYNCHRONOUS_IO)',
  'fault.gupUnshare': 'gup_must_unshare(): unshare before a read-only FOLL_PIN',
  'fault.handled': 'after every handled fault',
  'fork.pteTable': 'copy_page_range(): per PTE table, copy it or share it',
  'fork.page': 'copy_present_pte(): share the page or copy it into the child now',
  'fork.unshareTable': 'a shared PTE table is about to be modified',
  'fork.done': 'dup_mmap() finished',
  'reclaim.shouldReclaim': 'shrink_folio_list(): reclaim this folio?',
  'reclaim.unmapFlush': 'try_to_unmap(): batch the TLB flush or flush each PTE',
  'reclaim.reclaimed': 'a folio was freed by reclaim',
  'tlbFlush.request': 'flush_tlb_mm_range() and the other TLB flushes the kernel asks for',
  'pgtable.freed': 'free_pte_range(), free_pgtables(): a page-table page left an address space',
  'pte.beforeChange': 'PTEs are about to change frame or permission',
  'pte.afterSet': 'set_ptes(): PTEs were installed or changed',
  'sched.switchMm': 'switch_mm(): a CPU switched address space',
  'mm.created': 'mm_alloc(): an address space was created (spawn, fork)',
  'mm.destroyed': 'exit_mmap(): an address space was torn down',
};

export interface HookInfo {
  /** 'group.name', as HOOK_SPECS and `mmsim list hooks` name it */
  name: string;
  group: string;
  member: string;
  kind: HookKind;
  /** the answers it takes ('nothing' for notifications) */
  expected: string;
  /** the kernel function it models, when known here */
  models: string | null;
}

/** Every hook of core's catalogue, in catalogue order. */
export function knownHooks(): HookInfo[] {
  return Object.entries(HOOK_SPECS).map(([name, spec]) => {
    const dot = name.indexOf('.');
    return {
      name,
      group: name.slice(0, dot),
      member: name.slice(dot + 1),
      kind: spec.kind,
      expected: spec.expected,
      models: MODELS[name] ?? null,
    };
  });
}

/** The hooks named by `--hook` (deduplicated, in the order given; none: DEFAULT_HOOK), or the unknown ones. */
export function selectHooks(names: readonly string[]): { hooks: HookInfo[] } | { unknown: string[] } {
  const known = new Map(knownHooks().map((h) => [h.name, h]));
  const wanted = names.length === 0 ? [DEFAULT_HOOK] : [...new Set(names)];
  const unknown = wanted.filter((n) => !known.has(n));
  if (unknown.length > 0) return { unknown };
  return { hooks: wanted.map((n) => known.get(n)!) };
}

/** `fault.wpReuse` → `fault_wp_reuse`: the counter suffix of a hook's tap. */
export function counterSuffix(hook: string): string {
  return hook
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .toLowerCase();
}

/** `fault.wpReuse` → `faultWpReuse`: the variable holding a tap's counter. */
function counterVar(hook: string): string {
  return hook.replace(/\.([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The counter a scaffold's tap on `hook` increments. */
export function counterName(prefix: string, hook: string): string {
  return `${prefix}_${counterSuffix(hook)}`;
}

/** The source of one tap (indented for the body of `apply`): count the call, pass the decision on. */
export function tapSource(h: HookInfo, plugin: string, prefix: string, indent = '      '): string {
  const v = counterVar(h.name);
  const head = [`// ${h.name} (${h.kind})${h.models ? `: ${h.models}` : ''}`];
  let fn: string;
  if (h.kind === 'bail') {
    head.push(`// answers: ${h.expected}`, "// (undefined: the next tap, e.g. the kernel preset's rule, decides)");
    fn = `(ctx) => {\n  ${v}.inc();\n  return undefined;\n}`;
  } else if (h.kind === 'waterfall') {
    head.push(`// value: ${h.expected}`, '// return it refined (unchanged: the value so far stands)');
    fn = `(value) => {\n  ${v}.inc();\n  return value;\n}`;
  } else {
    head.push('// a notification: the return value is ignored');
    fn = `() => {\n  ${v}.inc();\n}`;
  }
  const lines = [
    ...head,
    `const ${v} = stats.define('${counterName(prefix, h.name)}');`,
    `hooks.${h.group}.${h.member}.tap('${plugin}', ${fn});`,
  ];
  return lines
    .join('\n')
    .split('\n')
    .map((l) => indent + l)
    .join('\n');
}
