import { readFile } from 'node:fs/promises'
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml'
import { EmbedformErrors, inputError, type ErrorLocation } from '../core/errors.js'

/** A YAML file parsed once, keeping the document so every value maps back to line:column. */
export interface YamlFile {
  file: string
  text: string
  doc: Document
  lines: LineCounter
  /** Plain data (before interpolation). */
  data: unknown
}

export type KeyPath = readonly (string | number)[]

function keyPathString(path: KeyPath): string {
  return path.map(String).join('.')
}

export async function readYamlFile(file: string, missingCode = 'E_FILE_MISSING'): Promise<YamlFile> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code
    throw inputError(missingCode, code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file}: ${(cause as Error).message}`, {
      location: { file },
      cause,
      ...(missingCode === 'E_CONFIG_MISSING' ? { hint: 'run `embedform init` to scaffold one, or pass --config PATH' } : {}),
    })
  }
  return parseYamlText(file, text)
}

export function parseYamlText(file: string, text: string): YamlFile {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => {
      const pos = lines.linePos(e.pos[0])
      const duplicate = e.code === 'DUPLICATE_KEY'
      return inputError(duplicate ? 'E_YAML_DUPLICATE_KEY' : 'E_YAML_SYNTAX', firstLine(e.message), {
        location: { file, line: pos.line, column: pos.col },
        hint: duplicate ? 'each key may appear once in a mapping; remove or merge the repeated one' : 'fix the YAML syntax at this position',
      })
    })
    throw errors.length === 1 ? errors[0]! : new EmbedformErrors(errors)
  }
  return { file, text, doc, lines, data: doc.toJS({ maxAliasCount: 100 }) }
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
}

function childNode(parent: unknown, seg: string | number): { key?: Node; value?: Node } | undefined {
  if (isMap(parent)) {
    const pair = parent.items.find((p) => String((p.key as { value?: unknown } | null)?.value ?? p.key) === String(seg))
    return pair ? { key: pair.key as Node, value: (pair.value ?? undefined) as Node | undefined } : undefined
  }
  if (isSeq(parent) && typeof seg === 'number') {
    const item = parent.items[seg] as Node | undefined
    return item ? { value: item } : undefined
  }
  return undefined
}

/**
 * Position of the value (or, with `key`, the key) at `path`. Paths that do not exist in the file
 * (a missing required key, a value filled by a default) fall back to the nearest ancestor.
 */
export function locate(yf: YamlFile, path: KeyPath, which: 'key' | 'value' = 'value'): ErrorLocation {
  let node: unknown = yf.doc.contents
  let found: Node | undefined = yf.doc.contents ?? undefined
  for (let i = 0; i < path.length; i++) {
    const child = childNode(node, path[i]!)
    if (!child) break
    const last = i === path.length - 1
    found = (last && which === 'key' ? child.key : child.value) ?? child.key
    node = child.value
  }
  const offset = found?.range?.[0] ?? 0
  const pos = yf.lines.linePos(offset)
  return { file: yf.file, line: pos.line, column: pos.col, path: keyPathString(path) }
}
