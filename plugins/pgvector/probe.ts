/**
 * plan's measured estimate: the real pipeline (read → encode → write) on sampled rows, written
 * into a temporary copy of the table that carries the table's own indexes (the live HNSW graph
 * included) and its page layout. Everything the probe creates is a temporary object of one
 * session, dropped at the end: nothing in the store changes. What the write costs on this
 * table — heap-only or not, how many indexes each row re-enters — is measured, not assumed.
 */
import type { PipelineMeasurement, PipelineProbe } from '../../src/store/adapter.js'
import type { Connection } from './driver.js'
import { quoteIdent } from './identifiers.js'
import { COMPACT_TOAST_TARGET } from './row-layout.js'
import { tokenSql } from './row-token.js'
import { textExpression, type TableRef } from './table-ref.js'
import { writeInRounds } from './write-path.js'

const PROBE_TABLE = 'embedform_probe'
const PROBE_COLUMN = 'embedform_probe_vector'
const PROBE_QUEUE = 'embedform_probe_q'
const PROBE_HASHES = 'embedform_probe_h'

export async function probePipeline(session: Connection, ref: TableRef, keyType: string, probe: PipelineProbe): Promise<PipelineMeasurement> {
  const probeRef: TableRef = { ...ref, schema: 'pg_temp', table: PROBE_TABLE, qualified: `pg_temp.${quoteIdent(PROBE_TABLE)}`, collectionKey: `${ref.collectionKey}#probe` }
  try {
    await session.query(`CREATE TEMP TABLE ${quoteIdent(PROBE_TABLE)} (LIKE ${ref.qualified} INCLUDING DEFAULTS INCLUDING STORAGE)`)
    // Rows are inserted first (as the application did), so pages are as full as the real table's.
    await session.query(`INSERT INTO ${probeRef.qualified} SELECT * FROM ${ref.qualified} ORDER BY random() LIMIT ${Math.max(1, Math.trunc(probe.sampleRows))}`)
    const indexes = await session.query<{ name: string; def: string }>(
      `SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = $1::regclass`,
      [ref.qualified],
    )
    for (const ix of indexes.rows) {
      await session.query(ix.def.replace(/^CREATE (UNIQUE )?INDEX \S+ ON \S+/, (_m, unique: string | undefined) => `CREATE ${unique ?? ''}INDEX ON ${probeRef.qualified}`))
    }
    await session.query(`ALTER TABLE ${probeRef.qualified} ADD COLUMN ${quoteIdent(PROBE_COLUMN)} ${probe.storage}(${Math.trunc(probe.dimensions)})`)
    await session.query(`ALTER TABLE ${probeRef.qualified} SET (toast_tuple_target = ${COMPACT_TOAST_TARGET})`)
    await session.query(`CREATE TEMP TABLE ${PROBE_QUEUE} (g integer, k text, seq bigint, at timestamptz DEFAULT now(), PRIMARY KEY (g, k))`)
    await session.query(`CREATE TEMP TABLE ${PROBE_HASHES} (g integer, k text, h text, PRIMARY KEY (g, k))`)
    await session.query(`ANALYZE ${probeRef.qualified}`)
    const text = textExpression(probeRef, 't', 1)
    let t = performance.now()
    const read = await session.query<{ k: string; text: string; token: string }>(
      `SELECT t.${quoteIdent(ref.key)}::text AS k, ${text.sql} AS text, ${tokenSql('t', text.sql)} AS token FROM ${probeRef.qualified} t ORDER BY t.${quoteIdent(ref.key)}`,
      text.params,
    )
    const readMs = performance.now() - t
    t = performance.now()
    const vectors = await probe.encode(read.rows.map((r) => r.text))
    const encodeMs = performance.now() - t
    const before = await updateCounts(session)
    t = performance.now()
    await writeInRounds(
      session,
      { ref: probeRef, generation: -1, physical: PROBE_COLUMN, storage: probe.storage, keyType, record: { queue: `pg_temp.${PROBE_QUEUE}`, hashes: `pg_temp.${PROBE_HASHES}` } },
      read.rows.map((r, i) => ({ key: r.k, token: r.token, vector: vectors[i] as Float32Array })),
    )
    const writeMs = performance.now() - t
    const after = await updateCounts(session)
    const updates = after.upd - before.upd
    return {
      rows: read.rows.length,
      readMs,
      encodeMs,
      writeMs,
      indexes: indexes.rows.map((i) => i.name),
      ...(updates > 0 ? { heapOnlyShare: (after.hot - before.hot) / updates } : {}),
    }
  } finally {
    await session.query(`DROP TABLE IF EXISTS ${probeRef.qualified}, pg_temp.${PROBE_QUEUE}, pg_temp.${PROBE_HASHES}`)
  }
}

/**
 * Updates of the probe table by this session: committed ones (pg_stat_get_*) are reported only
 * when the session flushes its statistics, so read this backend's own pending counters, which
 * pg_stat_get_xact_* returns outside a transaction block as what it accumulated since the last flush.
 */
async function updateCounts(session: Connection): Promise<{ upd: number; hot: number }> {
  const r = await session.query<{ upd: number; hot: number }>(
    `SELECT (pg_stat_get_xact_tuples_updated(c.oid) + pg_stat_get_tuples_updated(c.oid))::float8 AS upd,
            (pg_stat_get_xact_tuples_hot_updated(c.oid) + pg_stat_get_tuples_hot_updated(c.oid))::float8 AS hot
       FROM pg_class c WHERE c.oid = $1::regclass`,
    [`pg_temp.${quoteIdent(PROBE_TABLE)}`],
  )
  return r.rows[0] ?? { upd: 0, hot: 0 }
}
