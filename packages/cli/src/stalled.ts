/**
 * The CLI's net for user code that never settles. The loaders await modules through
 * @mmsim/check's settleOrStall (a stalled top-level await or Promise default export is a load
 * error naming the module); what they cannot see — e.g. a scenario module's async factory whose
 * Promise never settles — would leave the event loop empty and end the process with exit 13 and
 * no message. bin.ts and run-worker.ts await the command through guardStalled(): when the loop
 * empties first, it prints one line naming the module loaded last and the command exits 2.
 */
import { settleOrStall } from '@mmsim/check/compose';

let last: string | undefined;

/** Called by importFile with each module it loads (the one a stall most likely comes from). */
export function loadingModule(file: string): void {
  last = file;
}

class Stalled extends Error {}

/** The command's exit code; 2 (after one line on `stderr`) when it can never finish. */
export async function guardStalled(command: Promise<number>, stderr: { write(s: string): unknown }): Promise<number> {
  try {
    return await settleOrStall(command, () => new Stalled(), { outermost: true });
  } catch (e) {
    if (!(e instanceof Stalled)) throw e;
    stderr.write(
      `mmsim: ${last ? `${last}: ` : ''}a Promise ${last ? 'this module made' : 'of a plugin or scenario module'} never settles (the event loop emptied while awaiting it)\n`,
    );
    return 2; // EXIT.badInput
  }
}
