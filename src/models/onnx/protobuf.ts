/**
 * Just enough of the protobuf wire format to serialize ONNX models: varints, fixed32 floats and
 * length-delimited fields. Output is a list of chunks so that large weight buffers are written to
 * disk without being copied into one contiguous buffer at every nesting level.
 */

const WIRE_VARINT = 0
const WIRE_FIXED32 = 5
const WIRE_LENGTH_DELIMITED = 2

const textEncoder = new TextEncoder()

export class ProtoWriter {
  private readonly chunks: Uint8Array[] = []
  private pending: number[] = []
  private size = 0

  get length(): number {
    return this.size + this.pending.length
  }

  /** Unsigned or two's-complement (negative int64 → 10 bytes) varint, as protobuf encodes int64/int32. */
  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value))
    while (v >= 0x80n) {
      this.pending.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    this.pending.push(Number(v))
  }

  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire)
  }

  private flush(): void {
    if (this.pending.length === 0) return
    this.chunks.push(Uint8Array.from(this.pending))
    this.size += this.pending.length
    this.pending = []
  }

  private raw(bytes: Uint8Array): void {
    this.flush()
    this.chunks.push(bytes)
    this.size += bytes.length
  }

  /** A field copied verbatim from another message (tag included), e.g. by a rewriter. */
  preEncoded(bytes: Uint8Array): this {
    this.raw(bytes)
    return this
  }

  int(field: number, value: number | bigint): this {
    this.tag(field, WIRE_VARINT)
    this.varint(value)
    return this
  }

  float(field: number, value: number): this {
    this.tag(field, WIRE_FIXED32)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    for (const x of b) this.pending.push(x)
    return this
  }

  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LENGTH_DELIMITED)
    this.varint(value.length)
    this.raw(value)
    return this
  }

  string(field: number, value: string): this {
    return this.bytes(field, textEncoder.encode(value))
  }

  message(field: number, child: ProtoWriter): this {
    this.tag(field, WIRE_LENGTH_DELIMITED)
    this.varint(child.length)
    for (const c of child.finish()) this.raw(c)
    return this
  }

  /** Packed repeated varints (proto3 default for repeated scalars; accepted by proto2 parsers too). */
  packedInts(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter()
    for (const v of values) inner.varint(v)
    return this.message(field, inner)
  }

  /** Packed repeated fixed32 floats. */
  packedFloats(field: number, values: readonly number[]): this {
    const buf = new Uint8Array(values.length * 4)
    const view = new DataView(buf.buffer)
    values.forEach((v, i) => view.setFloat32(i * 4, v, true))
    return this.bytes(field, buf)
  }

  finish(): Uint8Array[] {
    this.flush()
    return this.chunks
  }

  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const c of this.finish()) {
      out.set(c, offset)
      offset += c.length
    }
    return out
  }
}
