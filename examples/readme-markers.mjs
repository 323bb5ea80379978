// The measured tables' place in a README: between `<!-- mmsim:MARKER -->` and
// `<!-- /mmsim:FIRST-WORD-OF-MARKER -->` (`<!-- mmsim:table fault-orders -->` … `<!-- /mmsim:table -->`).
// Every example generator (gen-readme.mjs, */gen.mjs, scale-out/measure.mjs) writes through this.
import { readFileSync, writeFileSync } from 'node:fs';

/** Replace what is between the markers in `file` with `body`; throws when a marker is missing. */
export function replaceMarked(file, marker, body, label = file) {
  const text = readFileSync(file, 'utf8');
  const open = `<!-- mmsim:${marker} -->`;
  const close = `<!-- /mmsim:${marker.split(' ')[0]} -->`;
  const a = text.indexOf(open);
  const b = text.indexOf(close, a);
  if (a < 0 || b < 0) throw new Error(`${label}: markers for ${marker} not found`);
  writeFileSync(file, `${text.slice(0, a + open.length)}\n${body.trim()}\n${text.slice(b)}`);
  console.log(`${label}: ${marker} updated`);
}
