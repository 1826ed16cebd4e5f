import { describe, expect, it } from 'vitest'
import { basename } from 'node:path'
import { CONFIG_HEAD, DOCS_BODY, loadErrors, project } from './project.js'

/** Two collections and default_profile all use `small`, which extends `_base`. */
const twoCollections = {
  'embedding.config.yaml': CONFIG_HEAD + DOCS_BODY + '  notes:\n' + DOCS_BODY.replace('table: docs', 'table: notes') + '    adopted_profile: small\n',
}
const summary = (errors: { code: string; location?: { file?: string; path?: string } }[]) => errors.map((e) => `${e.code} ${basename(e.location?.file ?? '')} ${e.location?.path ?? ''}`)

describe('one broken profile file yields one error, not a cascade of unknown-profile errors', () => {
  it('a range error in the profile itself: only that error, although two collections, adopted_profile and default_profile name it', async () => {
    const errors = await loadErrors(project({ ...twoCollections, 'profiles/small.yaml': 'extends: _base\nmodel: builtin:starter\ndimensions: 100\nbatch_size: 0\n' }))
    expect(summary(errors)).toEqual(['E_SCHEMA_RANGE small.yaml batch_size'])
  })

  it('a range error in the parent: only that error, nothing about the profile that extends it', async () => {
    const errors = await loadErrors(project({ ...twoCollections, 'profiles/_base.yaml': 'normalize: true\nbatch_size: 0\n' }))
    expect(summary(errors)).toEqual(['E_SCHEMA_RANGE _base.yaml batch_size'])
  })

  it('a YAML syntax error: only that error', async () => {
    const errors = await loadErrors(project({ ...twoCollections, 'profiles/small.yaml': 'extends: _base\nmodel: [builtin:starter\n' }))
    expect(errors.map((e) => e.code)).toEqual(['E_YAML_SYNTAX'])
  })

  it('a reference to a profile that has no file at all is still an unknown profile, beside the broken file', async () => {
    const files = {
      'embedding.config.yaml': (CONFIG_HEAD + DOCS_BODY + '  notes:\n' + DOCS_BODY.replace('table: docs', 'table: notes').replace('profile: small', 'profile: smal')),
      'profiles/small.yaml': 'extends: _base\nmodel: builtin:starter\ndimensions: 100\nbatch_size: 0\n',
    }
    const errors = await loadErrors(project(files))
    expect(summary(errors)).toEqual(['E_SCHEMA_RANGE small.yaml batch_size', 'E_REF_PROFILE embedding.config.yaml collections.notes.profile'])
  })
})
