/** One broken invariant or semantic expectation, with a message a human can act on. */
export interface Violation {
  /** short machine-readable class, e.g. 'refcount', 'mapcount', 'read', 'pin', 'tlb', 'leak' */
  kind: string;
  message: string;
}

/** Collects violations, capped so a badly broken state does not produce megabytes of text. */
export class ViolationList {
  readonly items: Violation[] = [];
  constructor(readonly limit = 20) {}
  add(kind: string, message: string): void {
    if (this.items.length < this.limit) this.items.push({ kind, message });
  }
  get ok(): boolean {
    return this.items.length === 0;
  }
}
