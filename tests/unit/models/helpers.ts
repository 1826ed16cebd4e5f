import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as ort from 'onnxruntime-node'

export async function tempDir(prefix: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `embedform-${prefix}-`))
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) }
}

export function int64(rows: number[][]): ort.Tensor {
  const width = rows[0]?.length ?? 0
  return new ort.Tensor('int64', BigInt64Array.from(rows.flat().map((v) => BigInt(v))), [rows.length, width])
}

export function floats(t: ort.Tensor | undefined): number[] {
  if (!t) throw new Error('missing output tensor')
  return [...(t.data as Float32Array)]
}
