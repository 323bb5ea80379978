/**
 * Tap instrumentation: order (enforce / precedence), attribution of exceptions to plugins, and
 * validation of answers against each hook's spec (hooks/catalogue.ts HOOK_SPECS).
 */
import { HookMap } from 'tapable';
import { hookSpec, type HookSpec, type Hooks } from '../hooks/catalogue.js';
import type { Enforce } from '../api/hooks.js';
import type { SystemKey } from '../api/plugin.js';
import { PluginError } from './plugin.js';

/** The plugin being applied while taps are made. */
export interface Applying {
  name: string;
  enforce: Enforce | undefined;
  /** 'override': an extra policy, whose answers win over the preset's on every kind of hook */
  precedence: 'normal' | 'override';
}

/** tapable stages: pre runs first, post last; the preset runs at 0. */
export const STAGE = Object.freeze({ pre: -100, normal: 0, post: 100 });

interface TapInfo {
  name: string;
  stage?: number;
  enforce?: Enforce;
  fn: (...args: unknown[]) => unknown;
  type: string;
}
type AnyHook = {
  intercept(i: { register?: (tap: TapInfo) => TapInfo }): void;
  taps: unknown[];
  isUsed(): boolean;
};

/**
 * Intercept `h` with a register-only interceptor. tapable counts interceptors in isUsed(), so
 * without this every instrumented hook would look tapped and each `if (h.isUsed()) h.call({...})`
 * site would build its event object on every call; a register interceptor changes no call, so
 * "used" means "has taps".
 */
function interceptRegister(h: AnyHook, register: (tap: TapInfo) => TapInfo): void {
  h.intercept({ register });
  h.isUsed = () => h.taps.length > 0;
  shareCompiled(h as unknown as CompilingHook);
}

/** What tapable's Hook compiles from (Hook#_createCall) and the instance fields its code reads. */
interface CompileOptions {
  taps: ReadonlyArray<{ type: string; context?: boolean; fn: unknown }>;
  interceptors: ReadonlyArray<Record<string, unknown>>;
  args: readonly string[];
  type: string;
}
interface CompilingHook {
  compile(options: CompileOptions): (...args: unknown[]) => unknown;
  _x?: unknown[];
}

/** The interceptor members tapable's HookCodeFactory generates code for (`register` is not one). */
const CODEGEN_MEMBERS = ['call', 'tap', 'loop', 'error', 'result', 'done'] as const;

/**
 * tapable's compiled `call` functions by what their code depends on. A hook compiles its `call`
 * (HookCodeFactory.create: code generation and `new Function`) on its first call after a tap;
 * every system has its own hooks, so `mmsim check`, which composes a system per fuzzing run,
 * paid that for every hook a run calls. The generated code reads the taps through `this._x`,
 * `this.taps` and `this.interceptors` only, and its text is a function of the hook's class, the
 * call type, the argument names, each tap's type and `context` flag and which code-generating
 * members each interceptor has: with the same key, the same function serves every hook.
 */
const compiled = new Map<string, (...args: unknown[]) => unknown>();

/**
 * Set to true on globalThis to compile every hook's own `call` again, as tapable does alone (an
 * internal switch: @mmsim/check's equivalence test runs the same fuzzing runs both ways).
 */
const UNSHARED = Symbol.for('mmsim.internal.unsharedHookCode');

function compileKey(h: CompilingHook, o: CompileOptions): string {
  let key = `${(h as { constructor?: { name?: string } }).constructor?.name ?? '?'}|${o.type}|${o.args.join(',')}|`;
  for (const t of o.taps) key += `${t.type}${t.context ? '+c' : ''},`;
  key += '|';
  for (const i of o.interceptors) {
    for (const m of CODEGEN_MEMBERS) if (i[m] !== undefined) key += m[0];
    key += i.context ? '+c,' : ',';
  }
  return key;
}

function shareCompiled(h: CompilingHook): void {
  const compile = h.compile;
  if (typeof compile !== 'function') return;
  h.compile = function (this: CompilingHook, o: CompileOptions) {
    if ((globalThis as Record<symbol, unknown>)[UNSHARED] === true) return compile.call(this, o);
    const key = compileKey(this, o);
    const fn = compiled.get(key);
    if (fn === undefined) {
      const made = compile.call(this, o);
      // tapable's setup() put the tap functions in `_x`; only then is the code known to read them there
      if (Array.isArray(this._x)) compiled.set(key, made);
      return made;
    }
    // HookCodeFactory.setup(): the tap functions the compiled code calls
    const fns = new Array<unknown>(o.taps.length);
    for (let i = 0; i < o.taps.length; i++) fns[i] = o.taps[i]!.fn;
    this._x = fns;
    return fn;
  };
}

/** Stage for a tap: explicit stage, else the tap's or plugin's enforce, else the precedence. */
function stageOf(tap: TapInfo, a: Applying, spec: HookSpec): number {
  if (tap.stage !== undefined) return tap.stage;
  const e = tap.enforce ?? a.enforce;
  if (e) return STAGE[e];
  if (a.precedence === 'override') return spec.kind === 'waterfall' ? STAGE.post : STAGE.pre;
  return STAGE.normal;
}

/**
 * A watcher of plugin taps (`mmsim check` sets one while it builds its systems): which taps
 * run, for how long, and what they answer. Off (null) by default: a tap is wrapped with the
 * watcher only if one is set when the tap is made, so `mmsim run` pays nothing for it.
 */
export interface TapMonitor {
  /** an id (>= 0) to watch this tap with, or -1 not to watch it */
  register(plugin: string, hook: string, precedence: Applying['precedence']): number;
  /** the tap is called */
  enter(id: number): void;
  /** the tap returned `answer` (undefined when it threw) to a call with `args` */
  exit(id: number, answer: unknown, args: readonly unknown[]): void;
}

let monitor: TapMonitor | null = null;

/**
 * The plugin whose tap last answered a bail hook (explain/explainer.ts reads it right after a
 * decision hook's call, having cleared it before): one store per answering tap.
 */
let lastDecider = '';

/**
 * `--explain` for the bail hooks whose call sites record no folio (fork.*, reclaim.*,
 * fault.swapinSkipCache): each tap answer is passed here while a sink is set (explain/explainer.ts).
 */
export type AnswerSink = (hook: string, plugin: string, answer: unknown) => void;
let answerSink: AnswerSink | null = null;
/** The hooks whose call sites record their decisions themselves (with the folio's references). */
const SITE_RECORDED = new Set(['fault.wpReuse', 'fault.swapinWritable', 'fault.gupUnshare']);

/** Set (or clear, with null) where tap answers go; returns the previous sink. */
export function setAnswerSink(s: AnswerSink | null): AnswerSink | null {
  const prev = answerSink;
  answerSink = s;
  return prev;
}

/** Forget the last answering plugin (before a decision hook is called). */
export function clearDecider(): void {
  lastDecider = '';
}
/** The plugin whose tap answered the bail hook called since clearDecider(), or '' if none did. */
export function decider(): string {
  return lastDecider;
}

/** Set (or clear, with null) the tap watcher of taps made from now on; returns the previous one. */
export function setTapMonitor(m: TapMonitor | null): TapMonitor | null {
  const prev = monitor;
  monitor = m;
  return prev;
}

/** `fn` with the watcher's enter/exit around each call. */
function watched(m: TapMonitor, id: number, fn: (...args: unknown[]) => unknown) {
  return function (this: unknown, ...args: unknown[]) {
    m.enter(id);
    let r: unknown;
    try {
      r = fn.apply(this, args);
    } finally {
      m.exit(id, r, args);
    }
    return r;
  };
}

function registerFor(hookName: string, applying: Applying) {
  const spec = hookSpec(hookName);
  return (tap: TapInfo): TapInfo => {
    const plugin = applying.name === '(after setup)' ? tap.name : applying.name;
    if (tap.enforce !== undefined && tap.enforce !== 'pre' && tap.enforce !== 'post') {
      throw new PluginError(
        plugin,
        hookName,
        new Error(`tap option enforce must be 'pre' or 'post'`),
        tap.enforce,
        'load',
      );
    }
    tap.stage = stageOf(tap, applying, spec);
    if (tap.type !== 'sync') return tap;
    const m = monitor;
    const id = m ? m.register(plugin, hookName, applying.precedence) : -1;
    const fn = id >= 0 ? watched(m!, id, tap.fn) : tap.fn;
    const validate = spec.kind !== 'notify';
    const bail = spec.kind === 'bail';
    const sinkable = bail && !SITE_RECORDED.has(hookName);
    tap.fn = function (this: unknown, ...args: unknown[]) {
      let r: unknown;
      try {
        r = fn.apply(this, args);
      } catch (e) {
        if (e instanceof PluginError) throw e;
        throw new PluginError(plugin, hookName, e);
      }
      if (validate) {
        const why = spec.check(r, args);
        if (why !== null) throw new PluginError(plugin, hookName, new Error(why), r, 'answer');
      }
      if (bail && r !== undefined) {
        lastDecider = plugin;
        if (sinkable && answerSink !== null) answerSink(hookName, plugin, r);
      }
      return r;
    };
    return tap;
  };
}

/** Instrument a group of hooks ('fault' → every hook in it, HookMaps included). */
export function instrumentGroup(prefix: string, group: Record<string, unknown>, applying: Applying): void {
  for (const [name, h] of Object.entries(group)) {
    if (h instanceof HookMap) {
      h.intercept({
        factory: (key, created) => {
          interceptRegister(
            created as unknown as AnyHook,
            registerFor(`${prefix}${name}.for(${String(key)})`, applying),
          );
          return created as never;
        },
      });
    } else if (h && typeof (h as AnyHook).intercept === 'function') {
      interceptRegister(h as AnyHook, registerFor(`${prefix}${name}`, applying));
    }
  }
}

const applyingOf = new WeakMap<SystemKey, Applying>();

/** The system's catalogue: every hook ordered, attributed and validated. */
export function instrumentHooks(hooks: Hooks, applying: Applying, key: SystemKey): void {
  applyingOf.set(key, applying);
  for (const [group, g] of Object.entries(hooks)) {
    if (g instanceof HookMap) instrumentGroup('', { [group]: g }, applying);
    else instrumentGroup(`${group}.`, g as Record<string, unknown>, applying);
  }
}

/** The applying-plugin record of a system (for plugin-owned hooks). */
export function applyingFor(key: SystemKey): Applying | undefined {
  return applyingOf.get(key);
}
