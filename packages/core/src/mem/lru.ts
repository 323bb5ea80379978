/**
 * Per-CPU LRU batches (mm/swap.c: cpu_fbatches, PAGEVEC_SIZE 15 in 5.x, a folio_batch of 31
 * later) and the LRU lists they drain onto. Each batched folio holds one reference until
 * the batch is drained (folio_batch_move_lru → lru_add / lru_deactivate ...).
 */
export type LruBatchKind = 'add' | 'deactivate' | 'lazyfree' | 'activate';
export const LRU_BATCH_KINDS: readonly LruBatchKind[] = ['add', 'deactivate', 'lazyfree', 'activate'];

export class CpuLruBatches {
  readonly add: number[] = [];
  readonly deactivate: number[] = [];
  readonly lazyfree: number[] = [];
  readonly activate: number[] = [];
}
