/** The throttle's command-line flags, shared by `apply` and `sync`, parsed once into ThrottleOptions. */
import { Flags } from '@oclif/core'
import type { ThrottleOptions } from './throttle.js'

export const throttleFlags = {
  'max-rate': Flags.integer({ description: 'Write at most this many rows per second (`embedform resume --max-rate N` changes it while running).', min: 1, helpGroup: 'THROTTLE' }),
  'max-replica-lag': Flags.integer({ description: 'Wait between batches while replicas replay more than this many milliseconds behind (PostgreSQL pg_stat_replication replay_lag).', min: 0, helpGroup: 'THROTTLE' }),
  'max-load': Flags.custom<number>({
    description: 'Wait between batches while the 1-minute load average of this machine is above this number.',
    helpGroup: 'THROTTLE',
    parse: async (input) => {
      const n = Number(input)
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--max-load must be a positive number, got "${input}"`)
      return n
    },
  })(),
}

export function throttleOptions(flags: { 'max-rate'?: number | undefined; 'max-replica-lag'?: number | undefined; 'max-load'?: number | undefined }): ThrottleOptions {
  return {
    limits: {
      ...(flags['max-rate'] !== undefined ? { maxRate: flags['max-rate'] } : {}),
      ...(flags['max-replica-lag'] !== undefined ? { maxReplicaLagMs: flags['max-replica-lag'] } : {}),
      ...(flags['max-load'] !== undefined ? { maxLoad: flags['max-load'] } : {}),
    },
  }
}
