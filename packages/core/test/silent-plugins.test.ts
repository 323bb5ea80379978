import { describe, expect, it } from 'vitest';
import { PluginError, ScenarioError, type MmPlugin } from '../src/index.js';
import { flatSystem } from './helpers.js';

/** The error createSystem throws with `p` as the only extra policy. */
function loadError(p: unknown): Error {
  try {
    flatSystem(1, { policies: [p as MmPlugin] });
  } catch (e) {
    return e as Error;
  }
  throw new Error('the system was created');
}

const ASYNC =
  'its apply() returned a Promise: apply must be synchronous (do asynchronous set-up in the module, e.g. an async factory, which is awaited at load time)';

describe('plugins that used to fail silently or late are load errors naming the plugin', () => {
  it('an async apply() that rejects: a load error, and its rejection is not left unhandled', async () => {
    const e = loadError({
      name: 'async-apply',
      api: '^1.0.0',
      async apply() {
        throw new Error('async apply failed');
      },
    });
    expect(e).toBeInstanceOf(PluginError);
    expect(e.message).toBe(`plugin "async-apply" cannot load: ${ASYNC}`);
    expect((e as PluginError).kind).toBe('load');
    // a rejection nobody handled would fail this test file (vitest reports unhandled rejections)
    await new Promise((r) => setTimeout(r, 10));
  });

  it('a plain apply() returning a Promise that resolves is refused too (its hooks would be tapped after setup)', () => {
    const e = loadError({ name: 'later', api: '^1.0.0', apply: () => Promise.resolve() });
    expect(e.message).toBe(`plugin "later" cannot load: ${ASYNC}`);
  });

  it('a name getter that throws: a load error, not an internal TypeError', () => {
    const e = loadError({
      get name(): string {
        throw new Error('no name today');
      },
      api: '^1.0.0',
      apply() {},
    });
    expect(e).toBeInstanceOf(PluginError);
    expect(e.message).toBe('plugin "(unnamed)" cannot load: reading its name threw: no name today');
  });

  it("a ScenarioError thrown by apply (the composer's guarded apply) is passed on, not wrapped", () => {
    const err = new ScenarioError('x.yaml', 'scenario', 'system.policies[0]', 'plugin "g" failed while applying: no');
    const e = loadError({
      name: 'g',
      api: '^1.0.0',
      apply() {
        throw err;
      },
    });
    expect(e).toBe(err);
  });
});
