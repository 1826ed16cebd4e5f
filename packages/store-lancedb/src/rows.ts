import { createHash } from 'node:crypto'
import type { Collection, RowKey } from 'embedform/plugin'

/** Backtick-quoted column name for LanceDB's SQL (DataFusion folds unquoted names to lowercase). */
export function col(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``
}

export function literal(key: RowKey): string {
  return typeof key === 'number' ? String(key) : `'${key.replace(/'/g, "''")}'`
}

/** Int64 keys arrive as bigint; the contract's keys are numbers (or strings when too large). */
export function keyOf(v: unknown): RowKey {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()
  if (typeof v === 'number' || typeof v === 'string') return v
  return String(v)
}

export function textColumns(c: Collection): string[] {
  return 'columns' in c.text ? c.text.columns : c.text.fields
}

/** The row's text exactly as the other stores build it: columns joined, or the template filled. */
export function rowText(c: Collection, row: Record<string, unknown>): string {
  const value = (name: string) => {
    const v = row[name]
    return v === null || v === undefined ? '' : String(v)
  }
  if ('columns' in c.text) return c.text.columns.map(value).join(c.text.separator)
  return c.text.template.replace(/\{([^{}]*)\}/g, (_, name: string) => value(name))
}

/** What each vector is recorded with: a hash of the text it was made from (the row's token). */
export function textHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32)
}
