/**
 * The job trees of `mmsim worker`: a temporary directory holding a job's files at the producer's
 * absolute paths (`mmsim-job-<worker pid>-XXXXXX`). The runs of one compare read the same files,
 * so a tree is made once per set of files and kept for the next jobs that name the same set
 * (at most MAX_KEPT idle trees); a run only reads its tree. A check job writes its findings into
 * its tree, so it gets one of its own, removed after it. The job processes import a kept tree's
 * plugin modules once, as a local compare's worker threads do.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { fetchBlobs, sha256 } from './payload.js';

const JOB_DIR = 'mmsim-job-';
const MAX_KEPT = 8;

interface Tree {
  root: string;
  ready: Promise<void>;
  users: number;
  lastUsed: number;
}

export interface TreeLease {
  root: string;
  release(): Promise<void>;
}

export class JobTrees {
  private readonly kept = new Map<string, Tree>();
  private clock = 0;

  constructor(private readonly redis: Redis) {}

  /** The tree of `files` (absolute path → sha256) with `cwd` made; `own`: a fresh one, removed on release. */
  async acquire(files: Record<string, string>, cwd: string, own: boolean): Promise<TreeLease> {
    if (own) {
      const root = await this.make(files, cwd);
      return { root, release: () => rm(root, { recursive: true, force: true }) };
    }
    const key = sha256(JSON.stringify([cwd, files]));
    let t = this.kept.get(key);
    if (!t) {
      const made = this.make(files, cwd);
      t = { root: '', ready: made.then((r) => void (t!.root = r)), users: 0, lastUsed: 0 };
      this.kept.set(key, t);
      made.catch(() => this.kept.delete(key));
    }
    t.users++;
    try {
      await t.ready;
    } catch (e) {
      t.users--;
      throw e;
    }
    const tree = t;
    return {
      root: tree.root,
      release: async () => {
        tree.users--;
        tree.lastUsed = ++this.clock;
        await this.evict();
      },
    };
  }

  /** every kept tree (the worker stops) */
  async close(): Promise<void> {
    const all = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(all.map((t) => t.ready.then(() => rm(t.root, { recursive: true, force: true })).catch(() => {})));
  }

  private async make(files: Record<string, string>, cwd: string): Promise<string> {
    const root = await mkdtemp(path.join(os.tmpdir(), `${JOB_DIR}${process.pid}-`));
    try {
      for (const [f, b] of await fetchBlobs(this.redis, files)) {
        const at = path.join(root, f);
        await mkdir(path.dirname(at), { recursive: true });
        await writeFile(at, b);
      }
      await mkdir(path.join(root, cwd), { recursive: true });
      return root;
    } catch (e) {
      await rm(root, { recursive: true, force: true });
      throw e;
    }
  }

  /** the least recently used idle trees beyond MAX_KEPT */
  private async evict(): Promise<void> {
    while (this.kept.size > MAX_KEPT) {
      let oldest: [string, Tree] | undefined;
      for (const e of this.kept)
        if (e[1].users === 0 && e[1].root && (!oldest || e[1].lastUsed < oldest[1].lastUsed)) oldest = e;
      if (!oldest) return;
      this.kept.delete(oldest[0]);
      await rm(oldest[1].root, { recursive: true, force: true });
    }
  }
}

/** The trees of workers that were killed (SIGKILL: no cleanup ran): their pid is gone. */
export async function removeDeadTrees(): Promise<void> {
  const tmp = os.tmpdir();
  for (const e of await readdir(tmp).catch(() => [] as string[])) {
    const m = /^mmsim-job-(\d+)-/.exec(e);
    if (!m || alive(Number(m[1]))) continue;
    await rm(path.join(tmp, e), { recursive: true, force: true }).catch(() => {});
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
