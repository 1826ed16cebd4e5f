/**
 * The configuration layer: embedding.config.yaml + profiles/*.yaml + environment + flags →
 * one typed, checked Config. Everything downstream trusts the result.
 */
import { access } from 'node:fs/promises'
import { resolve } from 'node:path'
import { EmbedformErrors, formatError, inputError, type EmbedformError } from '../core/errors.js'
import type { Collection, Config, Profile } from '../core/types.js'
import { redact } from '../util/redact.js'
import { readConfigFile, type ConfigFile } from './config-file.js'
import { envOverrides, flagOverrides, type OverrideLayer, type ProfileOverrides } from './overrides.js'
import { isAbstractProfile, listProfileFiles, profileNameOf, readProfileFile, type ProfileFile } from './profile-files.js'
import { ProfileResolver, storeProfileErrors, type ResolvedProfile } from './profile-resolve.js'
import { flatten, sourceLabel, sourceLocation, type Leaves, type ValueSource } from './sources.js'
import { didYouMean } from './suggest.js'
import { locate } from './yaml-file.js'

export type { ProfileOverrides } from './overrides.js'
export { OVERRIDES, PROVIDER } from './overrides.js'
export { assertReachable, type Transition } from './reachability.js'
export { isAbstractProfile } from './profile-files.js'
export { sourceLabel, type ValueSource } from './sources.js'

export interface LoadOptions {
  configPath: string
  /** Base for a relative configPath; default process.cwd(). */
  cwd?: string
  env?: NodeJS.ProcessEnv
  overrides?: ProfileOverrides
}

/** One resolved value, its YAML key path and where it came from (flag/env:NAME/file:line/extends:profile/default). */
export interface ResolvedValue {
  path: string
  value: unknown
  source: string
}

export interface ResolvedConfig {
  config: Config
  /** Profile the overrides applied to (flag --profile > EMBEDDING_PROFILE > default_profile). */
  selectedProfile?: string
  /** Config-level values (stores, collections, default profile), secrets redacted. */
  settings: ResolvedValue[]
  /** Every value of every profile, secrets redacted. */
  profiles: Record<string, ResolvedValue[]>
}

export async function loadConfig(opts: LoadOptions): Promise<Config> {
  return (await load(opts)).config
}

export async function resolveWithSources(opts: LoadOptions): Promise<ResolvedConfig> {
  const { config, selected, configFile, resolved, selectedSource } = await load(opts)
  const cwd = opts.cwd ?? process.cwd()
  const settings = rows(
    flatten(configFile.data, (path) => fileSource(configFile, path)),
    cwd,
  )
  const defaultRow = settings.find((r) => r.path === 'default_profile')
  if (selected && selectedSource && selectedSource.kind !== 'file') {
    const row = { path: 'default_profile', value: selected, source: sourceLabel(selectedSource, cwd) }
    if (defaultRow) Object.assign(defaultRow, row)
    else settings.unshift(row)
  }
  if (!settings.some((r) => r.path === 'profiles_dir')) settings.push({ path: 'profiles_dir', value: config.profilesDir, source: 'default' })
  for (const c of Object.values(config.collections)) {
    if (!settings.some((r) => r.path === `collections.${c.name}.profile`)) settings.push({ path: `collections.${c.name}.profile`, value: c.profile, source: 'default_profile' })
  }
  const profiles = Object.fromEntries([...resolved].map(([name, r]) => [name, rows(r.leaves, cwd)]))
  return { config, ...(selected ? { selectedProfile: selected } : {}), settings, profiles }
}

/** A single profile file, with `extends` resolved against the other files in its directory. */
export async function loadProfileFile(path: string, env: NodeJS.ProcessEnv = process.env): Promise<Profile> {
  const file = resolve(path)
  const { files, broken, errors } = await readProfiles(resolve(file, '..'), env, undefined)
  const name = profileNameOf(file)
  if (!files.has(name)) throw bundle(errors.length > 0 ? errors : [inputError('E_PROFILE_MISSING', `profile file not found: ${file}`, { location: { file } })])
  const r = new ProfileResolver(files, broken).resolve(name)
  // No errors of its own: it extends a file that failed, whose errors say what to fix.
  if (Array.isArray(r)) throw bundle(r.length > 0 ? r : errors)
  return r.profile
}

/** Config values safe to print: URL passwords and secret keys replaced. */
export function redactConfig(config: Config): Config {
  return redact(config)
}

interface Loaded {
  config: Config
  configFile: ConfigFile
  selected?: string
  selectedSource?: ValueSource
  resolved: Map<string, ResolvedProfile>
}

async function load(opts: LoadOptions): Promise<Loaded> {
  const env = opts.env ?? process.env
  const configPath = resolve(opts.cwd ?? process.cwd(), opts.configPath)
  const { config: cf, profilesDir, errors: cfErrors } = await readConfigFile(configPath, env)
  if (!cf) {
    const profileErrors = profilesDir ? (await readProfiles(profilesDir, env, undefined)).errors.filter((e) => e.code !== 'E_PROFILES_DIR') : []
    throw bundle([...cfErrors, ...profileErrors])
  }
  const errors: EmbedformError[] = []

  const { files, broken, errors: fileErrors } = await readProfiles(cf.profilesDir, env, cf)
  errors.push(...fileErrors)
  const resolver = new ProfileResolver(files, broken)
  const known = resolver.names()

  const fromEnv = envOverrides(env)
  const fromFlags = flagOverrides(opts.overrides)
  errors.push(...fromEnv.errors, ...fromFlags.errors)

  const selectedBy: { name: string; source: ValueSource } | undefined =
    fromFlags.layer.profile ?? fromEnv.layer.profile ?? (cf.data.default_profile ? { name: cf.data.default_profile, source: fileSource(cf, ['default_profile']) } : undefined)
  if (selectedBy) errors.push(...profileRefErrors(selectedBy.name, sourceLocation(selectedBy.source, 'default_profile'), files, broken, known))

  const collections: Record<string, Collection> = {}
  for (const c of Object.values(cf.collections)) {
    const at = (key: string) => locate(cf.yf, ['collections', c.name, key])
    const profile = c.profile ?? selectedBy?.name
    if (!profile) {
      errors.push(inputError('E_COLLECTION_PROFILE', `collection "${c.name}" names no profile and there is no default_profile`, { location: { ...locate(cf.yf, ['collections', c.name], 'key'), path: `collections.${c.name}.profile` }, hint: `add profile: ${known[0] ?? 'NAME'}` }))
      continue
    }
    if (c.profile) errors.push(...profileRefErrors(c.profile, at('profile'), files, broken, known))
    if (c.adoptedProfile) errors.push(...profileRefErrors(c.adoptedProfile, at('adopted_profile'), files, broken, known))
    collections[c.name] = { ...c, profile }
  }

  const layers = [fromEnv.layer, fromFlags.layer].filter((l) => l.leaves.size > 0)
  const target = selectedBy?.name ?? uniqueProfile(collections)
  if (layers.length > 0 && !target) {
    const set = layers.flatMap((l) => [...l.leaves.values()].map((v) => sourceLabel(v.source)))
    errors.push(inputError('E_OVERRIDE_TARGET', `${set.join(', ')} must apply to one profile, but collections use several and none is selected`, { hint: 'set EMBEDDING_PROFILE (or --profile), or default_profile in the config' }))
  }

  const kindsUsing = (profile: string) => [...new Set(Object.values(collections).filter((c) => c.profile === profile).map((c) => cf.stores[c.store]!.kind))]
  const resolved = new Map<string, ResolvedProfile>()
  const profileErrors: EmbedformError[] = [...resolver.fileErrors()]
  for (const name of known) {
    const r = resolver.resolve(name, name === target ? layers : [], kindsUsing(name))
    if (Array.isArray(r)) profileErrors.push(...r)
    else resolved.set(name, r)
  }
  for (const c of Object.values(collections)) {
    const r = resolved.get(c.profile)
    if (r) profileErrors.push(...storeProfileErrors(r, c.name, cf.stores[c.store]!))
  }
  errors.push(...profileErrors)
  if (errors.length > 0) throw bundle(errors)

  const config: Config = {
    version: 1,
    file: cf.file,
    profilesDir: cf.profilesDir,
    stores: cf.stores,
    collections,
    profiles: Object.fromEntries([...resolved].map(([n, r]) => [n, r.profile])),
    ...(selectedBy ? { defaultProfile: selectedBy.name } : {}),
  }
  return { config, configFile: cf, resolved, ...(selectedBy ? { selected: selectedBy.name, selectedSource: selectedBy.source } : {}) }
}

/**
 * The profile files of `dir` that parsed and passed their schema, and the names of those that
 * did not (`broken`): their own errors are the ones to report, so references to them are not.
 */
async function readProfiles(
  dir: string,
  env: NodeJS.ProcessEnv,
  cf: ConfigFile | undefined,
): Promise<{ files: Map<string, ProfileFile>; broken: Set<string>; errors: EmbedformError[] }> {
  const files = new Map<string, ProfileFile>()
  const broken = new Set<string>()
  const errors: EmbedformError[] = []
  try {
    await access(dir)
  } catch {
    const location = cf ? (cf.data.profiles_dir ? locate(cf.yf, ['profiles_dir']) : { file: cf.file, path: 'profiles_dir' }) : { file: dir }
    return { files, broken, errors: [inputError('E_PROFILES_DIR', `profiles directory not found: ${dir}`, { location, hint: 'run `embedform init` or set profiles_dir' })] }
  }
  for (const path of await listProfileFiles(dir)) {
    const { profile, errors: e } = await readProfileFile(path, env)
    errors.push(...e)
    if (!profile) {
      broken.add(profileNameOf(path))
      continue
    }
    if (files.has(profile.name)) {
      errors.push(inputError('E_PROFILE_DUPLICATE', `profile "${profile.name}" is defined twice (${files.get(profile.name)!.file} and ${path})`, { location: { file: path, line: 1, column: 1 } }))
      continue
    }
    files.set(profile.name, profile)
  }
  return { files, broken, errors }
}

function profileRefErrors(name: string, location: ReturnType<typeof locate>, files: Map<string, ProfileFile>, broken: Set<string>, known: string[]): EmbedformError[] {
  if (known.includes(name) || broken.has(name)) return []
  if (files.has(name) && isAbstractProfile(name)) {
    return [inputError('E_PROFILE_ABSTRACT', `profile "${name}" only exists to be extended and cannot be used directly`, { location, hint: didYouMean(name, known) })]
  }
  return [inputError('E_REF_PROFILE', `unknown profile "${name}"`, { location, hint: didYouMean(name, known) })]
}

function uniqueProfile(collections: Record<string, Collection>): string | undefined {
  const names = new Set(Object.values(collections).map((c) => c.profile))
  return names.size === 1 ? [...names][0] : undefined
}

function fileSource(cf: ConfigFile, path: readonly (string | number)[]): ValueSource {
  const pos = locate(cf.yf, path)
  const env = cf.envPaths.get(path.join('.'))
  return { kind: 'file', file: cf.file, line: pos.line ?? 1, column: pos.column ?? 1, ...(env ? { env } : {}) }
}

function rows(leaves: Leaves, cwd: string): ResolvedValue[] {
  return [...leaves]
    .map(([path, leaf]) => ({ path, value: redactValue(path, leaf.value), source: sourceLabel(leaf.source, cwd) }))
    .sort((a, b) => a.path.localeCompare(b.path))
}

function redactValue(path: string, value: unknown): unknown {
  const key = path.split('.').pop()!
  return (redact({ [key]: value }) as Record<string, unknown>)[key]
}

/** Throws one error as itself and several together; duplicates (a shared parent's problem) once. */
function bundle(errors: EmbedformError[]): EmbedformError {
  const seen = new Set<string>()
  const unique = errors.filter((e) => {
    const id = formatError(e)
    return seen.has(id) ? false : (seen.add(id), true)
  })
  return unique.length === 1 ? unique[0]! : new EmbedformErrors(unique)
}
