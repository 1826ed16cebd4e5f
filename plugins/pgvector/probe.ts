/**
 * plan's measured estimate: the real pipeline (read → encode → write) on sampled rows, written
 * into a temporary copy of the table that carries the table's own indexes (the live HNSW graph
 * included) and its page layout, inside a transaction that is rolled back. What the write costs
 * on this table — heap-only or not, how many indexes each row re-enters — is measured, not assumed.
 */
import type { PipelineMeasurement, PipelineProbe } from '../../src/store/adapter.js'
import { installChangeRecord } from './changes.js'
import type { Queryable } from './driver.js'
import { quoteIdent } from './identifiers.js'
import { COMPACT_TOAST_TARGET } from './row-layout.js'
import { textExpression, type TableRef } from './table-ref.js'
import { writeVectors } from './write-path.js'

const PROBE_TABLE = 'embedform_probe'
const PROBE_COLUMN = 'embedform_probe_vector'

/** Thrown to roll the probe's transaction back once the numbers are in. */
export class ProbeDone extends Error {
  constructor(readonly measurement: PipelineMeasurement) {
    super('probe finished')
  }
}

export async function probePipeline(tx: Queryable, ref: TableRef, keyType: string, probe: PipelineProbe): Promise<never> {
  const probeRef: TableRef = { ...ref, schema: 'pg_temp', table: PROBE_TABLE, qualified: `pg_temp.${quoteIdent(PROBE_TABLE)}`, collectionKey: `${ref.collectionKey}#probe` }
  // The write path records hashes and dequeues changes: give the copy its own record, rolled back with it.
  await tx.query('CREATE SCHEMA IF NOT EXISTS embedform')
  await installChangeRecord(tx, probeRef, [])
  // INCLUDING INDEXES rebuilds every index of the table on the copy; rows are inserted first
  // (as the application did) so pages are as full as the real table's.
  await tx.query(`CREATE TEMP TABLE ${quoteIdent(PROBE_TABLE)} (LIKE ${ref.qualified} INCLUDING DEFAULTS INCLUDING STORAGE)`)
  await tx.query(`INSERT INTO ${probeRef.qualified} SELECT * FROM ${ref.qualified} ORDER BY random() LIMIT ${Math.max(1, Math.trunc(probe.sampleRows))}`)
  const indexes = await tx.query<{ name: string; def: string }>(
    `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass`,
    [ref.qualified],
  )
  for (const ix of indexes.rows) {
    const def = ix.def.replace(/^CREATE (UNIQUE )?INDEX \S+ ON \S+/, (_m, unique: string | undefined) => `CREATE ${unique ?? ''}INDEX ON ${probeRef.qualified}`)
    await tx.query(def)
  }
  await tx.query(`ALTER TABLE ${probeRef.qualified} ADD COLUMN ${quoteIdent(PROBE_COLUMN)} ${probe.storage}(${Math.trunc(probe.dimensions)})`)
  await tx.query(`ALTER TABLE ${probeRef.qualified} SET (toast_tuple_target = ${COMPACT_TOAST_TARGET})`)
  await tx.query(`ANALYZE ${probeRef.qualified}`)
  const text = textExpression(probeRef, 't', 1)
  let t = performance.now()
  const read = await tx.query<{ k: string; text: string; token: string }>(
    `SELECT t.${quoteIdent(ref.key)}::text AS k, ${text.sql} AS text, md5(${text.sql}) AS token FROM ${probeRef.qualified} t ORDER BY t.${quoteIdent(ref.key)}`,
    text.params,
  )
  const readMs = performance.now() - t
  t = performance.now()
  const vectors = await probe.encode(read.rows.map((r) => r.text))
  const encodeMs = performance.now() - t
  const before = await heapOnlyCounts(tx)
  t = performance.now()
  await writeVectors(
    tx,
    { ref: probeRef, generation: -1, physical: PROBE_COLUMN, storage: probe.storage, keyType },
    read.rows.map((r, i) => ({ key: r.k, token: r.token, vector: vectors[i] as Float32Array })),
  )
  const writeMs = performance.now() - t
  const after = await heapOnlyCounts(tx)
  const updates = after.upd - before.upd
  throw new ProbeDone({
    rows: read.rows.length,
    readMs,
    encodeMs,
    writeMs,
    indexes: indexes.rows.map((i) => i.name),
    ...(updates > 0 ? { heapOnlyShare: (after.hot - before.hot) / updates } : {}),
  })
}

/** This transaction's own counters for the probe table (pg_stat_get_xact_*: visible before commit). */
async function heapOnlyCounts(tx: Queryable): Promise<{ upd: number; hot: number }> {
  const r = await tx.query<{ upd: number; hot: number }>(
    `SELECT pg_stat_get_xact_tuples_updated(c.oid)::float8 AS upd, pg_stat_get_xact_tuples_hot_updated(c.oid)::float8 AS hot
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [`pg_temp.${quoteIdent(PROBE_TABLE)}`],
  )
  return r.rows[0] ?? { upd: 0, hot: 0 }
}
