/**
 * Replica replay lag for `--max-replica-lag`: the largest `replay_lag` among the standbys this
 * server streams to (pg_stat_replication, visible on the primary). null: no standby streams.
 */
import type { Queryable } from './driver.js'

export async function replicaLagMs(q: Queryable): Promise<number | null> {
  const r = await q.query<{ ms: number | null }>(`SELECT (extract(epoch FROM max(replay_lag)) * 1000)::float8 AS ms FROM pg_stat_replication`)
  return r.rows[0]?.ms ?? null
}
