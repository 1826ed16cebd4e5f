import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { BUILTIN_MODELS, builtinDescription, builtinModelDir, isBuiltinCurrent, QUANTIZATION_MANIFEST, QUANTIZATIONS, type QuantizationManifest } from '../models/index.js'
import { modelsCacheDir } from '../util/paths.js'

export interface ModelEntry {
  source: string
  kind: 'builtin' | 'hf' | 'int8' | 'fp16'
  description?: string
  /** Whether the files are in the cache (a builtin not yet built is still listed). */
  cached: boolean
  dir: string
  bytes: number
}

async function dirBytes(dir: string): Promise<number> {
  let total = 0
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  for (const e of entries) {
    const path = join(dir, e.name)
    if (e.isDirectory()) total += await dirBytes(path)
    else if (e.isFile()) total += (await stat(path)).size
  }
  return total
}

async function subdirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
  return entries.filter((e) => e.isDirectory()).map((e) => e.name)
}

/** Every builtin model (built or not), every Hugging Face revision and every int8/fp16 copy in the cache, with sizes on disk. */
export async function listModels(env: NodeJS.ProcessEnv = process.env): Promise<ModelEntry[]> {
  const out: ModelEntry[] = []
  for (const name of BUILTIN_MODELS) {
    const dir = builtinModelDir(name, env)
    const cached = await isBuiltinCurrent(name, dir)
    out.push({ source: `builtin:${name}`, kind: 'builtin', description: builtinDescription(name), cached, dir, bytes: cached ? await dirBytes(dir) : 0 })
  }
  const hfRoot = join(modelsCacheDir(env), 'hf')
  for (const repo of (await subdirs(hfRoot)).sort()) {
    const sep = repo.indexOf('--')
    if (sep < 0) continue
    for (const rev of (await subdirs(join(hfRoot, repo))).sort()) {
      const dir = join(hfRoot, repo, rev)
      out.push({ source: `hf:${repo.slice(0, sep)}/${repo.slice(sep + 2)}@${rev}`, kind: 'hf', cached: true, dir, bytes: await dirBytes(dir) })
    }
  }
  for (const precision of QUANTIZATIONS) {
    const root = join(modelsCacheDir(env), precision)
    for (const hash of (await subdirs(root)).sort()) {
      const dir = join(root, hash)
      const manifest = await readFile(join(dir, QUANTIZATION_MANIFEST), 'utf8')
        .then((t) => JSON.parse(t) as QuantizationManifest)
        .catch(() => undefined)
      if (!manifest) continue
      out.push({ source: `${precision}:${manifest.source.sha256.slice(0, 12)}`, kind: precision, description: `${precision} copy of ${manifest.source.path}`, cached: true, dir, bytes: await dirBytes(dir) })
    }
  }
  return out
}
