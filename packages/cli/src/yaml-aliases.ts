/** The YAML half of the loader limits (limits.ts): how far a document's aliases may expand. */
import { isAlias, isCollection, isPair, isScalar, type Document, type Node } from 'yaml';
import { errorAt, MAX_ALIAS_NODES } from './limits.js';

/**
 * Throw when the YAML document's aliases would expand past MAX_ALIAS_NODES nodes (a "billion
 * laughs" file), or an alias refers to a node that contains it. Linear in the document size.
 */
export function checkAliases(file: string, doc: Document): void {
  const size = new Map<Node, number>();
  const busy = new Set<Node>();
  let total = 0;
  // the nodes an alias stands for: its anchor's subtree, aliases inside counted expanded
  const sizeOf = (n: unknown, path: PropertyKey[]): number => {
    if (isAlias(n)) {
      const target = n.resolve(doc);
      if (!target) throw errorAt(file, path, `YAML alias *${n.source} has no anchor &${n.source} before it`);
      if (busy.has(target)) throw errorAt(file, path, `YAML alias *${n.source} refers to a node that contains it`);
      const known = size.get(target);
      if (known !== undefined) return known;
      busy.add(target);
      const s = sizeOf(target, path);
      busy.delete(target);
      size.set(target, s);
      return s;
    }
    if (isPair(n)) return Math.min(MAX_ALIAS_NODES + 1, 1 + sizeOf(n.key, path) + sizeOf(n.value, path));
    if (isCollection(n)) {
      let s = 1;
      for (const item of n.items) {
        s += sizeOf(item, path);
        if (s > MAX_ALIAS_NODES) return MAX_ALIAS_NODES + 1;
      }
      return s;
    }
    return isScalar(n) ? 1 : 0;
  };
  // walk the document (not through aliases), keeping the key path for the message
  const walk = (n: unknown, path: PropertyKey[]): void => {
    const todo: Array<{ n: unknown; path: PropertyKey[] }> = [{ n, path }];
    while (todo.length > 0) {
      const { n: x, path: p } = todo.pop()!;
      if (isAlias(x)) {
        total += sizeOf(x, p);
        if (total > MAX_ALIAS_NODES)
          throw errorAt(
            file,
            p,
            `YAML aliases expand to more than ${MAX_ALIAS_NODES} nodes (the loader's limit; an "alias bomb"?)`,
          );
      } else if (isPair(x)) {
        const k = isScalar(x.key) ? x.key.value : x.key;
        todo.push({ n: x.value, path: [...p, typeof k === 'number' ? k : String(k)] });
        todo.push({ n: x.key, path: p });
      } else if (isCollection(x)) {
        const seq = !x.items.some(isPair);
        for (let i = x.items.length - 1; i >= 0; i--) todo.push({ n: x.items[i], path: seq ? [...p, i] : p });
      }
    }
  };
  walk(doc.contents, []);
}
