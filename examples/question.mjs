#!/usr/bin/env node
// Regenerates the README's "one question, one command" block: runs the mmsim compare command
// shown there (after pnpm build) and puts its terminal table between the markers.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ARGS = [
  'compare',
  'examples/forceswap/forceswap.yaml',
  '--kernel',
  'linux-5.9',
  '--hardware',
  'x86',
  '--hardware',
  'arm64',
  '--policy',
  '@mmsim-example/policy-eager-drain',
  '--counters',
  'tlb_remote_inval,cow_copy',
];
const out = execFileSync(process.execPath, [join(root, 'packages/cli/dist/bin.js'), ...ARGS], {
  cwd: root,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
});
const block = `\`\`\`console\n$ pnpm mmsim ${ARGS.join(' ')}\n${out.trimEnd()}\n\`\`\``;
const file = join(root, 'README.md');
const text = readFileSync(file, 'utf8');
const open = '<!-- mmsim:question -->';
const close = '<!-- /mmsim:question -->';
const a = text.indexOf(open);
const b = text.indexOf(close, a);
if (a < 0 || b < 0) throw new Error('README.md: mmsim:question markers not found');
writeFileSync(file, `${text.slice(0, a + open.length)}\n${block}\n${text.slice(b)}`);
console.log('README.md: question updated');
