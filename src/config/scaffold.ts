import { mkdir, readFile, readdir, writeFile, access } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { inputError } from '../core/errors.js'
import type { StoreKind } from '../core/types.js'
import { storeKinds, storePlugin } from '../store/registry.js'
import { composedSchema, packageRoot } from './schema.js'

export interface ScaffoldResult {
  written: string[]
}

/** The store's own blocks come from its plugin; URLs and secrets from the environment, never the file. */
export function configTemplate(store: StoreKind, schemaRef: string): string {
  const blocks = storePlugin(store).scaffold
  if (!blocks) {
    const can = storeKinds().filter((k) => storePlugin(k).scaffold)
    throw inputError('E_INIT_STORE', `store kind "${store}" has no init template`, { hint: `init supports: ${can.join(', ')}; write the store entry by hand for others` })
  }
  return `# yaml-language-server: $schema=${schemaRef}
# Which profile embeds which collection, in which store. Check it with \`embedform validate\`.
version: 1
default_profile: starter
profiles_dir: ./profiles

stores:
${blocks.store}

collections:
${blocks.collection}
`
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path)
    return true
  } catch {
    return false
  }
}

/**
 * Writes embedding.config.yaml, the seed profiles and the two JSON Schemas next to them, so the
 * `# yaml-language-server: $schema=` lines resolve without network access.
 */
export async function scaffold(configPath: string, store: StoreKind, force: boolean): Promise<ScaffoldResult> {
  const root = packageRoot()
  const configFile = resolve(configPath)
  const dir = dirname(configFile)
  const profilesDir = join(dir, 'profiles')
  const schemasDir = join(dir, 'schemas')
  const seedProfiles = (await readdir(join(root, 'profiles'))).filter((f) => f.endsWith('.yaml')).sort()

  const targets = [configFile, ...seedProfiles.map((f) => join(profilesDir, f))]
  if (!force) {
    const taken = []
    for (const t of targets) if (await exists(t)) taken.push(t)
    if (taken.length > 0) {
      throw inputError('E_INIT_EXISTS', `refusing to overwrite ${taken.map((t) => relative(process.cwd(), t) || t).join(', ')}`, {
        location: { file: taken[0]! },
        hint: 'pass --force to overwrite, or run init in another directory',
      })
    }
  }
  await mkdir(profilesDir, { recursive: true })
  await mkdir(schemasDir, { recursive: true })
  const written: string[] = []
  const schemaRef = `./${relative(dir, join(schemasDir, 'config.schema.json'))}`
  const template = configTemplate(store, schemaRef)
  if (resolve(root) !== resolve(dir)) {
    // With the registered stores' rules in them, so editors check store entries and index sections too.
    for (const name of ['config', 'profile'] as const) {
      await writeFile(join(schemasDir, `${name}.schema.json`), `${JSON.stringify(composedSchema(name), null, 2)}\n`)
      written.push(join(schemasDir, `${name}.schema.json`))
    }
    for (const f of seedProfiles) {
      // Seed profiles already start with `$schema=../schemas/profile.schema.json`, which holds here too.
      await writeFile(join(profilesDir, f), await readFile(join(root, 'profiles', f), 'utf8'))
      written.push(join(profilesDir, f))
    }
  }
  await writeFile(configFile, template)
  written.push(configFile)
  return { written }
}
