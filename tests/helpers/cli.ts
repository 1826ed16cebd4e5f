import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

/** The BUILT CLI (`npm run build` first): tests exercise exactly what users run. */
export const CLI_BIN = resolve(import.meta.dirname, '../../bin/run.js')

export interface CliOptions {
  cwd: string
  env?: NodeJS.ProcessEnv
  timeoutMs?: number
  /** Written to stdin, which is then closed (stdin is never a TTY here). */
  input?: string
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface RunningCli {
  child: ChildProcess
  /** Output so far; grows while the process runs. */
  readonly stdout: string
  readonly stderr: string
  /** Resolves with the first stdout line (JSON lines from --json) that `match` accepts. */
  waitFor<T>(match: (line: string) => T | undefined, timeoutMs?: number): Promise<T>
  done: Promise<CliResult>
}

export function spawnCli(args: string[], opts: CliOptions): RunningCli {
  const child = spawn(process.execPath, [CLI_BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let partial = ''
  const lineWaiters = new Set<(line: string) => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) for (const w of [...lineWaiters]) w(line)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  child.stdin.end(opts.input ?? '')

  const timeoutMs = opts.timeoutMs ?? 120_000
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const done = new Promise<CliResult>((resolveDone, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolveDone({ code, signal, stdout, stderr })
    })
  })

  return {
    child,
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
    done,
    waitFor<T>(match: (line: string) => T | undefined, waitMs = timeoutMs): Promise<T> {
      return new Promise<T>((resolveWait, reject) => {
        const finish = (err?: Error, value?: T) => {
          lineWaiters.delete(onLine)
          clearTimeout(t)
          if (err) reject(err)
          else resolveWait(value as T)
        }
        const onLine = (line: string) => {
          const value = match(line)
          if (value !== undefined) finish(undefined, value)
        }
        const t = setTimeout(() => finish(new Error(`no matching output within ${waitMs} ms; stdout:\n${stdout}\nstderr:\n${stderr}`)), waitMs)
        for (const line of stdout.split('\n')) {
          const value = match(line)
          if (value !== undefined) return finish(undefined, value)
        }
        lineWaiters.add(onLine)
        void done.then(() => finish(new Error(`the CLI exited before the expected output; stdout:\n${stdout}\nstderr:\n${stderr}`)))
      })
    },
  }
}

export function runCli(args: string[], opts: CliOptions): Promise<CliResult> {
  return spawnCli(args, opts).done
}

/** Parses --json output made of one object per line, skipping anything that is not JSON. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const line of stdout.split('\n')) {
    const t = line.trim()
    if (!t.startsWith('{')) continue
    try {
      out.push(JSON.parse(t) as Record<string, unknown>)
    } catch {
      // pretty-printed JSON spans lines; callers that expect it parse stdout whole
    }
  }
  return out
}

export type ProjectStore = { kind: 'pgvector'; url: string } | { kind: 'pglite'; path: string }

/**
 * Two profiles of the offline GloVe starter model that differ only in the document prefix:
 * a different fingerprint (so a real migration) at the cost of the fastest encoder we have.
 * The denser HNSW graph (m 32) keeps index recall high on these passages, many of which are
 * near-duplicates; verify searches sampled rows through the index and counts an identical twin
 * as the row finding itself.
 */
export const PROFILES: Record<string, string> = {
  starter: `name: starter
model: { source: "builtin:starter" }
dimensions: 100
pooling: mean
normalize: true
max_tokens: 256
batch_size: 256
index:
  metric: cosine
  pgvector: { type: hnsw, m: 32, ef_construction: 200 }
`,
  passage: `name: passage
extends: starter
prefixes: { document: "passage: ", query: "query: " }
`,
}

/** Writes embedding.config.yaml (one `docs` collection on one store) and profiles/ into `dir`. */
export function writeProject(dir: string, store: ProjectStore, profile: string): string {
  mkdirSync(join(dir, 'profiles'), { recursive: true })
  for (const [name, yaml] of Object.entries(PROFILES)) writeFileSync(join(dir, 'profiles', `${name}.yaml`), yaml)
  const storeYaml = store.kind === 'pgvector' ? `    kind: pgvector\n    url: "${store.url}"` : `    kind: pglite\n    path: "${store.path}"`
  const file = join(dir, 'embedding.config.yaml')
  writeFileSync(
    file,
    `version: 1
stores:
  main:
${storeYaml}
collections:
  docs:
    store: main
    table: docs
    key: id
    text: [title, body]
    vector: embedding
    profile: ${profile}
`,
  )
  return file
}

/**
 * embedding.config.yaml for a `docs` collection embedding the body alone (the retrieval set's
 * subjects are its queries) on PGlite in `./pglite`, with profiles in `./profiles`; `extra` is
 * appended as top-level YAML (e.g. a `lint:` section).
 */
export function pgliteBodyConfig(profile: string, extra = ''): string {
  return `version: 1
profiles_dir: ./profiles
stores:
  main:
    kind: pglite
    path: ./pglite
collections:
  docs:
    store: main
    table: docs
    key: id
    text: [body]
    vector: embedding
    profile: ${profile}
${extra}`
}
