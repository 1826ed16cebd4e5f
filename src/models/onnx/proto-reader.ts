/**
 * Reads the protobuf wire format one level at a time. Every field keeps the byte span it came
 * from, so a rewriter can copy whatever it does not understand back out unchanged: an ONNX model
 * from any exporter keeps its metadata, value infos, attributes and fields of newer schema versions.
 */

export const WIRE = { VARINT: 0, FIXED64: 1, LENGTH_DELIMITED: 2, FIXED32: 5 } as const

export interface WireField {
  field: number
  wire: number
  /** Varint and fixed64 values. */
  int?: bigint
  /** Length-delimited payload (a view into the input, not a copy). */
  bytes?: Uint8Array
  /** Fixed32 payload as its raw 32 bits. */
  bits?: number
  /** The whole field, tag included, as it appeared in the input. */
  raw: Uint8Array
}

export class ProtoDecodeError extends Error {}

function readVarint(buf: Uint8Array, at: number): [bigint, number] {
  let value = 0n
  let shift = 0n
  for (let i = at; i < buf.length; i++) {
    const byte = buf[i] as number
    value |= BigInt(byte & 0x7f) << shift
    if ((byte & 0x80) === 0) return [value, i + 1]
    shift += 7n
    if (shift > 63n) break
  }
  throw new ProtoDecodeError(`malformed varint at byte ${at}`)
}

/** The fields of one message, in file order. */
export function readFields(buf: Uint8Array): WireField[] {
  const fields: WireField[] = []
  let at = 0
  while (at < buf.length) {
    const start = at
    const [tag, afterTag] = readVarint(buf, at)
    const field = Number(tag >> 3n)
    const wire = Number(tag & 7n)
    at = afterTag
    const f: Partial<WireField> = { field, wire }
    if (wire === WIRE.VARINT) {
      ;[f.int, at] = readVarint(buf, at)
    } else if (wire === WIRE.FIXED64) {
      if (at + 8 > buf.length) throw new ProtoDecodeError(`truncated fixed64 at byte ${at}`)
      f.int = new DataView(buf.buffer, buf.byteOffset + at, 8).getBigUint64(0, true)
      at += 8
    } else if (wire === WIRE.LENGTH_DELIMITED) {
      const [len, afterLen] = readVarint(buf, at)
      const end = afterLen + Number(len)
      if (end > buf.length) throw new ProtoDecodeError(`field ${field} runs past the end of its message (byte ${at})`)
      f.bytes = buf.subarray(afterLen, end)
      at = end
    } else if (wire === WIRE.FIXED32) {
      if (at + 4 > buf.length) throw new ProtoDecodeError(`truncated fixed32 at byte ${at}`)
      f.bits = new DataView(buf.buffer, buf.byteOffset + at, 4).getUint32(0, true)
      at += 4
    } else {
      throw new ProtoDecodeError(`unsupported wire type ${wire} for field ${field} at byte ${start}`)
    }
    f.raw = buf.subarray(start, at)
    fields.push(f as WireField)
  }
  return fields
}

const decoder = new TextDecoder()

export function fieldString(f: WireField): string {
  return f.bytes ? decoder.decode(f.bytes) : ''
}

/** A repeated varint field, packed (one length-delimited field) or not (one field per value). */
export function repeatedInts(fields: readonly WireField[], field: number): bigint[] {
  const out: bigint[] = []
  for (const f of fields) {
    if (f.field !== field) continue
    if (f.int !== undefined) out.push(f.int)
    else if (f.bytes) {
      let at = 0
      while (at < f.bytes.length) {
        const [v, next] = readVarint(f.bytes, at)
        out.push(v)
        at = next
      }
    }
  }
  return out
}

/** Int64 values are two's complement on the wire. */
export function toInt64(v: bigint): number {
  return Number(BigInt.asIntN(64, v))
}
