/**
 * `embedform` as a library, from a scratch project that depends on it the way npm links a
 * `file:` dependency (node_modules/embedform → the package): only the `exports` map is reachable.
 * The LanceDB plugin is passed by value, with no `plugins:` in the config.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { connect } from '@lancedb/lancedb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROFILES } from '../helpers/cli.js'

const ROOT = resolve(import.meta.dirname, '../..')
let dir: string

function node(script: string): string {
  writeFileSync(join(dir, 'script.mjs'), script)
  return execFileSync(process.execPath, ['script.mjs'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'embedform-library-'))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module', dependencies: { embedform: `file:${ROOT}`, '@embedform/store-lancedb': `file:${ROOT}/packages/store-lancedb` } }))
  mkdirSync(join(dir, 'node_modules', '@embedform'), { recursive: true })
  symlinkSync(ROOT, join(dir, 'node_modules', 'embedform'), 'dir')
  symlinkSync(join(ROOT, 'packages', 'store-lancedb'), join(dir, 'node_modules', '@embedform', 'store-lancedb'), 'dir')
  mkdirSync(join(dir, 'profiles'))
  writeFileSync(join(dir, 'profiles', 'starter.yaml'), PROFILES.starter!)
  writeFileSync(
    join(dir, 'embedding.config.yaml'),
    'version: 1\nstores:\n  lance:\n    kind: lancedb\n    path: ./lance\ncollections:\n  docs:\n    store: lance\n    table: docs\n    key: id\n    text: body\n    vector: embedding\n    profile: starter\n',
  )
  // The application's table, written by the application (this test), not by embedform.
  const db = await connect(join(dir, 'lance'))
  await db.createTable('docs', [1, 2, 3, 4, 5, 6].map((id) => ({ id, body: `document ${id} about ${['mortgages', 'linux', 'football'][id % 3]}` })))
  db.close()
})

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('import("embedform") from a scratch project', () => {
  it('exposes the library, the plugin SDK and the testing kit, and nothing else', () => {
    const out = node(`
      import { existsSync } from 'node:fs'
      import { fileURLToPath } from 'node:url'
      const lib = await import('embedform')
      const sdk = await import('embedform/plugin')
      // The kit registers vitest suites, so it only loads under vitest: here, that it resolves.
      const kitPath = fileURLToPath(import.meta.resolve('embedform/testing'))
      let deep = 'reachable'
      try { await import('embedform/dist/src/core/types.js') } catch (e) { deep = e.code }
      console.log(JSON.stringify({
        lib: ['createEngine', 'plan', 'apply', 'status', 'rollback', 'search', 'loadConfig', 'registerStorePlugin'].filter((f) => typeof lib[f] !== 'function'),
        sdk: ['inputError', 'failure', 'fingerprint', 'stableJson', 'stableHash', 'defineStorePlugin'].filter((f) => typeof sdk[f] !== 'function'),
        kit: existsSync(kitPath) && kitPath.endsWith('dist/src/testing/index.js'),
        hash: sdk.stableHash({ b: 1, a: 2 }) === sdk.stableHash({ a: 2, b: 1 }),
        deep,
      }))
    `)
    expect(JSON.parse(out)).toEqual({ lib: [], sdk: [], kit: true, hash: true, deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED' })
  })

  it('plans, applies, reports status and searches with a store plugin passed by value', () => {
    const out = node(`
      import { createEngine, plan, apply, status, search } from 'embedform'
      import { plugin } from '@embedform/store-lancedb'
      const engine = await createEngine({ config: 'embedding.config.yaml', plugins: [plugin] })
      try {
        const p = await plan(engine)
        const applied = await apply(engine, p)
        const s = await status(engine)
        const found = await search(engine, 'linux kernel', { k: 2 })
        console.log(JSON.stringify({ change: p.collections[0].change, applied: applied.collections[0].generation, live: s.collections[0].live.generation, hits: found.hits.length, generation: found.generation }))
      } finally {
        await engine.close()
      }
    `)
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ change: 'new-generation', applied: 1, live: 1, hits: 2, generation: 1 })
  })
})
