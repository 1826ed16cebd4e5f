/**
 * PostgreSQL binary COPY for (text, text, vector) rows. Binary avoids formatting every float
 * as text in JS, which alone capped writes at ~12k rows/s of 384-d vectors (STORE-NOTES.md).
 * pgvector's binary `vector` is int16 dim, int16 unused, float4[dim], all big-endian.
 */
import { endianness } from 'node:os'

const ENDIANNESS = endianness()
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1')

export interface CopyRow {
  key: string
  token: string | null
  vector: Float32Array
}

export function encodeCopyRows(rows: CopyRow[]): Buffer {
  let size = SIGNATURE.length + 8 + 2
  const keys = rows.map((r) => Buffer.from(r.key, 'utf8'))
  const tokens = rows.map((r) => (r.token === null ? null : Buffer.from(r.token, 'utf8')))
  rows.forEach((r, i) => {
    size += 2 + 4 + keys[i]!.length + 4 + (tokens[i]?.length ?? 0) + 4 + 4 + 4 * r.vector.length
  })
  const buf = Buffer.allocUnsafe(size)
  let o = SIGNATURE.copy(buf, 0)
  o = buf.writeInt32BE(0, o)
  o = buf.writeInt32BE(0, o)
  rows.forEach((r, i) => {
    o = buf.writeInt16BE(3, o)
    const key = keys[i]!
    o = buf.writeInt32BE(key.length, o)
    o += key.copy(buf, o)
    const token = tokens[i]
    if (token === null || token === undefined) {
      o = buf.writeInt32BE(-1, o)
    } else {
      o = buf.writeInt32BE(token.length, o)
      o += token.copy(buf, o)
    }
    const dim = r.vector.length
    o = buf.writeInt32BE(4 + 4 * dim, o)
    o = buf.writeInt16BE(dim, o)
    o = buf.writeInt16BE(0, o)
    // Copy the floats as they are in memory (little-endian), then swap them to network order in place.
    const bytes = Buffer.from(r.vector.buffer, r.vector.byteOffset, r.vector.byteLength)
    bytes.copy(buf, o)
    if (ENDIANNESS === 'LE') buf.subarray(o, o + bytes.length).swap32()
    o += bytes.length
  })
  buf.writeInt16BE(-1, o)
  return buf
}
