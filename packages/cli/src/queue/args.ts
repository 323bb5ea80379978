/** The check arguments a queue job rewrites: `--out DIR`, `--kernel`, `--seed`. */

/** `--out DIR` (or `--out=DIR`) of check arguments */
export function outDirOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out') return args[i + 1];
    if (args[i]!.startsWith('--out=')) return args[i]!.slice('--out='.length);
  }
  return undefined;
}

/** args without these flags and their values (`--flag V` or `--flag=V`) */
export function withoutFlags(args: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (flags.includes(a)) i++;
    else if (!flags.some((f) => a.startsWith(`${f}=`))) out.push(a);
  }
  return out;
}
