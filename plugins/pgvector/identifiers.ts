import { createHash } from 'node:crypto'
import { inputError } from '../../src/core/errors.js'

const MAX_IDENTIFIER_BYTES = 63
/**
 * Config identifiers are restricted to plain SQL names. Anything else (quotes, spaces,
 * semicolons) is refused before any SQL runs; quoteIdent still quotes them as a second guard.
 */
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_$]*$/

export function validateIdentifier(name: string, path: string): string {
  if (!PLAIN_IDENTIFIER.test(name)) {
    throw inputError('E_IDENTIFIER', `"${name}" is not a plain SQL identifier`, {
      location: { path },
      hint: 'use letters, digits, _ and $, starting with a letter or _',
    })
  }
  if (Buffer.byteLength(name) > MAX_IDENTIFIER_BYTES) {
    throw inputError('E_IDENTIFIER', `"${name}" is longer than PostgreSQL's ${MAX_IDENTIFIER_BYTES}-byte identifier limit`, {
      location: { path },
    })
  }
  return name
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** A string literal as PostgreSQL's quote_literal writes it, whatever standard_conforming_strings says. */
export function quoteLiteral(value: string): string {
  const body = value.replaceAll("'", "''")
  return value.includes('\\') ? `E'${body.replaceAll('\\', '\\\\')}'` : `'${body}'`
}

/** A derived name (index, trigger) that fits in 63 bytes: long ones keep a prefix plus a hash. */
export function boundedName(name: string): string {
  if (Buffer.byteLength(name) <= MAX_IDENTIFIER_BYTES) return name
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10)
  return `${name.slice(0, MAX_IDENTIFIER_BYTES - hash.length - 1)}_${hash}`
}
