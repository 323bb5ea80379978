/**
 * A bad command-line value (`--set`, `--var`, `--policy`, `--kernel` of compare, ...): printed as
 * `mmsim: --flag value: detail`, exit 2.
 */
export class FlagError extends Error {
  constructor(
    readonly flag: string,
    readonly value: string,
    readonly detail: string,
  ) {
    super(flag ? `${flag} ${value}: ${detail}` : detail);
    this.name = 'FlagError';
  }
}

export function isFlagError(e: unknown): e is FlagError {
  return e instanceof Error && e.name === 'FlagError';
}
