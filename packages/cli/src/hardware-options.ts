/**
 * `--hardware H` when the file names another hardware: the file's `hardwareOptions` that H does
 * not accept are dropped (and said on stderr). A hardware module says which option names it
 * accepts by exporting `hardwareOptionNames` (x86 and arm64 do; flat takes `cpus` and `costs`);
 * each kept option is also tried alone on H's factory, so a value H rejects (arm64 has no
 * `profile: bare-metal`) is dropped too.
 */
import { BUILTIN_HARDWARE, hardwareFactory } from './hardware.js';
import { importModule, type ModuleNamespace } from './modules.js';

const FLAT_OPTIONS = ['cpus', 'costs'];

export interface DroppedOptions {
  kept: Record<string, unknown>;
  /** `name` or `name=value (why)` */
  dropped: string[];
}

async function loadHardwareModule(name: string): Promise<ModuleNamespace | undefined> {
  try {
    return Object.hasOwn(BUILTIN_HARDWARE, name)
      ? await BUILTIN_HARDWARE[name]!.load()
      : await importModule(name, process.cwd());
  } catch {
    return undefined; // composing the system reports it
  }
}

/** The option names hardware `name` accepts, or undefined when it does not say. */
export async function acceptedHardwareOptions(name: string): Promise<readonly string[] | undefined> {
  if (name === 'flat') return FLAT_OPTIONS;
  const mod = await loadHardwareModule(name);
  const names = mod?.hardwareOptionNames;
  return Array.isArray(names) ? (names as string[]) : undefined;
}

/** The options of `options` that hardware `name` accepts. */
export async function filterHardwareOptions(name: string, options: Record<string, unknown>): Promise<DroppedOptions> {
  const accepted = await acceptedHardwareOptions(name);
  const mod = name === 'flat' ? undefined : await loadHardwareModule(name);
  const factory = mod ? hardwareFactory(mod) : undefined;
  const kept: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(options)) {
    if (accepted && !accepted.includes(k)) {
      dropped.push(k);
      continue;
    }
    if (factory) {
      try {
        factory({ [k]: v });
      } catch (e) {
        const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
        dropped.push(`${k}=${JSON.stringify(v)} (${why})`);
        continue;
      }
    }
    kept[k] = v;
  }
  return { kept, dropped };
}
