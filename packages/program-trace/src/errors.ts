/** A malformed trace: names the file, the line (JSON Lines) or record index (binary), and the field. */
export class TraceFormatError extends Error {
  constructor(
    readonly file: string,
    /** `line 3` (JSON Lines), `record 17` / `header` (binary) */
    readonly where: string,
    readonly field: string | undefined,
    readonly detail: string,
  ) {
    super(`${file}: ${where}${field ? ` field "${field}"` : ''}: ${detail}`);
    this.name = 'TraceFormatError';
  }
}
