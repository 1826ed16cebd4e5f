import { createHash } from 'node:crypto'

/** Deterministic unit vector from a text: distinct texts land far apart, no encoder needed. */
export function fakeVector(text: string, dimensions: number): Float32Array {
  const v = new Float32Array(dimensions)
  let block = Buffer.alloc(0)
  for (let i = 0, counter = 0; i < dimensions; i++) {
    if ((i * 4) % 32 === 0) block = createHash('sha256').update(`${counter++}:${text}`).digest()
    v[i] = block.readInt32BE((i * 4) % 32) / 2 ** 31
  }
  const norm = Math.hypot(...v)
  return v.map((x) => x / norm)
}
