import { createInterface } from 'node:readline'
import { inputError } from '../core/errors.js'

export interface InputText {
  id: unknown
  text: string
}

/**
 * Parses one JSONL input line: `{"id":…,"text":…}`, a JSON string, or — when the line is not
 * JSON-looking at all — the raw line as text. Ids default to the 1-based line number.
 */
export function parseInputLine(line: string, lineNo: number, file: string): InputText | undefined {
  const trimmed = line.trim()
  if (trimmed === '') return undefined
  if (!trimmed.startsWith('{') && !trimmed.startsWith('"')) return { id: lineNo, text: line }
  let value: unknown
  try {
    value = JSON.parse(trimmed)
  } catch (cause) {
    throw inputError('E_INPUT_JSON', `line is not valid JSON: ${(cause as Error).message}`, { location: { file, line: lineNo }, cause })
  }
  if (typeof value === 'string') return { id: lineNo, text: value }
  const obj = value as Record<string, unknown>
  if (typeof obj.text !== 'string') {
    throw inputError('E_INPUT_TEXT', 'object has no string "text" field', { location: { file, line: lineNo, path: 'text' }, hint: 'each line is {"id": ..., "text": "..."} or a JSON string' })
  }
  return { id: obj.id ?? lineNo, text: obj.text }
}

/** Reads JSONL in batches of `size` texts, so memory stays bounded however long the input is. */
export async function* readInputBatches(input: NodeJS.ReadableStream, file: string, size: number): AsyncIterable<InputText[]> {
  let batch: InputText[] = []
  let lineNo = 0
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    const item = parseInputLine(line, ++lineNo, file)
    if (!item) continue
    batch.push(item)
    if (batch.length >= size) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}

/** One output line; vectors are written as plain JSON numbers (float32 values, shortest form). */
export function formatOutputLine(id: unknown, vector: Float32Array): string {
  return `${JSON.stringify({ id, vector: Array.from(vector) })}\n`
}
