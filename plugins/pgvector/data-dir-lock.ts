import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { failure } from '../../src/core/errors.js'

interface LockOwner {
  pid: number
  host: string
  since: string
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockOwner
  } catch {
    return null
  }
}

/**
 * PGlite runs one backend inside one process: two processes opening the same data directory
 * would corrupt it. An exclusive lock file (pid + host) next to the directory keeps the second
 * one out; a lock left by a dead process on this host is taken over.
 */
export function acquireDataDirLock(dataDir: string): () => void {
  const file = `${dataDir}.lock`
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx')
      const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() }
      writeSync(fd, JSON.stringify(me))
      closeSync(fd)
      return () => {
        const owner = readOwner(file)
        if (owner?.pid === me.pid && owner.host === me.host) unlinkSync(file)
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const owner = readOwner(file)
    const stale = owner !== null && owner.host === hostname() && owner.pid !== process.pid && !pidAlive(owner.pid)
    if (owner === null || stale) {
      unlinkSync(file)
      continue
    }
    throw failure('E_LOCK_HELD', `PGlite data directory is in use by pid ${owner.pid} on ${owner.host} since ${owner.since}`, {
      location: { object: `pglite ${dataDir}` },
      hint: `PGlite allows one process at a time; stop that process or remove ${file} if it is gone`,
    })
  }
  throw failure('E_LOCK_HELD', `could not take the lock file ${file}`, { location: { object: `pglite ${dataDir}` } })
}
