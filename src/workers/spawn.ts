/**
 * The local workers `apply --workers N` starts next to itself: `embedform worker` child processes
 * of the same CLI and configuration, which join the shared backfill as soon as it is planned.
 */
import { type ChildProcess, spawn } from 'node:child_process'

export interface LocalWorkers {
  /** Resolves with the exit codes once every worker has ended. */
  done: Promise<(number | null)[]>
  /** Stops the workers still running (SIGTERM: each finishes its batch in flight). */
  stop(): void
}

export function startLocalWorkers(count: number, collections: string[], args: { config: string; leaseMs: number; batchSize?: number }): LocalWorkers {
  const children: ChildProcess[] = []
  const bin = process.argv[1]!
  for (const collection of collections) {
    for (let i = 0; i < count; i++) {
      const argv = [bin, 'worker', collection, '--config', args.config, '--lease-ms', String(args.leaseMs), '--json', ...(args.batchSize ? ['--batch-size', String(args.batchSize)] : [])]
      children.push(spawn(process.execPath, argv, { stdio: ['ignore', 'ignore', 'inherit'], env: process.env }))
    }
  }
  const done = Promise.all(children.map((c) => new Promise<number | null>((resolve) => c.on('close', (code) => resolve(code)))))
  return {
    done,
    stop: () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM')
    },
  }
}
