/**
 * Rows drawn at random for `plan --sample` and `status --attest`: key, current text and, for a
 * generation, its stored vector with what the freshness record says of it. Read-only.
 *
 * `ORDER BY random() LIMIT n` reads the whole table once but sorts only n rows (a top-n heap),
 * which is the cost of one verify scan; TABLESAMPLE would be cheaper on huge tables but returns
 * clustered pages, and the point of the sample is to be representative.
 */
import type { RowKey, SampledRow } from '../../src/store/adapter.js'
import { changeRecord, changeRecordExists } from './changes.js'
import type { Queryable } from './driver.js'
import { quoteIdent } from './identifiers.js'
import { stateExists } from './state.js'
import { textExpression, type TableRef } from './table-ref.js'

export interface SampledGeneration {
  id: number
  physical: string
}

interface Row {
  k: RowKey
  text: string
  v?: string | null
  h?: string | null
  m?: string
  queued?: boolean
}

function parseVector(literal: string): Float32Array {
  return Float32Array.from(JSON.parse(literal) as number[])
}

function recordOf(r: Row, tracked: boolean): NonNullable<SampledRow['record']> {
  // Same reading as the freshness counts: no vector, the current text's hash recorded, not queued.
  if (r.v === null || r.v === undefined) return tracked && r.h !== null && r.h !== undefined && r.h === r.m && !r.queued ? 'skipped' : 'missing'
  if (!tracked) return 'unverified'
  // Same reading as the freshness counts: a hash that differs, or none while the row is queued, is stale.
  if (r.h === null || r.h === undefined) return r.queued ? 'stale' : 'unverified'
  return r.h === r.m ? 'fresh' : 'stale'
}

export async function sampleRows(q: Queryable, ref: TableRef, n: number, g?: SampledGeneration): Promise<SampledRow[]> {
  const key = `t.${quoteIdent(ref.key)}`
  if (!g) {
    const text = textExpression(ref, 't', 2)
    const r = await q.query<Row>(`SELECT ${key} AS k, ${text.sql} AS text FROM ${ref.qualified} t ORDER BY random() LIMIT $1`, [n, ...text.params])
    return r.rows.map((row) => ({ key: row.k, text: row.text }))
  }
  const tracked = (await stateExists(q)) && (await changeRecordExists(q, ref))
  const col = `t.${quoteIdent(g.physical)}`
  if (!tracked) {
    const text = textExpression(ref, 't', 2)
    const r = await q.query<Row>(`SELECT ${key} AS k, ${text.sql} AS text, ${col}::text AS v FROM ${ref.qualified} t ORDER BY random() LIMIT $1`, [n, ...text.params])
    return r.rows.map((row) => ({ key: row.k, text: row.text, vector: row.v ? parseVector(row.v) : null, record: recordOf(row, false) }))
  }
  const rec = changeRecord(ref)
  const text = textExpression(ref, 't', 3)
  const r = await q.query<Row>(
    `SELECT ${key} AS k, ${text.sql} AS text, ${col}::text AS v, h.h AS h, md5(${text.sql}) AS m, (c.k IS NOT NULL) AS queued
       FROM ${ref.qualified} t
       LEFT JOIN ${rec.hashes} h ON h.g = $2 AND h.k = ${key}::text
       LEFT JOIN ${rec.queue} c ON c.g = $2 AND c.k = ${key}::text
      ORDER BY random() LIMIT $1`,
    [n, g.id, ...text.params],
  )
  return r.rows.map((row) => ({ key: row.k, text: row.text, vector: row.v ? parseVector(row.v) : null, record: recordOf(row, true) }))
}
