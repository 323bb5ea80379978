/**
 * A file's text a line at a time, read in chunks: the lines of a file far larger than any one
 * string should be, without its whole bytes or text ever in memory (parse-yaml.ts).
 */
import type { Hash } from 'node:crypto';
import { readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

export const CHUNK = 1 << 20;

/**
 * The lines of the open file `fd`, each with its `\n` (the last without, if the file has none),
 * decoded as `Buffer.toString('utf8')` decodes the whole (invalid bytes become U+FFFD), without
 * a UTF-8 byte order mark. Every byte read also goes into `hash`.
 */
export function* fileLines(fd: number, hash?: Hash, chunk = CHUNK): Generator<string> {
  const buf = Buffer.allocUnsafe(chunk);
  const decoder = new StringDecoder('utf8');
  let carry = '';
  let first = true;
  for (;;) {
    const n = readSync(fd, buf, 0, chunk, null);
    let text = n > 0 ? decoder.write(buf.subarray(0, n)) : decoder.end();
    if (n > 0) hash?.update(buf.subarray(0, n));
    if (first && text.length > 0) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      first = false;
    }
    text = carry + text;
    let pos = 0;
    for (let eol = text.indexOf('\n'); eol >= 0; eol = text.indexOf('\n', pos)) {
      yield text.slice(pos, eol + 1);
      pos = eol + 1;
    }
    carry = text.slice(pos);
    if (n === 0) break;
  }
  if (carry.length > 0) yield carry;
}

/** YAML files shorter than this are parsed whole (parse-yaml.ts); longer ones in pieces. */
export const PIECES_MIN_LENGTH = 256 * 1024;
