/** `--queue URL` parsing (queue/connection.ts): user, password, db, TLS; the password never shown. */
import { describe, expect, it } from 'vitest';
import { parseQueueUrl, redisOptions } from '../src/queue/connection.js';

describe('--queue URL', () => {
  it('redis://user:password@host:port/db', () => {
    const a = parseQueueUrl('redis://mmsim:s%40cret@10.0.0.5:6390/3');
    expect(a).toEqual({
      host: '10.0.0.5',
      port: 6390,
      db: 3,
      username: 'mmsim',
      password: 's@cret',
      tls: false,
      shown: 'redis://mmsim:***@10.0.0.5:6390/3',
    });
    expect(redisOptions(a)).toMatchObject({ username: 'mmsim', password: 's@cret', db: 3, maxRetriesPerRequest: null });
    expect(redisOptions(a).tls).toBeUndefined();
  });

  it('rediss:// is TLS; a password without a user', () => {
    const a = parseQueueUrl('rediss://:pw@redis.example:6380');
    expect(a).toMatchObject({ host: 'redis.example', port: 6380, db: 0, password: 'pw', tls: true });
    expect(a.username).toBeUndefined();
    expect(a.shown).toBe('rediss://:***@redis.example:6380');
    expect(redisOptions(a).tls).toEqual({ servername: 'redis.example' });
  });

  it('reconnects after a restart: the retry delay grows to 2 s and never gives up', () => {
    const retry = redisOptions(parseQueueUrl('redis://127.0.0.1:6379')).retryStrategy!;
    expect([1, 2, 5, 10, 1000].map((n) => retry(n))).toEqual([200, 400, 1000, 2000, 2000]);
  });

  it.each([
    ['redis://u:hunter2@h', 'no port'],
    ['redis://u:hunter2@h:1/a', 'bad database "a"'],
    ['memcached://u:hunter2@h:1', 'unsupported scheme "memcached:"'],
    ['redis://u:hunter2@h:1?x=1', 'unexpected query or fragment'],
  ])('%s: exit-2 error without the password', (url, why) => {
    let err: Error | undefined;
    try {
      parseQueueUrl(url);
    } catch (e) {
      err = e as Error;
    }
    expect(err?.name).toBe('FlagError');
    expect(err?.message).toContain(why);
    expect(err?.message).toContain('u:***@h');
    expect(err?.message).not.toContain('hunter2');
  });
});
