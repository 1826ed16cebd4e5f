import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fingerprint } from '../../src/core/fingerprint.js'
import type { Profile } from '../../src/core/types.js'
import { cosine, openEncoder, resolveModel } from '../../src/encoder/index.js'
import { ensureBuiltinModel, ensureQuantized } from '../../src/models/index.js'
import { runCli, writeProject } from '../helpers/cli.js'
import { makeProfile } from '../helpers/profile.js'
import { passageText, spamPassages } from '../helpers/spam-corpus.js'

const TEXTS = spamPassages(200).map(passageText)

/** Cosine of every fp16 vector to its fp32 vector over the SpamAssassin passages. */
async function cosines(fp32: Profile): Promise<number[]> {
  const fp16: Profile = { ...fp32, model: { ...fp32.model, quantize: 'fp16' } }
  const [a, b] = [await openEncoder(fp32), await openEncoder(fp16)]
  try {
    const [va, vb] = [await a.encode(TEXTS, 'document'), await b.encode(TEXTS, 'document')]
    return va.map((v, i) => cosine(v, vb[i] as Float32Array))
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}

describe('profiles with model.quantize: fp16', () => {
  it('bert-tiny: the converted BERT loads and encodes on CPU, every vector within cosine 0.999 of fp32', async () => {
    const sims = await cosines(makeProfile({ name: 'bert-tiny', dimensions: 32, maxTokens: 256, threads: 1 }))
    expect(sims).toHaveLength(200)
    // Measured on CPU: min 0.99999997 (onnxruntime computes the ops it has no float16 kernel for in
    // float32, so this is the cost of float16 weights; float16 arithmetic on a GPU is not measured here).
    expect(Math.min(...sims)).toBeGreaterThan(0.999)
  }, 180_000)

  it('GloVe starter: float16 embedding table, vectors within cosine 0.999 of fp32', async () => {
    const sims = await cosines(makeProfile({ name: 'starter', dimensions: 100, maxTokens: 256, threads: 1 }))
    expect(Math.min(...sims)).toBeGreaterThan(0.999)
  }, 180_000)

  it('the fp16 file is about half the fp32 file and is cached by the content of the fp32 file', async () => {
    const fp32 = await resolveModel({ source: 'builtin:bert-tiny' })
    const fp16 = await resolveModel({ source: 'builtin:bert-tiny', quantize: 'fp16' })
    expect(fp16.tokenizerPath).toBe(fp32.tokenizerPath)
    const [a, b] = [(await stat(fp32.onnxPath)).size, (await stat(fp16.onnxPath)).size]
    expect(b / a).toBeGreaterThan(0.45)
    expect(b / a).toBeLessThan(0.55)
    const again = await ensureQuantized(fp32.onnxPath, { precision: 'fp16' })
    expect(again).toMatchObject({ path: fp16.onnxPath, built: false })
    expect(again.manifest).toMatchObject({ method: 'fp16', source: { bytes: a }, onnx: { bytes: b } })
    // The int8 copy of the same source lives apart from it.
    expect(dirname((await ensureQuantized(fp32.onnxPath, { precision: 'int8' })).path)).not.toBe(dirname(fp16.onnxPath))
  }, 120_000)

  it('is part of the fingerprint: fp16, int8 and fp32 of one model all differ', () => {
    const fp32 = makeProfile({ name: 'bert-tiny', dimensions: 32 })
    const prints = new Set((['fp16', 'int8', undefined] as const).map((quantize) => fingerprint({ ...fp32, model: { ...fp32.model, quantize } })))
    expect(prints.size).toBe(3)
  })
})

describe('CLI: models quantize --to fp16, an fp16 profile, bench on cuda', () => {
  let dir: string
  beforeAll(async () => {
    await ensureBuiltinModel('starter')
    dir = await mkdtemp(join(tmpdir(), 'embedform-fp16-cli-'))
    writeProject(dir, { kind: 'pglite', path: join(dir, 'pglite') }, 'starter')
    await writeFile(join(dir, 'profiles', 'starter-fp16.yaml'), 'name: starter-fp16\nextends: starter\nmodel: { source: "builtin:starter", quantize: fp16 }\n')
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('models quantize --to fp16 writes a cached half-size file, reports what it converted, and models list shows it', async () => {
    const r = await runCli(['models', 'quantize', 'builtin:starter', '--to', 'fp16', '--json'], { cwd: dir, timeoutMs: 120_000 })
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as { precision: string; fp16Onnx: string; tensors: number; ioCasts: number; bytesIn: number; bytesOut: number }
    expect(out).toMatchObject({ precision: 'fp16', tensors: 1, ioCasts: 1 })
    expect(out.bytesOut / out.bytesIn).toBeGreaterThan(0.45)
    expect(out.bytesOut / out.bytesIn).toBeLessThan(0.55)
    expect((await stat(out.fp16Onnx)).size).toBe(out.bytesOut)
    const list = await runCli(['models', 'list', '--json'], { cwd: dir })
    const models = (JSON.parse(list.stdout) as { models: { kind: string; dir: string }[] }).models
    expect(models.filter((m) => m.kind === 'fp16').map((m) => m.dir)).toContain(dirname(out.fp16Onnx))
  }, 120_000)

  it('encode runs the fp16 profile', async () => {
    const r = await runCli(['encode'], { cwd: dir, env: { EMBEDDING_PROFILE: 'starter-fp16' }, input: 'machine learning\n' })
    expect(r.stderr).toContain('encoded 1 texts with starter-fp16')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout.trim()).vector).toHaveLength(100)
  }, 120_000)

  it('bench can measure fp16 on CPU when asked, with its cosine to fp32', async () => {
    const variants = 'embedform-fp32,embedform-fp16'
    const r = await runCli(['bench', '--variants', variants, '--texts', '16', '--rounds', '1', '--json'], { cwd: dir, env: { EMBEDDING_PROFILE: 'starter' }, timeoutMs: 240_000 })
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as { device: string; variants: Record<string, { provider: string }>; ratios: Record<string, { median: number }>; quality: Record<string, { min: number }> }
    expect(Object.keys(report.variants).sort()).toEqual(['embedform-fp16', 'embedform-fp32'])
    expect(report.variants['embedform-fp16']?.provider).toBe('cpu')
    expect(report.ratios['embedform-fp16 / embedform-fp32']?.median).toBeGreaterThan(0)
    expect(report.quality['cosine embedform-fp16 vs embedform-fp32']?.min).toBeGreaterThan(0.999)
  }, 300_000)

  it('bench --device cuda here stops before any run with E_CUDA_UNAVAILABLE and the install command, exit 2', async () => {
    const r = await runCli(['bench', '--device', 'cuda', '--texts', '8', '--rounds', '1', '--json'], { cwd: dir, env: { EMBEDDING_PROFILE: 'starter' } })
    expect(r.code).toBe(2)
    const out = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: string } }
    expect(out.error.code).toBe('E_CUDA_UNAVAILABLE')
    expect(out.error.message).toContain('no CUDA provider installed')
    expect(out.error.hint).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node')
    expect(r.stderr).not.toContain('round 1/')
  }, 120_000)
})
