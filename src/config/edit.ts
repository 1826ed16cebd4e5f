import { readFile, writeFile } from 'node:fs/promises'
import { isMap, isScalar, parse, parseDocument } from 'yaml'
import { inputError } from '../core/errors.js'
import { didYouMean } from './suggest.js'

export interface ProfileSwitch {
  /** Key paths that changed, with old and new values. */
  changes: { path: string; from: string | null; to: string }[]
}

/**
 * Points collections (all, or one) at another profile by editing embedding.config.yaml so
 * comments, ordering and formatting survive: existing values are replaced in place in the text;
 * only a key that is missing is added through the yaml Document API.
 * Without `collection`, default_profile changes too.
 */
export async function setProfile(configFile: string, profile: string, collection?: string): Promise<ProfileSwitch> {
  const text = await readFile(configFile, 'utf8')
  const doc = parseDocument(text)
  const collections = doc.get('collections')
  const names = isMap(collections) ? collections.items.map((p) => String(isScalar(p.key) ? p.key.value : p.key)) : []
  let paths: string[][]
  if (collection !== undefined) {
    if (!names.includes(collection)) {
      throw inputError('E_REF_COLLECTION', `unknown collection "${collection}"`, { location: { file: configFile, path: 'collections' }, hint: didYouMean(collection, names) })
    }
    paths = [['collections', collection, 'profile']]
  } else {
    paths = [['default_profile'], ...names.filter((n) => doc.hasIn(['collections', n, 'profile'])).map((n) => ['collections', n, 'profile'])]
  }

  const changes: ProfileSwitch['changes'] = []
  const splices: { start: number; end: number }[] = []
  let needsInsert = false
  for (const path of paths) {
    const node = doc.getIn(path, true)
    const from = isScalar(node) ? node.value : undefined
    if (from === profile) continue
    changes.push({ path: path.join('.'), from: typeof from === 'string' ? from : null, to: profile })
    if (isScalar(node) && node.range) splices.push({ start: node.range[0], end: node.range[1] })
    else needsInsert = true
    doc.setIn(path, profile)
  }
  if (changes.length === 0) return { changes }

  let out: string
  if (needsInsert) out = doc.toString({ lineWidth: 0, flowCollectionPadding: false })
  else {
    // A name YAML would read as something else (`true`, `1.5`) must be quoted to stay a string.
    const literal = parse(profile) === profile ? profile : JSON.stringify(profile)
    out = text
    for (const s of splices.sort((a, b) => b.start - a.start)) out = out.slice(0, s.start) + literal + out.slice(s.end)
  }
  await writeFile(configFile, out)
  return { changes }
}
