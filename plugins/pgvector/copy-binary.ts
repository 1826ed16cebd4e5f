import { endianness } from 'node:os'

/**
 * PostgreSQL binary COPY for (text, text, vector) rows, or (int, text, text, vector) with each
 * row's round first. Binary avoids formatting every float as text in JS, which alone capped
 * writes at ~12k rows/s of 384-d vectors (STORE-NOTES.md).
 * pgvector's binary `vector` is int16 dim, int16 unused, float4[dim], all big-endian.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')
const LITTLE_ENDIAN = endianness() === 'LE'

export interface CopyRow {
  key: string
  token: string | null
  /** null: a skipped row (zero_vectors: skip), written as SQL NULL. */
  vector: Float32Array | null
}

export function encodeCopyRows(rows: CopyRow[], rounds?: number[]): Buffer {
  let size = SIGNATURE.length + 8 + 2
  for (const r of rows) {
    size += (rounds ? 8 : 0) + 2 + 4 + Buffer.byteLength(r.key) + 4 + (r.token === null ? 0 : Buffer.byteLength(r.token)) + 4 + (r.vector === null ? 0 : 4 + 4 * r.vector.length)
  }
  const buf = Buffer.allocUnsafe(size)
  let o = SIGNATURE.copy(buf, 0)
  o = buf.writeInt32BE(0, o)
  o = buf.writeInt32BE(0, o)
  rows.forEach((r, i) => {
    o = buf.writeInt16BE(rounds ? 4 : 3, o)
    if (rounds) {
      o = buf.writeInt32BE(4, o)
      o = buf.writeInt32BE(rounds[i]!, o)
    }
    const keyLength = buf.write(r.key, o + 4)
    o = buf.writeInt32BE(keyLength, o) + keyLength
    if (r.token === null) {
      o = buf.writeInt32BE(-1, o)
    } else {
      const tokenLength = buf.write(r.token, o + 4)
      o = buf.writeInt32BE(tokenLength, o) + tokenLength
    }
    if (r.vector === null) {
      o = buf.writeInt32BE(-1, o)
      return
    }
    const dim = r.vector.length
    o = buf.writeInt32BE(4 + 4 * dim, o)
    o = buf.writeInt16BE(dim, o)
    o = buf.writeInt16BE(0, o)
    // Copy the floats as they are in memory, then swap them to network order in place.
    buf.set(new Uint8Array(r.vector.buffer, r.vector.byteOffset, 4 * dim), o)
    if (LITTLE_ENDIAN) buf.subarray(o, o + 4 * dim).swap32()
    o += 4 * dim
  })
  buf.writeInt16BE(-1, o)
  return buf
}
