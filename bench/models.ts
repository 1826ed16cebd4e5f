// Build time, file size, load time and one batch (8 × 128 tokens) for every builtin model; prints JSON.
import * as ort from 'onnxruntime-node'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBuiltinTo } from '../src/models/index.js'
const dir = await mkdtemp(join(tmpdir(), 'embedform-bench-'))
const results: Record<string, unknown>[] = []
for (const name of ['starter', 'starter-random', 'bert-tiny', 'cross-encoder-tiny', 'bge-small-shape']) {
  const rss0 = process.memoryUsage().rss
  const t = performance.now()
  const m = await buildBuiltinTo(name, join(dir, name))
  const buildMs = Math.round(performance.now() - t)
  const t2 = performance.now()
  const s = await ort.InferenceSession.create(join(m.dir, 'onnx/model.onnx'))
  const loadMs = Math.round(performance.now() - t2)
  const B = 8, S = 128
  const ids = new ort.Tensor('int64', BigInt64Array.from({ length: B * S }, (_, i) => BigInt(1000 + (i % 5000))), [B, S])
  const mask = new ort.Tensor('int64', new BigInt64Array(B * S).fill(1n), [B, S])
  const feeds: Record<string, ort.Tensor> = { input_ids: ids, attention_mask: mask }
  if (s.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(B * S), [B, S])
  await s.run(feeds)
  const t3 = performance.now()
  const out = await s.run(feeds)
  const runMs = Math.round(performance.now() - t3)
  results.push({ name, buildMs, bytes: m.manifest.onnx.bytes, loadMs, run_b8_s128_ms: runMs, outDims: Object.values(out)[0]!.dims, rssDeltaMB: Math.round((process.memoryUsage().rss - rss0) / 1e6) })
  await s.release()
}
console.log(JSON.stringify(results, null, 1))
await rm(dir, { recursive: true, force: true })
