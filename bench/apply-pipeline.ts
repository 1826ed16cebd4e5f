/**
 * Apply pipeline overlap: how much of the write time hides behind encoding. Runs applyPlan over
 * the in-memory store with a fixed encode cost and write cost per batch (stand-ins for
 * session.run and a COPY + UPDATE round trip), and compares the backfill's wall time with the
 * sequential sum. Also reports the engine's own overhead with zero-cost encode and write.
 * Prints one JSON object.
 *
 *   npx vite-node bench/apply-pipeline.ts
 *   BENCH_ROWS=20000 BENCH_ENCODE_MS=30 BENCH_WRITE_MS=20 npx vite-node bench/apply-pipeline.ts
 */
import { applyPlan } from '../src/apply/index.js'
import type { Collection } from '../src/core/types.js'
import { makePlan } from '../src/plan/index.js'
import type { VectorRow } from '../src/store/adapter.js'
import { MemoryAdapter, memoryWorld, rows, testCollection, testProfile } from '../tests/helpers/memory-adapter.js'

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000)
const BATCH = Number(process.env.BENCH_BATCH ?? 500)
const ENCODE_MS = Number(process.env.BENCH_ENCODE_MS ?? 20)
const WRITE_MS = Number(process.env.BENCH_WRITE_MS ?? 20)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

class TimedWrites extends MemoryAdapter {
  constructor(private readonly writeMs: number) {
    super()
  }
  override async write(c: Collection, g: number, r: VectorRow[]): Promise<void> {
    if (this.writeMs > 0) await sleep(this.writeMs)
    return super.write(c, g, r)
  }
}

async function backfillMs(encodeMs: number, writeMs: number): Promise<number> {
  const adapter = new TimedWrites(writeMs)
  const w = memoryWorld({
    profiles: [testProfile('bench', { dimensions: 384, index: { ...testProfile('x').index, pgvector: { type: 'none', m: 16, efConstruction: 64 } } })],
    collections: [testCollection('docs', 'bench')],
    adapter,
    encoder: {
      onBatch: async () => {
        if (encodeMs > 0) await sleep(encodeMs)
      },
    },
  })
  adapter.seed('docs', rows(ROWS))
  let ms = 0
  w.ctx.onEvent = (e) => {
    if (e.type === 'step-end' && e.step.endsWith('/backfill')) ms = e.ms
  }
  await applyPlan(w.ctx, await makePlan(w.ctx), { batchSize: BATCH })
  return ms
}

const batches = Math.ceil(ROWS / BATCH)
const overhead = await backfillMs(0, 0)
const pipelined = await backfillMs(ENCODE_MS, WRITE_MS)
const sequential = batches * (ENCODE_MS + WRITE_MS)
const ideal = batches * Math.max(ENCODE_MS, WRITE_MS) + Math.min(ENCODE_MS, WRITE_MS)

console.log(
  JSON.stringify(
    {
      rows: ROWS,
      batchSize: BATCH,
      batches,
      encodeMsPerBatch: ENCODE_MS,
      writeMsPerBatch: WRITE_MS,
      engineOverhead: { backfillMs: overhead, rowsPerSecond: Math.round(ROWS / Math.max(overhead / 1000, 1e-3)) },
      backfillMs: pipelined,
      sequentialSumMs: sequential,
      perfectOverlapMs: ideal,
      hiddenWriteFraction: Number(((sequential - pipelined) / (batches * Math.min(ENCODE_MS, WRITE_MS))).toFixed(2)),
    },
    null,
    2,
  ),
)
