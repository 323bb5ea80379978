/**
 * The `--queue URL` of `mmsim worker`, `compare` and `check`: `redis://[user:password@]host:port[/db]`
 * or `rediss://` (TLS). A bad URL is an exit-2 FlagError; the password is never printed (shown()).
 * Connections reconnect after a Redis restart (ioredis retryStrategy) and BullMQ's blocking
 * commands need `maxRetriesPerRequest: null`.
 */
import { isIP } from 'node:net';
import type { Redis, RedisOptions } from 'ioredis';
import { FlagError } from '../flag-error.js';

export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** the URL with the password replaced by *** (for messages) */
  shown: string;
}

const USAGE = 'expected redis://[user:password@]host:port[/db] or rediss://... (TLS)';

/** Parse a `--queue` value. Throws FlagError (exit 2) naming the flag, never the password. */
export function parseQueueUrl(raw: string, flag = '--queue'): QueueAddress {
  let u: URL;
  const hidden = raw.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
  try {
    u = new URL(raw);
  } catch {
    throw new FlagError(flag, hidden, `not a URL (${USAGE})`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new FlagError(flag, hidden, `unsupported scheme "${u.protocol}" (${USAGE})`);
  if (!u.hostname) throw new FlagError(flag, hidden, `no host (${USAGE})`);
  if (!u.port) throw new FlagError(flag, hidden, `no port (${USAGE})`);
  const port = Number(u.port);
  const dbPart = u.pathname.replace(/^\//, '');
  if (dbPart !== '' && !/^\d+$/.test(dbPart)) throw new FlagError(flag, hidden, `bad database "${dbPart}" (${USAGE})`);
  if (u.search || u.hash) throw new FlagError(flag, hidden, `unexpected query or fragment (${USAGE})`);
  const username = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const shown = `${u.protocol}//${username ? `${username}${password ? ':***' : ''}@` : password ? ':***@' : ''}${u.host}${dbPart ? `/${dbPart}` : ''}`;
  return {
    host,
    port,
    db: dbPart ? Number(dbPart) : 0,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: u.protocol === 'rediss:',
    shown,
  };
}

/** ioredis options: reconnect forever (every 0.2..2 s), BullMQ-compatible. */
export function redisOptions(a: QueueAddress, extra: RedisOptions = {}): RedisOptions {
  return {
    host: a.host,
    port: a.port,
    db: a.db,
    ...(a.username ? { username: a.username } : {}),
    ...(a.password ? { password: a.password } : {}),
    // SNI names a host, never an IP address (RFC 6066); the certificate is checked either way
    // against Node's CAs (add one with NODE_EXTRA_CA_CERTS)
    ...(a.tls ? { tls: isIP(a.host) ? {} : { servername: a.host } } : {}),
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(200 * times, 2000),
    ...extra,
  };
}

export async function newRedis(a: QueueAddress, extra: RedisOptions = {}): Promise<Redis> {
  const { Redis } = await import('ioredis');
  return new Redis(redisOptions(a, extra));
}

/**
 * Connect once and PING, giving up after `timeoutMs`: an unreachable server or a wrong password
 * is a FlagError (exit 2) naming the URL without its password.
 */
export async function probeRedis(a: QueueAddress, flag = '--queue', timeoutMs = 5000): Promise<void> {
  let last = '';
  const r = await newRedis(a, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  r.on('error', (e: Error) => (last = e.message));
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    // the connection's own error (ECONNREFUSED, WRONGPASS) says more than "Connection is closed"
    const why = last || (e as Error).message;
    const auth = /WRONGPASS|NOAUTH|invalid password|invalid username/i.test(why);
    throw new FlagError(
      flag,
      a.shown,
      auth ? `Redis refused the credentials (${why.split('\n')[0]})` : `cannot reach Redis: ${why.split('\n')[0]}`,
    );
  } finally {
    r.disconnect();
  }
}

/** The BullMQ queue every mmsim producer and worker of one Redis database shares. */
export const QUEUE_NAME = 'mmsim';
/** Redis key prefixes (beside BullMQ's `bull:mmsim:*`) */
export const BLOB_PREFIX = 'mmsim:blob:';
export const WORKER_PREFIX = 'mmsim:worker:';

/** Stalled-job handling (ms): `MMSIM_QUEUE_STALLED_MS` (default 30000, BullMQ's) is the stalled-check interval; a job lock lasts twice that. */
export function stalledMs(env: Record<string, string | undefined> = process.env): number {
  const v = Number(env.MMSIM_QUEUE_STALLED_MS);
  return Number.isSafeInteger(v) && v >= 100 ? v : 30000;
}
