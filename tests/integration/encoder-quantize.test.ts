import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fingerprint } from '../../src/core/fingerprint.js'
import type { Profile } from '../../src/core/types.js'
import { cosine, openEncoder } from '../../src/encoder/index.js'
import { ensureBuiltinModel } from '../../src/models/index.js'
import { loadPassages } from '../../src/sample/spam-corpus.js'
import { runCli, writeProject } from '../helpers/cli.js'
import { makeProfile } from '../helpers/profile.js'

const TEXTS = loadPassages({ limit: 200, words: 80 }).map((p) => `${p.title}\n${p.body}`)

async function minCosine(fp32: Profile): Promise<number> {
  const int8: Profile = { ...fp32, model: { ...fp32.model, quantize: 'int8' } }
  const [a, b] = await Promise.all([openEncoder(fp32), openEncoder(int8)])
  try {
    const [va, vb] = [await a.encode(TEXTS, 'document'), await b.encode(TEXTS, 'document')]
    return Math.min(...va.map((v, i) => cosine(v, vb[i] as Float32Array)))
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}

describe('profiles with model.quantize: int8', () => {
  it('GloVe starter: int8 embedding table, vectors within cosine 0.999 of fp32 on real texts', async () => {
    expect(await minCosine(makeProfile({ name: 'starter', dimensions: 100, maxTokens: 128, threads: 1 }))).toBeGreaterThan(0.999)
  }, 120_000)

  it('bert-tiny: int8 MatMuls and embeddings, vectors within cosine 0.999 of fp32 on real texts', async () => {
    expect(await minCosine(makeProfile({ name: 'bert-tiny', dimensions: 32, maxTokens: 128, threads: 1 }))).toBeGreaterThan(0.999)
  }, 120_000)

  it('is part of the fingerprint, and its absence leaves fp32 fingerprints as they were', () => {
    const fp32 = makeProfile({ name: 'starter', dimensions: 100 })
    const int8 = { ...fp32, model: { ...fp32.model, quantize: 'int8' as const } }
    expect(fingerprint(int8)).not.toBe(fingerprint(fp32))
    // The fp32 fingerprint is the one computed before quantization existed (no `quantize` key at all).
    expect(fingerprint(fp32)).toBe(fingerprint({ ...fp32, model: { source: 'builtin:starter' } }))
  })
})

describe('CLI: models quantize and a quantized profile', () => {
  let dir: string
  beforeAll(async () => {
    await ensureBuiltinModel('starter')
    dir = await mkdtemp(join(tmpdir(), 'embedform-quantize-cli-'))
    writeProject(dir, { kind: 'pglite', path: join(dir, 'pglite') }, 'starter')
    await writeFile(join(dir, 'profiles', 'starter-int8.yaml'), 'name: starter-int8\nextends: starter\nmodel: { source: "builtin:starter", quantize: int8 }\n')
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('models quantize writes a cached int8 file and reports what it quantized', async () => {
    const r = await runCli(['models', 'quantize', 'builtin:starter', '--json'], { cwd: dir, timeoutMs: 120_000 })
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { int8Onnx: string; gathers: number; matmuls: number; bytesIn: number; bytesOut: number }
    expect(out).toMatchObject({ gathers: 1, matmuls: 0 })
    expect(out.bytesOut).toBeLessThan(out.bytesIn / 3)
    expect((await stat(out.int8Onnx)).size).toBe(out.bytesOut)
    const list = await runCli(['models', 'list', '--json'], { cwd: dir })
    const models = (JSON.parse(list.stdout) as { models: { kind: string; dir: string }[] }).models
    expect(models.filter((m) => m.kind === 'int8').map((m) => m.dir)).toContain(dirname(out.int8Onnx))
  }, 120_000)

  it('encode runs the int8 profile', async () => {
    const r = await runCli(['encode'], { cwd: dir, env: { EMBEDDING_PROFILE: 'starter-int8' }, input: 'machine learning\n' })
    expect(r.stderr).toContain('encoded 1 texts with starter-int8')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout.trim()).vector).toHaveLength(100)
  }, 120_000)

  it('an unknown quantization is bad input that names the file, line and key', async () => {
    await writeFile(join(dir, 'profiles', 'starter-int4.yaml'), 'name: starter-int4\nextends: starter\nmodel: { source: "builtin:starter", quantize: int4 }\n')
    const r = await runCli(['encode'], { cwd: dir, env: { EMBEDDING_PROFILE: 'starter-int4' }, input: 'x\n' })
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/starter-int4\.yaml:3:\d+ at model\.quantize: "int4" is not allowed/)
  }, 60_000)
})
