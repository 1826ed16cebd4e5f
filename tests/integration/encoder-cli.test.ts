import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureBuiltinModel } from '../../src/models/index.js'
import { runCli, writeProject } from '../helpers/cli.js'
import { type HfServer, startHfServer } from '../helpers/hf-server.js'

/** The built CLI (`npm run build` first) on a project whose default profile is the GloVe starter. */
describe('encode, bench, models list/pull', () => {
  let dir: string
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    await Promise.all([ensureBuiltinModel('starter'), ensureBuiltinModel('bert-tiny')])
    dir = await mkdtemp(join(tmpdir(), 'embedform-enc-cli-'))
    writeProject(dir, { kind: 'pglite', path: join(dir, 'pglite') }, 'starter')
    env = { EMBEDDING_PROFILE: 'starter' }
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('encode: JSONL in, one {"id","vector"} per line out, in input order', async () => {
    const input = ['{"id":"a","text":"machine learning"}', '"neural networks"', 'pizza recipe', ''].join('\n')
    const r = await runCli(['encode'], { cwd: dir, env, input })
    expect(r.stderr).toContain('encoded 3 texts with starter on cpu')
    expect(r.code).toBe(0)
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; vector: number[] })
    expect(rows.map((x) => x.id)).toEqual(['a', 2, 3])
    for (const row of rows) expect(row.vector).toHaveLength(100)
  })

  it('encode --output FILE --json prints a summary; --model/--dimensions override the profile', async () => {
    const out = join(dir, 'out.jsonl')
    await writeFile(join(dir, 'in.jsonl'), 'one\ntwo\n')
    const r = await runCli(['encode', '--input', 'in.jsonl', '--output', out, '--model', 'builtin:bert-tiny', '--dimensions', '16', '--json'], { cwd: dir, env })
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ profile: 'starter', texts: 2, dimensions: 16, provider: 'cpu' })
    const lines = (await readFile(out, 'utf8')).trim().split('\n')
    expect(lines.map((l) => (JSON.parse(l) as { vector: number[] }).vector.length)).toEqual([16, 16])
  })

  it('encode: a bad line is exit 2 naming the line', async () => {
    const r = await runCli(['encode'], { cwd: dir, env, input: 'fine\n{"id":2}\n' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('error[E_INPUT_TEXT] <stdin>:2')
  })

  it('encode --device cuda here is E_CUDA_UNAVAILABLE with the install command, exit 2', async () => {
    const r = await runCli(['encode', '--device', 'cuda', '--json'], { cwd: dir, env, input: 'x\n' })
    expect(r.code).toBe(2)
    const out = JSON.parse(r.stdout) as { error: { code: string; hint: string } }
    expect(out.error.code).toBe('E_CUDA_UNAVAILABLE')
    expect(out.error.hint).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node')
  })

  it('bench --json reports texts/s and latencies per batch size, peak RSS and provider', async () => {
    const r = await runCli(['bench', '--batch-sizes', '4,1', '--texts', '8', '--json'], { cwd: dir, env })
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as { provider: string; peakRssMiB: number; results: { batchSize: number; textsPerSecond: number; p50Ms: number; p95Ms: number }[] }
    expect(report.provider).toBe('cpu')
    expect(report.peakRssMiB).toBeGreaterThan(0)
    expect(report.results.map((x) => x.batchSize)).toEqual([1, 4])
    for (const x of report.results) {
      expect(x.textsPerSecond).toBeGreaterThan(0)
      expect(x.p95Ms).toBeGreaterThanOrEqual(x.p50Ms)
    }
  })

  it('bench --json compares variants in child processes: throughput, CPU, RSS, waste, load, int8 quality', async () => {
    const variants = 'embedform-fp32,embedform-fp32-count,embedform-int8,transformersjs-fp32-sorted'
    const r = await runCli(['bench', '--variants', variants, '--texts', '24', '--rounds', '1', '--json'], { cwd: dir, env, timeoutMs: 240_000 })
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as {
      rounds: number
      loadAverage1m: { median: number }
      variants: Record<string, { textsPerSecond: { median: number }; cpuSecondsPer1000Texts: number; peakRssMiB: number; paddedTokenWastePct?: number }>
      ratios: Record<string, { median: number }>
      quality: Record<string, { min: number }>
    }
    expect(Object.keys(report.variants).sort()).toEqual(variants.split(',').sort())
    for (const v of Object.values(report.variants)) {
      expect(v.textsPerSecond.median).toBeGreaterThan(0)
      expect(v.cpuSecondsPer1000Texts).toBeGreaterThan(0)
      expect(v.peakRssMiB).toBeGreaterThan(0)
    }
    expect(report.variants['embedform-fp32-count']?.paddedTokenWastePct).toBeGreaterThanOrEqual(0)
    expect(report.variants['transformersjs-fp32-sorted']?.paddedTokenWastePct).toBeUndefined()
    expect(report.ratios['token budget / count (fp32)']?.median).toBeGreaterThan(0)
    expect(report.quality['cosine embedform-int8 vs embedform-fp32']?.min).toBeGreaterThan(0.999)
    expect(report.quality['cosine transformersjs-fp32 vs embedform-fp32']?.min).toBeGreaterThan(0.99)
    expect(report.loadAverage1m.median).toBeGreaterThanOrEqual(0)
  }, 300_000)

  it('bench rejects an unknown variant as bad input', async () => {
    const r = await runCli(['bench', '--variants', 'embedform-fp64'], { cwd: dir, env })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('unknown benchmark variant: embedform-fp64')
  })

  describe('models pull / list against a local Hub', () => {
    let server: HfServer
    let cache: string
    beforeAll(async () => {
      server = await startHfServer('acme/tiny', await ensureBuiltinModel('bert-tiny'), 'v1')
      cache = await mkdtemp(join(tmpdir(), 'embedform-enc-cache-'))
    })
    afterAll(async () => {
      await server.close()
      await rm(cache, { recursive: true, force: true })
    })

    it('pull downloads into the cache, list shows it with its size', async () => {
      const hubEnv = { ...env, HF_ENDPOINT: server.endpoint, EMBEDFORM_CACHE_DIR: cache }
      const pull = await runCli(['models', 'pull', 'hf:acme/tiny@v1', '--json'], { cwd: dir, env: hubEnv })
      expect(pull.code).toBe(0)
      expect(JSON.parse(pull.stdout)).toMatchObject({ source: 'hf:acme/tiny@v1', dir: join(cache, 'models', 'hf', 'acme--tiny', 'v1') })
      const list = await runCli(['models', 'list', '--json'], { cwd: dir, env: hubEnv })
      const models = (JSON.parse(list.stdout) as { models: { source: string; cached: boolean; bytes: number }[] }).models
      expect(models.find((m) => m.source === 'hf:acme/tiny@v1')).toMatchObject({ cached: true, bytes: expect.any(Number) })
      expect(models.find((m) => m.source === 'hf:acme/tiny@v1')?.bytes).toBeGreaterThan(1000)
      expect(models.map((m) => m.source)).toContain('builtin:starter')
    })

    it('pull offline of an uncached model is exit 2 naming the missing file', async () => {
      const r = await runCli(['models', 'pull', 'hf:acme/other@v1'], { cwd: dir, env: { ...env, HF_ENDPOINT: server.endpoint, EMBEDFORM_CACHE_DIR: cache, HF_HUB_OFFLINE: '1' } })
      expect(r.code).toBe(2)
      expect(r.stderr).toContain('error[E_MODEL_NOT_CACHED]')
      expect(r.stderr).toContain('tokenizer.json of hf:acme/other@v1')
    })
  })
})
