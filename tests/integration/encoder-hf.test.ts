import { copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { EmbedformError } from '../../src/core/errors.js'
import { hfCacheDir, parseHfSource, resolveModel, sha256File } from '../../src/encoder/index.js'
import { ensureBuiltinModel } from '../../src/models/index.js'
import { type HfServer, startHfServer } from '../helpers/hf-server.js'

const SOURCE = 'hf:acme/bert-tiny@main'

describe('hf: model sources against a local Hub', () => {
  let server: HfServer
  let modelDir: string
  let cache: string
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    modelDir = await ensureBuiltinModel('bert-tiny')
    server = await startHfServer('acme/bert-tiny', modelDir)
  })
  afterAll(async () => {
    await server.close()
  })
  beforeEach(async () => {
    cache = await mkdtemp(join(tmpdir(), 'embedform-hf-'))
    env = { EMBEDFORM_CACHE_DIR: cache, HF_ENDPOINT: server.endpoint }
    server.requests.length = 0
    server.authorization.length = 0
    server.corrupt.clear()
    return () => rm(cache, { recursive: true, force: true })
  })

  it('downloads the files into the cache layout, verified, with progress', async () => {
    const progress: string[] = []
    const model = await resolveModel({ source: SOURCE }, { env, onDownload: (file) => progress.push(file) })
    const dir = hfCacheDir(parseHfSource(SOURCE), env)
    expect(dir).toBe(join(cache, 'models', 'hf', 'acme--bert-tiny', 'main'))
    expect(model.onnxPath).toBe(join(dir, 'onnx', 'model.onnx'))
    expect(model.tokenizerPath).toBe(join(dir, 'tokenizer.json'))
    expect(await sha256File(model.onnxPath)).toBe(await sha256File(join(modelDir, 'onnx', 'model.onnx')))
    expect(progress).toContain('onnx/model.onnx')
    expect(server.requests).toContain('/acme/bert-tiny/resolve/main/onnx/model.onnx')
    expect(server.requests).toContain('/cdn/onnx/model.onnx')
  })

  it('serves a second resolve from the cache without any request', async () => {
    await resolveModel({ source: SOURCE }, { env })
    const before = server.requests.length
    await resolveModel({ source: SOURCE }, { env })
    expect(server.requests.length).toBe(before)
  })

  it('refuses a file whose sha256 differs from the server’s and caches nothing', async () => {
    server.corrupt.add('onnx/model.onnx')
    const err = await resolveModel({ source: SOURCE }, { env }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(EmbedformError)
    expect((err as EmbedformError).code).toBe('E_MODEL_INTEGRITY')
    expect((err as EmbedformError).message).toMatch(/onnx\/model\.onnx.*does not match/)
    const onnxDir = join(hfCacheDir(parseHfSource(SOURCE), env), 'onnx')
    expect(await readdir(onnxDir)).toEqual([])
  })

  it('refuses a download that does not match the sha256 the profile pins', async () => {
    const err = await resolveModel({ source: SOURCE, sha256: '0'.repeat(64) }, { env }).catch((e: unknown) => e)
    expect((err as EmbedformError).code).toBe('E_MODEL_INTEGRITY')
    await expect(stat(join(hfCacheDir(parseHfSource(SOURCE), env), 'onnx', 'model.onnx'))).rejects.toThrow()
  })

  it('names the URL and the file on a 404', async () => {
    const err = await resolveModel({ source: SOURCE, file: 'onnx/model_quantized.onnx' }, { env }).catch((e: unknown) => e)
    expect((err as EmbedformError).code).toBe('E_MODEL_NOT_FOUND')
    expect((err as EmbedformError).message).toContain('onnx/model_quantized.onnx')
    expect((err as EmbedformError).message).toContain(`${server.endpoint}/acme/bert-tiny/resolve/main/onnx/model_quantized.onnx`)
  })

  it('fails clearly offline when a file is missing, and works offline once cached', async () => {
    const offline = resolveModel({ source: SOURCE }, { env: { ...env, HF_HUB_OFFLINE: '1' } })
    await expect(offline).rejects.toMatchObject({ code: 'E_MODEL_NOT_CACHED', hint: expect.stringContaining(`embedform models pull ${SOURCE}`) })
    expect(server.requests).toEqual([])
    await resolveModel({ source: SOURCE }, { env })
    server.requests.length = 0
    const model = await resolveModel({ source: SOURCE }, { env, offline: true })
    expect(model.onnxPath).toContain('acme--bert-tiny')
    expect(server.requests).toEqual([])
  })

  it('resolves a repo without the optional files and remembers that they are absent', async () => {
    const bare = await mkdtemp(join(tmpdir(), 'embedform-bare-'))
    await mkdir(join(bare, 'onnx'))
    await copyFile(join(modelDir, 'tokenizer.json'), join(bare, 'tokenizer.json'))
    await copyFile(join(modelDir, 'onnx', 'model.onnx'), join(bare, 'onnx', 'model.onnx'))
    const bareServer = await startHfServer('acme/bare', bare)
    try {
      const bareEnv = { ...env, HF_ENDPOINT: bareServer.endpoint }
      const model = await resolveModel({ source: 'hf:acme/bare' }, { env: bareEnv })
      expect(model.tokenizerConfigPath).toBeUndefined()
      expect(bareServer.requests).toContain('/acme/bare/resolve/main/tokenizer_config.json')
      const before = bareServer.requests.length
      await resolveModel({ source: 'hf:acme/bare' }, { env: bareEnv })
      expect(bareServer.requests.length).toBe(before)
    } finally {
      await bareServer.close()
      await rm(bare, { recursive: true, force: true })
    }
  })

  it('sends HF_TOKEN as a bearer token and never puts it in an error', async () => {
    server.authorization.length = 0
    await resolveModel({ source: SOURCE }, { env: { ...env, HF_TOKEN: 'hf_secret123' } })
    expect(server.authorization.length).toBeGreaterThan(0)
    expect(server.authorization.every((a) => a === 'Bearer hf_secret123')).toBe(true)
    const err = (await resolveModel({ source: SOURCE, file: 'missing.onnx' }, { env: { ...env, HF_TOKEN: 'hf_secret123' } }).catch((e: unknown) => e)) as EmbedformError
    expect(err.code).toBe('E_MODEL_NOT_FOUND')
    expect(JSON.stringify({ ...err.toJSON(), stack: err.stack })).not.toContain('hf_secret123')
  })

  it('honours HF_ENDPOINT: an unreachable endpoint is the error, naming it', async () => {
    const err = await resolveModel({ source: SOURCE }, { env: { ...env, HF_ENDPOINT: 'http://127.0.0.1:9' } }).catch((e: unknown) => e)
    expect((err as EmbedformError).code).toBe('E_DOWNLOAD')
    expect((err as EmbedformError).message).toContain('http://127.0.0.1:9/acme/bert-tiny/resolve/main/')
    expect(server.requests).toEqual([])
  })
})
