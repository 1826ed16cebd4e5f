/**
 * What embedform keeps inside the LanceDB database itself (DESIGN.md: the store is the source of
 * truth): one row per generation and one per journal in the table `_embedform_state`, upserted
 * with merge_insert (one commit each, so a record is either written or not), and migration locks
 * as files beside the tables (LanceDB has no locks of its own; a local database is a directory).
 */
import { hostname } from 'node:os'
import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Connection, Table } from '@lancedb/lancedb'
import { failure, type IndexSettings, type Journal, type LockInfo, type Profile, type Release, type VectorStorage } from 'embedform/plugin'
import { arrow, makeArrowTable } from './arrow.js'
import { literal } from './rows.js'

export const STATE_TABLE = '_embedform_state'

export interface GenerationRecord {
  id: number
  /** null for the application's own column, adopted as g1 (no profile made it that embedform knows). */
  profile: string | null
  fingerprint: string | null
  model: string | null
  dimensions: number
  storage: VectorStorage
  normalized: boolean
  indexSettings: IndexSettings | null
  profileSnapshot: Profile | null
  createdAt: string
  /** Table version right after the generation's columns were added (adopted: when it was first seen): rows new or changed since are queued. */
  createdVersion: number
  /** Set at its first cutover: a generation that was live and is not any more is retained. */
  wasLive: boolean
  /** The application's own vectors: unverified until a text changes after adoption. */
  adopted?: boolean
}

const stateSchema = () => new arrow.Schema([new arrow.Field('id', new arrow.Utf8(), false), new arrow.Field('body', new arrow.Utf8(), false)])

export class StateStore {
  constructor(
    private readonly db: Connection,
    private readonly dir: string,
  ) {}

  /** Read-only: a database embedform never wrote to has no state table, and reading must not create it. */
  private async read(): Promise<Table | null> {
    return (await this.db.tableNames()).includes(STATE_TABLE) ? this.db.openTable(STATE_TABLE) : null
  }

  private async writable(): Promise<Table> {
    const t = await this.read()
    return t ?? this.db.createEmptyTable(STATE_TABLE, stateSchema(), { existOk: true })
  }

  private async rows(prefix: string): Promise<{ id: string; body: string }[]> {
    const t = await this.read()
    if (!t) return []
    const rows = await t.query().where(`starts_with(id, ${literal(prefix)})`).select(['id', 'body']).toArray()
    return rows.map((r) => ({ id: String(r.id), body: String(r.body) }))
  }

  private async put(id: string, body: unknown): Promise<void> {
    const t = await this.writable()
    await t.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(makeArrowTable([{ id, body: JSON.stringify(body) }], { schema: stateSchema() }))
  }

  private async remove(id: string): Promise<void> {
    const t = await this.read()
    if (t) await t.delete(`id = ${literal(id)}`)
  }

  async generations(table: string): Promise<GenerationRecord[]> {
    return (await this.rows(`${table}|g`)).map((r) => JSON.parse(r.body) as GenerationRecord).sort((a, b) => a.id - b.id)
  }

  async putGeneration(table: string, g: GenerationRecord): Promise<void> {
    await this.put(`${table}|g${g.id}`, g)
  }

  async dropGeneration(table: string, id: number): Promise<void> {
    await this.remove(`${table}|g${id}`)
  }

  async journal(table: string): Promise<Journal | null> {
    const [row] = await this.rows(`${table}|journal`)
    return row ? (JSON.parse(row.body) as Journal) : null
  }

  async setJournal(table: string, j: Journal | null): Promise<void> {
    if (j) await this.put(`${table}|journal`, j)
    else await this.remove(`${table}|journal`)
  }

  /** Version of the state table (null before it exists): part of what the read-only checks compare. */
  async version(): Promise<number | null> {
    const t = await this.read()
    return t ? t.version() : null
  }

  private lockPath(table: string): string {
    return join(this.dir, '.embedform-locks', `${table}.lock`)
  }

  async lockInfo(table: string): Promise<LockInfo | null> {
    try {
      return JSON.parse(await readFile(this.lockPath(table), 'utf8')) as LockInfo
    } catch {
      return null
    }
  }

  /**
   * O_EXCL creation is atomic on a local file system: of two racing processes exactly one gets
   * the file. A lock left by a process that died on this host is taken over.
   */
  async lock(table: string, holder: string): Promise<Release> {
    const path = this.lockPath(table)
    await mkdir(join(this.dir, '.embedform-locks'), { recursive: true })
    const mine: LockInfo = { holder, pid: process.pid, host: hostname(), since: new Date().toISOString() }
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(path, JSON.stringify(mine), { flag: 'wx' })
        return async () => {
          const now = await this.lockInfo(table)
          if (now && now.pid === mine.pid && now.since === mine.since) await unlink(path).catch(() => undefined)
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
        const held = await this.lockInfo(table)
        if (held && held.host === hostname() && held.pid !== undefined && !alive(held.pid)) {
          await unlink(path).catch(() => undefined)
          continue
        }
        throw failure('E_LOCK_HELD', `table ${table} is locked by ${held?.holder ?? 'another process'} since ${held?.since ?? 'an unknown time'}`, {
          location: { object: path },
          hint: 'wait for that apply to finish; if its process is gone from another host, delete the lock file',
        })
      }
    }
    throw failure('E_LOCK_HELD', `table ${table} lock could not be taken`, { location: { object: path } })
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
