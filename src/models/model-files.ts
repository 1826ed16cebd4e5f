import { createHash } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodeModel, type ModelProto } from './onnx/model-proto.js'

/** Bumped whenever a builder change alters the files it writes, so cached builtins rebuild. */
export const BUILDER_VERSION = 1
export const MANIFEST_FILE = 'embedform-model.json'
export const ONNX_FILE = 'onnx/model.onnx'

export type ModelKind = 'static-embedding' | 'bert' | 'cross-encoder'

/** embedform-model.json: what was built, from what, and the hash the fingerprint relies on. */
export interface ModelManifest {
  builderVersion: number
  name: string
  kind: ModelKind
  /** Output width: hidden size for encoders, 1 for a cross-encoder's logits. */
  dims: number
  /** Hash of every build input; a builtin whose recipe differs from today's is rebuilt. */
  recipe: string
  source: { package: string; version: string; license: string } | null
  vocabSize: number
  seed: number | null
  builtAt: string
  buildMs: number
  onnx: { file: string; sha256: string; bytes: number; inputs: string[]; outputs: string[] }
  spec: Record<string, unknown>
}

export interface BuiltModel {
  dir: string
  manifest: ModelManifest
}

export function recipeHash(spec: Record<string, unknown>): string {
  return createHash('sha256')
    .update(JSON.stringify({ builderVersion: BUILDER_VERSION, ...spec }))
    .digest('hex')
    .slice(0, 16)
}

export interface ModelFiles {
  model: ModelProto
  tokenizer: Record<string, unknown>
  tokenizerConfig: Record<string, unknown>
  config: Record<string, unknown>
  /** Extra text files (LICENSE, attribution) by relative path. */
  extra?: Record<string, string>
}

const json = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`

/** Writes a Hugging Face-style model directory: onnx/model.onnx at `onnx/`, tokenizer and config files at the root. */
export async function writeModelFiles(
  dir: string,
  files: ModelFiles,
  manifest: Omit<ModelManifest, 'onnx' | 'builtAt' | 'buildMs' | 'builderVersion'>,
  startedAt: number,
): Promise<BuiltModel> {
  await mkdir(join(dir, 'onnx'), { recursive: true })
  const chunks = encodeModel(files.model)
  const hash = createHash('sha256')
  let bytes = 0
  for (const c of chunks) {
    hash.update(c)
    bytes += c.length
  }
  await writeFile(join(dir, ONNX_FILE), chunks)
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizer))
  await writeFile(join(dir, 'tokenizer_config.json'), json(files.tokenizerConfig))
  await writeFile(join(dir, 'config.json'), json(files.config))
  for (const [rel, text] of Object.entries(files.extra ?? {})) await writeFile(join(dir, rel), text)
  const full: ModelManifest = {
    builderVersion: BUILDER_VERSION,
    ...manifest,
    builtAt: new Date().toISOString(),
    buildMs: Date.now() - startedAt,
    onnx: {
      file: ONNX_FILE,
      sha256: hash.digest('hex'),
      bytes,
      inputs: files.model.graph.inputs.map((i) => i.name),
      outputs: files.model.graph.outputs.map((o) => o.name),
    },
  }
  await writeFile(join(dir, MANIFEST_FILE), json(full))
  return { dir, manifest: full }
}

/** The manifest of a built model directory, or undefined when it is missing or unreadable. */
export async function readManifest(dir: string): Promise<ModelManifest | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest
    return typeof m.recipe === 'string' && m.builderVersion === BUILDER_VERSION ? m : undefined
  } catch {
    return undefined
  }
}
