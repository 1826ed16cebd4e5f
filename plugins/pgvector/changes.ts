/**
 * The freshness record of a collection, kept next to embedform's state:
 *
 * - a change queue `embedform.q_<id>` (generation, key): every insert, delete, key change and text
 *   edit the application makes is queued for every generation the collection has (building, live
 *   and retained alike) by one AFTER ROW trigger on the application's table;
 * - a text-hash table `embedform.h_<id>` (generation, key, md5 of the text the vector was made from),
 *   written in the same statement as the vector.
 *
 * A row is fresh in a generation when its vector is there and its recorded hash equals the md5 of
 * its current text; a row that is stale or missing is queued, unless the record itself is wrong
 * (what verify calls untracked). Catch-up reads the queue, so its cost follows the changes, not
 * the table. The queue is keyed by (generation, key): repeated edits of one row stay one entry.
 */
import { createHash } from 'node:crypto'
import type { Queryable } from './driver.js'
import { boundedName, quoteIdent } from './identifiers.js'
import type { TableRef } from './table-ref.js'

export interface ChangeRecord {
  /** `embedform."q_…"`, ordered for catch-up by its `q_…_seq` index */
  queue: string
  /** `embedform."h_…"` */
  hashes: string
  /** `embedform."chg_…"` */
  fn: string
  /** Trigger name on the application's table. */
  trigger: string
  /** Unqualified name of the queue's (g, seq) index. */
  seqIndex: string
  /** NOTIFY channel the trigger signals at commit, payload the generation ids (`2,3`). */
  channel: string
}

export function changeRecord(ref: TableRef): ChangeRecord {
  const id = createHash('sha256').update(ref.collectionKey).digest('hex').slice(0, 16)
  return {
    queue: `embedform.${quoteIdent(`q_${id}`)}`,
    hashes: `embedform.${quoteIdent(`h_${id}`)}`,
    fn: `embedform.${quoteIdent(`chg_${id}`)}`,
    trigger: boundedName(`embedform_changes_${id}`),
    seqIndex: `q_${id}_seq`,
    channel: `embedform_${id}`,
  }
}

/** Transaction-local marker of embedform's own vector writes, which the trigger must not queue. */
export const WRITER_SETTING = 'embedform.writer'

export interface TrackedGeneration {
  id: number
  /** The generation's column right now (the live one is the collection's vector column). */
  physical: string
}

/**
 * Creates the queue and hash tables if needed and (re)installs the trigger for `generations`.
 * Runs again whenever generations come or go or columns are renamed, since the function names
 * each generation's column. A vector the application writes itself (not through embedform)
 * loses its recorded hash and is queued: nothing vouches for how it was made.
 */
export async function installChangeRecord(tx: Queryable, ref: TableRef, generations: TrackedGeneration[]): Promise<void> {
  const r = changeRecord(ref)
  await tx.query(`CREATE SEQUENCE IF NOT EXISTS embedform.change_seq`)
  await tx.query(
    `CREATE TABLE IF NOT EXISTS ${r.queue} (
       g integer NOT NULL, k text NOT NULL, seq bigint NOT NULL, at timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY (g, k))`,
  )
  await tx.query(`CREATE INDEX IF NOT EXISTS ${quoteIdent(r.seqIndex)} ON ${r.queue} (g, seq)`)
  await tx.query(`CREATE TABLE IF NOT EXISTS ${r.hashes} (g integer NOT NULL, k text NOT NULL, h text NOT NULL, PRIMARY KEY (g, k))`)
  await tx.query(`DROP TRIGGER IF EXISTS ${quoteIdent(r.trigger)} ON ${ref.qualified}`)
  if (generations.length === 0) return
  const key = quoteIdent(ref.key)
  const enqueue = (row: 'NEW' | 'OLD', ids: number[]) =>
    `INSERT INTO ${r.queue} (g, k, seq) SELECT g, ${row}.${key}::text, nextval('embedform.change_seq') FROM unnest('{${ids.map((g) => Math.trunc(g)).join(',')}}'::int[]) AS g
       ON CONFLICT (g, k) DO UPDATE SET seq = EXCLUDED.seq, at = now();`
  const ids = generations.map((g) => g.id)
  // NOTIFY is delivered at commit and folds identical payloads of one transaction into one, so a
  // bulk edit of a million rows wakes a watching sync once, and an aborted edit never does.
  const notify = (gs: number[]) => `PERFORM pg_notify('${r.channel}', '${gs.map((g) => Math.trunc(g)).join(',')}');`
  const sameText = ref.textColumns.map((col) => `NEW.${quoteIdent(col)} IS NOT DISTINCT FROM OLD.${quoteIdent(col)}`).join(' AND ')
  const vectorEdits = generations
    .map(
      (g) => `IF NEW.${quoteIdent(g.physical)} IS DISTINCT FROM OLD.${quoteIdent(g.physical)} THEN
           DELETE FROM ${r.hashes} WHERE g = ${Math.trunc(g.id)} AND k = NEW.${key}::text;
           ${enqueue('NEW', [g.id])}
           ${notify([g.id])}
         END IF;`,
    )
    .join('\n')
  await tx.query(
    `CREATE OR REPLACE FUNCTION ${r.fn}() RETURNS trigger LANGUAGE plpgsql AS $body$
     BEGIN
       IF TG_OP = 'UPDATE' THEN
         ${vectorEdits}
         IF NEW.${key} IS NOT DISTINCT FROM OLD.${key} AND ${sameText} THEN
           RETURN NULL;
         END IF;
       END IF;
       IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND NEW.${key} IS DISTINCT FROM OLD.${key}) THEN
         ${enqueue('OLD', ids)}
       END IF;
       IF TG_OP <> 'DELETE' THEN
         ${enqueue('NEW', ids)}
       END IF;
       ${notify(ids)}
       RETURN NULL;
     END
     $body$`,
  )
  const watched = [...new Set([ref.key, ...ref.textColumns, ...generations.map((g) => g.physical)])].map(quoteIdent).join(', ')
  await tx.query(
    // Tested in WHEN, embedform's own writes queue no trigger event at all: as a test inside the
    // function, every row written paid for an event and a PL/pgSQL call (1.2 µs of a row's 21).
    `CREATE TRIGGER ${quoteIdent(r.trigger)} AFTER INSERT OR DELETE OR UPDATE OF ${watched}
       ON ${ref.qualified} FOR EACH ROW WHEN (current_setting('${WRITER_SETTING}', true) IS DISTINCT FROM 'on') EXECUTE FUNCTION ${r.fn}()`,
  )
}

/** Removes the trigger, its function and both tables (the collection has no generation left). */
export async function dropChangeRecord(tx: Queryable, ref: TableRef): Promise<void> {
  const r = changeRecord(ref)
  await tx.query(`DROP TRIGGER IF EXISTS ${quoteIdent(r.trigger)} ON ${ref.qualified}`)
  await tx.query(`DROP FUNCTION IF EXISTS ${r.fn}()`)
  await tx.query(`DROP TABLE IF EXISTS ${r.queue}`)
  await tx.query(`DROP TABLE IF EXISTS ${r.hashes}`)
}

export async function forgetGeneration(tx: Queryable, ref: TableRef, generation: number): Promise<void> {
  const r = changeRecord(ref)
  await tx.query(`DELETE FROM ${r.queue} WHERE g = $1`, [generation])
  await tx.query(`DELETE FROM ${r.hashes} WHERE g = $1`, [generation])
}

export async function changeRecordExists(q: Queryable, ref: TableRef): Promise<boolean> {
  const r = changeRecord(ref)
  const res = await q.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS ok`, [r.queue, r.hashes])
  return res.rows[0]?.ok === true
}

/**
 * The change sequence's last value: every queue entry made after this call has a higher seq.
 * (Sequences are not transactional, so this holds for entries of transactions still open.)
 */
export async function queueHighWater(q: Queryable): Promise<string> {
  const r = await q.query<{ seq: string }>(`SELECT last_value::text AS seq FROM embedform.change_seq`)
  return r.rows[0]?.seq ?? '0'
}
