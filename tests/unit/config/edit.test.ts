import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { setProfile } from '../../../src/config/edit.js'
import { scaffold } from '../../../src/config/scaffold.js'
import { loadConfig } from '../../../src/config/index.js'
import { load, project } from './project.js'

const COMMENTED = `# team config — keep this comment
version: 1
default_profile: small # the default
stores:
  local:
    kind: pglite
    path: ./data
collections:
  docs:
    store: local
    table: docs
    key: id
    text: [title, body] # flow list stays flow
    vector: embedding
    profile: small
  notes:
    store: local
    table: notes
    key: id
    text: body
    vector: embedding
    profile: small
`

describe('setProfile', () => {
  it('switches one collection and keeps comments and formatting', async () => {
    const dir = project({ 'embedding.config.yaml': COMMENTED, 'profiles/other.yaml': 'model: builtin:bert-tiny\ndimensions: 32\n' })
    const file = join(dir, 'embedding.config.yaml')
    const { changes } = await setProfile(file, 'other', 'notes')
    expect(changes).toEqual([{ path: 'collections.notes.profile', from: 'small', to: 'other' }])
    expect(readFileSync(file, 'utf8')).toBe(COMMENTED.replace(/(notes:[\s\S]*profile: )small/, '$1other'))
    const config = await load(dir)
    expect(config.collections.notes!.profile).toBe('other')
    expect(config.collections.docs!.profile).toBe('small')
  })

  it('without a collection switches the default and every collection', async () => {
    const dir = project({ 'embedding.config.yaml': COMMENTED, 'profiles/other.yaml': 'model: builtin:bert-tiny\ndimensions: 32\n' })
    const file = join(dir, 'embedding.config.yaml')
    const { changes } = await setProfile(file, 'other')
    expect(changes.map((c) => c.path)).toEqual(['default_profile', 'collections.docs.profile', 'collections.notes.profile'])
    const text = readFileSync(file, 'utf8')
    expect(text).toContain('# team config — keep this comment')
    expect(text).toContain('default_profile: other # the default')
    expect(text).toContain('text: [title, body] # flow list stays flow')
    expect((await setProfile(file, 'other')).changes).toEqual([])
  })

  it('rejects an unknown collection with a suggestion', async () => {
    const dir = project({ 'embedding.config.yaml': COMMENTED })
    await expect(setProfile(join(dir, 'embedding.config.yaml'), 'small', 'note')).rejects.toMatchObject({ code: 'E_REF_COLLECTION', hint: 'did you mean `notes`?' })
  })
})

describe('scaffold', () => {
  it.each(['pglite', 'pgvector', 'opensearch'] as const)('writes a valid %s project with schema lines', async (store) => {
    const dir = project({ 'embedding.config.yaml': null, 'profiles/_base.yaml': null, 'profiles/small.yaml': null })
    const file = join(dir, 'embedding.config.yaml')
    await scaffold(file, store, false)
    expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./schemas/config.schema.json')
    expect(readFileSync(join(dir, 'profiles', 'speed.yaml'), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/profile.schema.json')
    expect(JSON.parse(readFileSync(join(dir, 'schemas', 'profile.schema.json'), 'utf8')).$schema).toMatch(/2020-12/)
    const config = await loadConfig({ configPath: file, env: { DATABASE_URL: 'postgres://localhost/app' } })
    expect(Object.values(config.stores).map((s) => s.kind)).toEqual([store])
    expect(config.collections.docs!.profile).toBe('starter')
    await expect(scaffold(file, store, false)).rejects.toMatchObject({ code: 'E_INIT_EXISTS', exitCode: 2 })
    await expect(scaffold(file, store, true)).resolves.toBeDefined()
  })
})

describe('setProfile adding a missing key', () => {
  it('adds default_profile when the file has none, keeping comments', async () => {
    const text = COMMENTED.replace('default_profile: small # the default\n', '')
    const dir = project({ 'embedding.config.yaml': text, 'profiles/other.yaml': 'model: builtin:bert-tiny\ndimensions: 32\n' })
    const file = join(dir, 'embedding.config.yaml')
    const { changes } = await setProfile(file, 'other')
    expect(changes[0]).toEqual({ path: 'default_profile', from: null, to: 'other' })
    const out = readFileSync(file, 'utf8')
    expect(out).toContain('# team config — keep this comment')
    expect(out).toContain('text: [title, body] # flow list stays flow')
    expect((await load(dir)).defaultProfile).toBe('other')
  })
})
