import { describe, expect, it } from 'vitest'
import { load, loadErrors, project } from './project.js'

const small = (extra: string) => `extends: _base
model: builtin:starter
dimensions: 100
pooling: mean
${extra}`

describe('profile key zero_vectors', () => {
  it('defaults to keep', async () => {
    const config = await load(project())
    expect(config.profiles.small!.zeroVectors).toBe('keep')
  })

  it('reads keep and skip, also inherited through extends', async () => {
    expect((await load(project({ 'profiles/small.yaml': small('zero_vectors: skip\n') }))).profiles.small!.zeroVectors).toBe('skip')
    expect((await load(project({ 'profiles/small.yaml': small('zero_vectors: keep\n') }))).profiles.small!.zeroVectors).toBe('keep')
    const inherited = await load(project({ 'profiles/_base.yaml': 'normalize: true\nzero_vectors: skip\nindex:\n  metric: cosine\n' }))
    expect(inherited.profiles.small!.zeroVectors).toBe('skip')
  })

  it('refuses another value with the file, line and key, and a hint naming the allowed values', async () => {
    const dir = project({ 'profiles/small.yaml': small('zero_vectors: drop\n') })
    const errors = await loadErrors(dir)
    expect(errors).toHaveLength(1)
    const [err] = errors
    expect(err).toMatchObject({ code: 'E_SCHEMA_ENUM', exitCode: 2, location: { line: 5, path: 'zero_vectors', file: expect.stringMatching(/profiles\/small\.yaml$/) } })
    expect(`${err!.message} ${err!.hint ?? ''}`).toMatch(/keep/)
    expect(`${err!.message} ${err!.hint ?? ''}`).toMatch(/skip/)
  })
})
