/**
 * Default padded tokens per session.run, from the model's width and the device. Activation memory
 * per token grows with the hidden size, so the budget shrinks as models widen: on CPU 4,096 tokens
 * at bge-small's 384 (e.g. 8 × 512 or 32 × 128 tokens), which keeps a long-text batch's attention
 * and feed-forward activations cache-sized instead of gigabytes; on a GPU 16,384 at 384 wide, the
 * default of text-embeddings-inference's max-batch-tokens. The profile's batch size stays the cap
 * on the count.
 */
export function defaultTokenBudget(provider: string, hidden: number): number {
  const atBgeSmall = provider === 'cpu' ? 4096 : 16384
  const floor = provider === 'cpu' ? 512 : 4096
  return Math.max(floor, Math.round((atBgeSmall * 384) / Math.max(1, hidden)))
}
