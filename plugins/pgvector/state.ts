import type { GenerationSpec, GenerationState, GenerationStatus, Journal, LockInfo } from '../../src/store/adapter.js'
import type { IndexSettings, Profile, VectorStorage } from '../../src/core/types.js'
import { sqlState, type Queryable } from './driver.js'

/** A build started before an option was saved (fillfactor, vacuum_index_cleanup) never changed it, so its restore must leave it alone. */
export const LEFT_AS_IS = 'unchanged'

/**
 * embedform's own bookkeeping, kept inside the store (the store is the source of truth).
 * Created on first write; readers treat a missing schema as "no embedform state".
 */
const STATE_DDL = [
  'CREATE SCHEMA IF NOT EXISTS embedform',
  `CREATE TABLE IF NOT EXISTS embedform.generations (
    collection_key text NOT NULL,
    id integer NOT NULL,
    status text NOT NULL CHECK (status IN ('live', 'building', 'retained')),
    physical text NOT NULL,
    profile text,
    fingerprint text,
    model text,
    dimensions integer NOT NULL,
    storage text NOT NULL,
    index_name text,
    index_settings jsonb,
    profile_snapshot jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection_key, id)
  )`,
  `CREATE TABLE IF NOT EXISTS embedform.journal (
    collection_key text PRIMARY KEY,
    record jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE TABLE IF NOT EXISTS embedform.row_layout (
    collection_key text PRIMARY KEY,
    toast_tuple_target text
  )`,
  `ALTER TABLE embedform.row_layout ADD COLUMN IF NOT EXISTS fillfactor text DEFAULT '${LEFT_AS_IS}'`,
  `ALTER TABLE embedform.row_layout ADD COLUMN IF NOT EXISTS vacuum_index_cleanup text DEFAULT '${LEFT_AS_IS}'`,
  `ALTER TABLE embedform.row_layout ADD COLUMN IF NOT EXISTS autovacuum_analyze_threshold text DEFAULT '${LEFT_AS_IS}'`,
  `CREATE TABLE IF NOT EXISTS embedform.locks (
    collection_key text PRIMARY KEY,
    holder text NOT NULL,
    pid integer,
    host text,
    since timestamptz NOT NULL DEFAULT now()
  )`,
]

/** Two sessions racing through IF NOT EXISTS can still collide on the catalog's unique index. */
const CREATED_CONCURRENTLY = new Set(['23505', '42P06', '42P07'])

export async function ensureState(q: Queryable): Promise<void> {
  if (await stateExists(q)) return
  for (const ddl of STATE_DDL) {
    try {
      await q.query(ddl)
    } catch (err) {
      if (!CREATED_CONCURRENTLY.has(sqlState(err) ?? '')) throw err
    }
  }
}

export async function stateExists(q: Queryable): Promise<boolean> {
  const r = await q.query<{ present: boolean }>(
    `SELECT to_regclass('embedform.generations') IS NOT NULL AND to_regclass('embedform.journal') IS NOT NULL
        AND to_regclass('embedform.locks') IS NOT NULL
        AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('embedform.row_layout') AND attname = 'autovacuum_analyze_threshold' AND NOT attisdropped) AS present`,
  )
  return r.rows[0]?.present === true
}

/** What embedform.generations holds: the contract's GenerationState minus the facts read live from the catalog. */
export type GenerationRecord = Omit<GenerationState, 'populated' | 'index'> & { indexName: string | null }

interface GenerationRow {
  id: number
  status: GenerationStatus
  physical: string
  profile: string | null
  fingerprint: string | null
  model: string | null
  dimensions: number
  storage: VectorStorage
  index_name: string | null
  index_settings: IndexSettings | string | null
  profile_snapshot: Profile | string | null
  created_at: string
}

function json<T>(v: T | string | null): T | null {
  return typeof v === 'string' ? (JSON.parse(v) as T) : v
}

export async function readGenerations(q: Queryable, collectionKey: string): Promise<GenerationRecord[]> {
  const r = await q.query<GenerationRow>(
    `SELECT id, status, physical, profile, fingerprint, model, dimensions, storage, index_name,
            index_settings, profile_snapshot, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS created_at
       FROM embedform.generations WHERE collection_key = $1 ORDER BY id`,
    [collectionKey],
  )
  return r.rows.map((row) => ({
    id: row.id,
    status: row.status,
    physical: row.physical,
    profile: row.profile,
    fingerprint: row.fingerprint,
    model: row.model,
    dimensions: row.dimensions,
    storage: row.storage,
    indexName: row.index_name,
    indexSettings: json(row.index_settings),
    profileSnapshot: json(row.profile_snapshot),
    createdAt: row.created_at,
  }))
}

export async function insertGeneration(
  q: Queryable,
  collectionKey: string,
  g: Omit<GenerationRecord, 'createdAt'>,
): Promise<void> {
  await q.query(
    `INSERT INTO embedform.generations
       (collection_key, id, status, physical, profile, fingerprint, model, dimensions, storage, index_name, index_settings, profile_snapshot)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb)
     ON CONFLICT (collection_key, id) DO NOTHING`,
    [
      collectionKey,
      g.id,
      g.status,
      g.physical,
      g.profile,
      g.fingerprint,
      g.model,
      g.dimensions,
      g.storage,
      g.indexName,
      g.indexSettings === null ? null : JSON.stringify(g.indexSettings),
      g.profileSnapshot === null ? null : JSON.stringify(g.profileSnapshot),
    ],
  )
}

export function specRecord(spec: GenerationSpec, physical: string, indexName: string): Omit<GenerationRecord, 'createdAt'> {
  return {
    id: spec.id,
    status: 'building',
    physical,
    profile: spec.profile,
    fingerprint: spec.fingerprint,
    model: spec.model,
    dimensions: spec.dimensions,
    storage: spec.storage,
    indexName,
    indexSettings: spec.index,
    profileSnapshot: spec.profileSnapshot,
  }
}

export async function setGeneration(q: Queryable, collectionKey: string, id: number, status: GenerationStatus, physical: string): Promise<void> {
  await q.query(`UPDATE embedform.generations SET status = $3, physical = $4 WHERE collection_key = $1 AND id = $2`, [
    collectionKey,
    id,
    status,
    physical,
  ])
}

export async function setIndexSettings(q: Queryable, collectionKey: string, id: number, settings: IndexSettings, indexName: string): Promise<void> {
  await q.query(`UPDATE embedform.generations SET index_settings = $3::jsonb, index_name = $4 WHERE collection_key = $1 AND id = $2`, [
    collectionKey,
    id,
    JSON.stringify(settings),
    indexName,
  ])
}

export async function deleteGeneration(q: Queryable, collectionKey: string, id: number): Promise<void> {
  await q.query(`DELETE FROM embedform.generations WHERE collection_key = $1 AND id = $2`, [collectionKey, id])
}

export async function readJournal(q: Queryable, collectionKey: string): Promise<Journal | null> {
  const r = await q.query<{ record: Journal | string }>(`SELECT record FROM embedform.journal WHERE collection_key = $1`, [collectionKey])
  const row = r.rows[0]
  return row ? json(row.record) : null
}

export async function writeJournal(q: Queryable, collectionKey: string, j: Journal | null): Promise<void> {
  if (j === null) {
    await q.query(`DELETE FROM embedform.journal WHERE collection_key = $1`, [collectionKey])
    return
  }
  await q.query(
    `INSERT INTO embedform.journal (collection_key, record) VALUES ($1, $2::jsonb)
     ON CONFLICT (collection_key) DO UPDATE SET record = EXCLUDED.record, updated_at = now()`,
    [collectionKey, JSON.stringify(j)],
  )
}

export async function readLockRow(q: Queryable, collectionKey: string): Promise<LockInfo | null> {
  const r = await q.query<{ holder: string; pid: number | null; host: string | null; since: string }>(
    `SELECT holder, pid, host, to_char(since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS since
       FROM embedform.locks WHERE collection_key = $1`,
    [collectionKey],
  )
  const row = r.rows[0]
  if (!row) return null
  return { holder: row.holder, since: row.since, ...(row.pid === null ? {} : { pid: row.pid }), ...(row.host === null ? {} : { host: row.host }) }
}

export async function writeLockRow(q: Queryable, collectionKey: string, info: LockInfo): Promise<void> {
  await q.query(
    `INSERT INTO embedform.locks (collection_key, holder, pid, host, since) VALUES ($1, $2, $3, $4, $5::timestamptz)
     ON CONFLICT (collection_key) DO UPDATE SET holder = EXCLUDED.holder, pid = EXCLUDED.pid, host = EXCLUDED.host, since = EXCLUDED.since`,
    [collectionKey, info.holder, info.pid ?? null, info.host ?? null, info.since],
  )
}

export async function deleteLockRow(q: Queryable, collectionKey: string): Promise<void> {
  await q.query(`DELETE FROM embedform.locks WHERE collection_key = $1`, [collectionKey])
}
