/**
 * One swap device (struct swap_info_struct): slots with a swap count (swap_map), the
 * stored contents of each slot, and the swap cache (slot → folio, the address_space of
 * mm/swap_state.c). A folio in the swap cache holds one reference per page.
 */
import { grown } from './typed.js';

export interface SwapDeviceOptions {
  /** Slots on the device (pages). 0 = no swap configured. */
  slots: number;
  /** SWP_SYNCHRONOUS_IO (pmem, zram): swap-in of an unshared entry may skip the swap cache. */
  synchronousIo: boolean;
}

export class SwapDevice {
  /** swap_map: references from PTEs (and fork duplicates) to each slot. */
  count: Uint16Array;
  /** SWAP_HAS_CACHE: the slot's folio is in the swap cache. */
  hasCache: Uint8Array;
  /** Swap cache: slot → PFN of the page caching it, -1 if none. */
  cache: Int32Array;
  /** Stored contents of each slot. */
  data: Uint32Array;
  /** zeromap: the slot holds a zero-filled page that was never written (v6.12+). */
  zeromap: Uint8Array;
  /** Shadow entries of reclaimed folios (mm/workingset.c; kernel/workingset.ts), 0 = none. */
  shadow: Float64Array;
  /** swap_cgroup: the memcg id each slot is charged to (memory.swap.current), 0 = root */
  memcg: Uint16Array;
  /** called when a slot is freed (mem_cgroup_uncharge_swap()), null without memcgs */
  onFreeSlot: ((slot: number) => void) | null = null;
  private freeSlots: number[] = [];
  private next = 0;
  used = 0;
  /** Pages currently in the swap cache (SwapCached). */
  cachedPages = 0;

  /** slots backed by arrays so far (they grow on demand up to opts.slots) */
  private capacity = 0;

  constructor(readonly opts: SwapDeviceOptions) {
    this.count = new Uint16Array(0);
    this.hasCache = new Uint8Array(0);
    this.cache = new Int32Array(0);
    this.data = new Uint32Array(0);
    this.zeromap = new Uint8Array(0);
    this.shadow = new Float64Array(0);
    this.memcg = new Uint16Array(0);
  }

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    let cap = Math.max(1024, this.capacity);
    while (cap < n) cap *= 2;
    cap = Math.min(cap, this.opts.slots);
    this.count = grown(this.count, cap);
    this.hasCache = grown(this.hasCache, cap);
    this.cache = grown(this.cache, cap, this.capacity, -1);
    this.data = grown(this.data, cap);
    this.zeromap = grown(this.zeromap, cap);
    this.shadow = grown(this.shadow, cap);
    this.memcg = grown(this.memcg, cap);
    this.capacity = cap;
  }

  get enabled(): boolean {
    return this.opts.slots > 0;
  }

  /** folio_alloc_swap(): nr contiguous slots (a cluster for large folios). -1 when full. */
  allocSlots(nr: number): number {
    if (nr === 1 && this.freeSlots.length > 0) {
      const s = this.freeSlots.pop()!;
      this.used++;
      return s;
    }
    const base = Math.ceil(this.next / nr) * nr;
    if (base + nr > this.opts.slots) {
      // fall back to scanning for a free aligned run
      this.ensure(this.opts.slots);
      for (let s = 0; s + nr <= this.opts.slots; s += nr) {
        let ok = true;
        for (let i = 0; i < nr; i++)
          if (this.count[s + i] !== 0 || this.hasCache[s + i] !== 0 || !this.isFree(s + i)) {
            ok = false;
            break;
          }
        if (ok) {
          for (let i = 0; i < nr; i++) this.takeFree(s + i);
          this.used += nr;
          return s;
        }
      }
      return -1;
    }
    for (let s = this.next; s < base; s++) this.freeSlots.push(s);
    this.next = base + nr;
    this.ensure(this.next);
    this.used += nr;
    return base;
  }

  private isFree(s: number): boolean {
    return s >= this.next || this.freeSlots.includes(s);
  }
  private takeFree(s: number): void {
    const i = this.freeSlots.indexOf(s);
    if (i >= 0) this.freeSlots.splice(i, 1);
    else if (s >= this.next) {
      for (let k = this.next; k < s; k++) this.freeSlots.push(k);
      this.next = s + 1;
    }
  }

  /** What a swap-in of the slot reads: zero for a zeromap slot, else the stored contents. */
  contents(slot: number): number {
    return this.zeromap[slot] === 1 ? 0 : (this.data[slot] ?? 0);
  }

  /** Free a slot whose count and cache flag are both zero (swap_entry_range_free). */
  maybeFree(slot: number): boolean {
    if (this.count[slot] === 0 && this.hasCache[slot] === 0) {
      this.zeromap[slot] = 0; // swap_range_free() clears the zeromap bit
      if (this.shadow[slot] !== 0) this.shadow[slot] = 0; // and the shadow (clear_shadow_from_swap_cache)
      if (this.onFreeSlot !== null) this.onFreeSlot(slot);
      this.freeSlots.push(slot);
      this.used--;
      return true;
    }
    return false;
  }
}
