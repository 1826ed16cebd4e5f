import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { failure, inputError } from '../core/errors.js'
import { formatHfSource, hfCacheDir, hfFileUrl, type HfRef } from './hf-source.js'

export interface HfFetchOptions {
  offline?: boolean
  env?: NodeJS.ProcessEnv
  /** sha256 the caller pins for this file (profile `model.sha256`). */
  sha256?: string
  onDownload?: (file: string, done: number, total: number | undefined) => void
}

/** Suffix of the marker left for an optional file the repo does not have, so it is not asked for again. */
const ABSENT = '.absent'
const SHA256 = /^"?(?:W\/)?"?([a-f0-9]{64})"?$/

export function isOffline(opts: HfFetchOptions): boolean {
  const flag = (opts.env ?? process.env).HF_HUB_OFFLINE
  return opts.offline === true || flag === '1' || flag?.toLowerCase() === 'true'
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  )
}

/**
 * Returns the cached path of `file` in the repo, downloading it first if needed. `undefined` when
 * an optional file does not exist in the repo. A download lands in `<file>.part` and is renamed only
 * after its size and sha256 check out, so the cache never holds a partial or wrong file.
 */
export async function fetchHfFile(ref: HfRef, file: string, required: boolean, opts: HfFetchOptions = {}): Promise<string | undefined> {
  const env = opts.env ?? process.env
  const target = join(hfCacheDir(ref, env), file)
  if (await exists(target)) return target
  if (await exists(target + ABSENT)) return undefined
  const source = formatHfSource(ref)
  if (isOffline(opts)) {
    if (!required) return undefined
    throw inputError('E_MODEL_NOT_CACHED', `${file} of ${source} is not in the model cache and offline mode is on`, {
      location: { file: target },
      hint: `run \`embedform models pull ${source}\` on a machine with access to ${hfFileUrl(ref, file, env).split('/').slice(0, 3).join('/')}, or unset HF_HUB_OFFLINE`,
    })
  }
  const url = hfFileUrl(ref, file, env)
  const response = await request(url, env)
  if (response.status === 404) {
    if (!required) {
      await mkdir(dirname(target), { recursive: true })
      await writeFile(target + ABSENT, '')
      return undefined
    }
    throw inputError('E_MODEL_NOT_FOUND', `${file} not found in ${source} (404 from ${url})`, {
      hint: 'check the repository name, the revision and the file path (`model.file` in the profile)',
    })
  }
  if (!response.res.ok || !response.res.body) {
    throw failure('E_DOWNLOAD', `downloading ${file} of ${source} failed: HTTP ${response.status} from ${url}`, {
      hint: response.status === 401 || response.status === 403 ? 'the repository may be gated or private: set HF_TOKEN' : 'retry; set HF_ENDPOINT to use a mirror',
    })
  }
  await mkdir(dirname(target), { recursive: true })
  const part = `${target}.part`
  const hash = createHash('sha256')
  let done = 0
  const total = response.size
  try {
    const out = createWriteStream(part)
    const reader = response.res.body.getReader()
    for (;;) {
      const { done: finished, value } = await reader.read()
      if (finished) break
      hash.update(value)
      done += value.length
      if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()))
      opts.onDownload?.(file, done, total)
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  } catch (cause) {
    await rm(part, { force: true })
    throw failure('E_DOWNLOAD', `downloading ${file} of ${source} from ${url} was interrupted: ${(cause as Error).message}`, { hint: 'run the command again', cause })
  }
  const digest = hash.digest('hex')
  const problem =
    total !== undefined && done !== total
      ? `got ${done} bytes, the server announced ${total}`
      : opts.sha256 && opts.sha256.toLowerCase() !== digest
        ? `sha256 ${digest} does not match the pinned ${opts.sha256}`
        : response.sha256 && response.sha256 !== digest
          ? `sha256 ${digest} does not match the server's ${response.sha256}`
          : undefined
  if (problem) {
    await rm(part, { force: true })
    throw failure('E_MODEL_INTEGRITY', `${file} of ${source} failed verification: ${problem}`, {
      location: { file: target },
      hint: opts.sha256 ? 'if the model was updated on purpose, update `model.sha256` in the profile' : 'retry the download; if it persists the mirror serves a corrupted file',
    })
  }
  await rename(part, target)
  return target
}

interface HfResponse {
  res: Response
  status: number
  size: number | undefined
  sha256: string | undefined
}

/**
 * GET with redirects followed by hand: the Hub answers LFS files with a redirect to a CDN and puts
 * the file's sha256 and size on the redirect (X-Linked-ETag, X-Linked-Size), not on the CDN answer.
 * The token goes only to the endpoint's own origin.
 */
async function request(url: string, env: NodeJS.ProcessEnv): Promise<HfResponse> {
  const origin = new URL(url).origin
  let current = url
  let sha256: string | undefined
  let size: number | undefined
  for (let hop = 0; hop < 5; hop++) {
    // identity: Content-Length must describe the bytes we hash, not a compressed transfer.
    const headers: Record<string, string> = { 'accept-encoding': 'identity' }
    if (env.HF_TOKEN && new URL(current).origin === origin) headers.authorization = `Bearer ${env.HF_TOKEN}`
    let res: Response
    try {
      res = await fetch(current, { headers, redirect: 'manual' })
    } catch (cause) {
      throw failure('E_DOWNLOAD', `cannot reach ${current}: ${(cause as Error).message}`, {
        hint: 'check the network, or set HF_ENDPOINT to a reachable mirror; with the model already cached (`embedform models pull`), set HF_HUB_OFFLINE=1 to skip the network',
        cause,
      })
    }
    sha256 ??= shaFrom(res.headers.get('x-linked-etag')) ?? shaFrom(res.headers.get('etag'))
    size ??= numberFrom(res.headers.get('x-linked-size'))
    const location = res.headers.get('location')
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel()
      current = new URL(location, current).toString()
      continue
    }
    return { res, status: res.status, size: numberFrom(res.headers.get('content-length')) ?? size, sha256 }
  }
  throw failure('E_DOWNLOAD', `too many redirects fetching ${url}`)
}

function shaFrom(etag: string | null): string | undefined {
  return etag ? SHA256.exec(etag.trim())?.[1] : undefined
}

function numberFrom(v: string | null): number | undefined {
  return v !== null && /^\d+$/.test(v) ? Number(v) : undefined
}
