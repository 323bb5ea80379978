import { z } from 'zod';
import { TraceFormatError } from './errors.js';
import { KINDS, PID_LIMIT, PROTS, type TraceHeader, type TraceRecord } from './records.js';

const id = z
  .number()
  .int()
  .min(0)
  .max(PID_LIMIT - 1);
/** byte addresses and lengths: non-negative integers below 2^53 */
const u53 = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const prot = z.enum(PROTS);
const base = { pid: id, tid: id.optional() };

const mmap = z.strictObject({
  t: z.literal('mmap'),
  ...base,
  addr: u53,
  len: u53,
  prot,
  shared: z.boolean().optional(),
  path: z.string().max(4096).optional(),
  offset: u53.optional(),
});
const munmap = z.strictObject({ t: z.literal('munmap'), ...base, addr: u53, len: u53 });
const mprotect = z.strictObject({ t: z.literal('mprotect'), ...base, addr: u53, len: u53, prot });
const mremap = z.strictObject({
  t: z.literal('mremap'),
  ...base,
  addr: u53,
  oldLen: u53,
  newLen: u53,
  newAddr: u53.optional(),
});
const madvise = z.strictObject({
  t: z.literal('madvise'),
  ...base,
  addr: u53,
  len: u53,
  advice: z.string().min(1).max(64),
});
const brk = z.strictObject({ t: z.literal('brk'), ...base, addr: u53 });
const fork = z.strictObject({ t: z.literal('fork'), ...base, child: id });
const clone = z.strictObject({ t: z.literal('clone'), ...base, newTid: id });
const exit = z.strictObject({ t: z.literal('exit'), ...base });
const exec = z.strictObject({ t: z.literal('exec'), ...base });
const end = z.strictObject({
  t: z.literal('end'),
  ...base,
  truncated: z.boolean().optional(),
  status: z.number().int().min(0).max(255).optional(),
  signal: z.string().min(1).max(32).optional(),
});
const cpu = z.strictObject({ t: z.literal('cpu'), ...base, cpu: z.number().int().min(0).max(65535) });
const access = z.strictObject({
  t: z.literal('access'),
  ...base,
  // page = address >> 12 of an address below 2^53
  page: z
    .number()
    .int()
    .min(0)
    .max(2 ** 41 - 1),
  w: z.boolean().optional(),
  n: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
});

export const recordSchema = z.discriminatedUnion('t', [
  mmap,
  munmap,
  mprotect,
  mremap,
  madvise,
  brk,
  fork,
  clone,
  exit,
  cpu,
  access,
  exec,
  end,
]);

export const headerSchema = z.looseObject({
  mmtrace: z.literal(1),
  cmd: z.array(z.string()).optional(),
  kernel: z.string().optional(),
  pageSize: z.number().int().positive().optional(),
  date: z.string().optional(),
  recorder: z.string().optional(),
  notes: z.array(z.string()).optional(),
});

function fail(file: string, where: string, err: z.ZodError, value: unknown): never {
  const issue = err.issues[0];
  const field = issue?.path.length ? issue.path.map(String).join('.') : undefined;
  if (issue?.code === 'invalid_union' && field === 't') {
    const t = (value as { t?: unknown }).t;
    throw new TraceFormatError(
      file,
      where,
      't',
      `unknown record kind ${JSON.stringify(t)} (one of ${KINDS.join(', ')})`,
    );
  }
  if (issue?.code === 'unrecognized_keys') {
    throw new TraceFormatError(file, where, issue.keys[0], 'unknown field');
  }
  throw new TraceFormatError(file, where, field, issue?.message ?? 'invalid');
}

/** Validate a parsed JSON value as a record; the error names the file, `where` and the field. */
export function parseRecord(value: unknown, file: string, where: string): TraceRecord {
  const r = recordSchema.safeParse(value);
  if (!r.success) fail(file, where, r.error, value);
  return r.data as TraceRecord;
}

export function parseHeader(value: unknown, file: string, where: string): TraceHeader {
  const r = headerSchema.safeParse(value);
  if (!r.success) fail(file, where, r.error, value);
  return value as TraceHeader;
}
