import type { Collection, TextSource } from '../../src/core/types.js'
import { inputError } from '../../src/core/errors.js'
import { boundedName, quoteIdent, quoteLiteral, validateIdentifier } from './identifiers.js'

/** A collection's table, validated once; every name in it is safe to quote into SQL. */
export interface TableRef {
  schema: string
  table: string
  key: string
  vector: string
  text: TextSource
  /** Columns the text is built from (trigger watch list). */
  textColumns: string[]
  /** `"schema"."table"` */
  qualified: string
  /** `schema.table.vector`: survives renaming the collection in config. */
  collectionKey: string
}

/** `__g` plus up to 6 digits of generation id. */
const GENERATION_SUFFIX_BYTES = 9

export function resolveTable(c: Collection): TableRef {
  const at = `collections.${c.name}`
  const parts = c.target.split('.')
  if (parts.length > 2) {
    throw inputError('E_IDENTIFIER', `"${c.target}" is not \`table\` or \`schema.table\``, { location: { path: `${at}.target` } })
  }
  const [schema, table] = parts.length === 2 ? [parts[0]!, parts[1]!] : ['public', parts[0]!]
  validateIdentifier(schema, `${at}.target`)
  validateIdentifier(table, `${at}.target`)
  validateIdentifier(c.key, `${at}.key`)
  validateIdentifier(c.vector, `${at}.vector`)
  if (Buffer.byteLength(c.vector) + GENERATION_SUFFIX_BYTES > 63) {
    throw inputError('E_IDENTIFIER', `"${c.vector}" leaves no room for the generation suffix (\`__g<id>\`) within 63 bytes`, {
      location: { path: `${at}.vector` },
    })
  }
  const textColumns = 'columns' in c.text ? c.text.columns : templateFields(c.text.template)
  textColumns.forEach((col, i) => validateIdentifier(col, 'columns' in c.text ? `${at}.text.columns[${i}]` : `${at}.text.template`))
  return {
    schema,
    table,
    key: c.key,
    vector: c.vector,
    text: c.text,
    textColumns,
    qualified: `${quoteIdent(schema)}.${quoteIdent(table)}`,
    collectionKey: `${schema}.${table}.${c.vector}`,
  }
}

function templateFields(template: string): string[] {
  return [...new Set([...template.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!))]
}

export function generationColumn(ref: TableRef, id: number): string {
  return `${ref.vector}__g${id}`
}

export function indexName(ref: TableRef, id: number): string {
  return boundedName(`${ref.table}_${ref.vector}_g${id}_idx`)
}

export function triggerName(ref: TableRef, id: number): string {
  return boundedName(`embedform_${ref.vector}_g${id}_catchup`)
}

/** Trigger functions live in the embedform schema, one per table and generation. */
export function triggerFunction(ref: TableRef, id: number): string {
  return boundedName(`catchup_${ref.schema}_${ref.table}_${ref.vector}_g${id}`)
}

export interface SqlFragment {
  sql: string
  params: string[]
}

/**
 * The row's text as one SQL expression (NULL → ''). Separators and template literals travel
 * as parameters, starting at $firstParam, so no config value is spliced into SQL as it is.
 */
export function textExpression(ref: TableRef, alias: string, firstParam: number): SqlFragment {
  const params: string[] = []
  const sql = textSql(ref, alias, (value) => {
    params.push(value)
    return `$${firstParam + params.length - 1}::text`
  })
  return { sql, params }
}

/**
 * textExpression with its separator and template pieces as quoted literals (quote_literal's
 * rules), for statements sent without parameters in one round trip.
 */
export function textExpressionInline(ref: TableRef, alias: string): string {
  return textSql(ref, alias, (value) => `${quoteLiteral(value)}::text`)
}

function textSql(ref: TableRef, alias: string, piece: (value: string) => string): string {
  const col = (name: string) => `coalesce(${alias}.${quoteIdent(name)}::text, '')`
  if ('columns' in ref.text) {
    const sep = ref.text.columns.length > 1 ? piece(ref.text.separator) : ''
    return `(${ref.text.columns.map(col).join(` || ${sep} || `)})`
  }
  const pieces: string[] = []
  let last = 0
  for (const m of ref.text.template.matchAll(/\{([^{}]+)\}/g)) {
    if (m.index > last) pieces.push(piece(ref.text.template.slice(last, m.index)))
    pieces.push(col(m[1]!))
    last = m.index + m[0].length
  }
  if (last < ref.text.template.length) pieces.push(piece(ref.text.template.slice(last)))
  return pieces.length ? `(${pieces.join(' || ')})` : `''::text`
}
