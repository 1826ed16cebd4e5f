import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import { inputError, type EmbedformError, type ErrorLocation } from '../core/errors.js'
import { indexSections, registryRevision, storeKinds, storePlugins } from '../store/registry.js'
import { didYouMean } from './suggest.js'
import { locate, type KeyPath, type YamlFile } from './yaml-file.js'

export type SchemaName = 'config' | 'profile'

/** The package root (holds schemas/ and profiles/), found from this module in src/ or dist/src/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'schemas', 'config.schema.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error('embedform package root not found (schemas/config.schema.json)')
    dir = up
  }
  return dir
}

export function schemaPath(name: SchemaName): string {
  return resolve(packageRoot(), 'schemas', `${name}.schema.json`)
}

const validators = new Map<SchemaName, { revision: number; validate: ValidateFunction }>()

/**
 * The schema file with every registered store plugin's rules put in: one branch per store kind
 * under `stores`, one `index.<section>` per index section. The files in schemas/ hold only what
 * is common to all stores, so a third-party store is validated as strictly as a built-in one.
 */
export function composedSchema(name: SchemaName): Record<string, any> {
  const schema = JSON.parse(readFileSync(schemaPath(name), 'utf8')) as Record<string, any>
  if (name === 'config') {
    const store = schema.$defs.store
    const kinds = storeKinds()
    store.properties.kind = { ...store.properties.kind, enum: kinds }
    store.discriminator = { propertyName: 'kind' }
    store.oneOf = storePlugins().map((p) => ({ $ref: `#/$defs/store_${p.kind}` }))
    for (const p of storePlugins()) {
      schema.$defs[`store_${p.kind}`] = {
        type: 'object',
        description: p.description,
        additionalProperties: false,
        required: ['kind', ...(p.storeSchema.required ?? [])],
        properties: { kind: { type: 'string', const: p.kind }, ...p.storeSchema.properties },
      }
    }
  } else {
    const index = schema.properties.index
    for (const [section, rules] of indexSections()) index.properties[section] = rules.schema
    index.additionalProperties = false
  }
  return schema
}

function validator(name: SchemaName): ValidateFunction {
  const revision = registryRevision()
  let v = validators.get(name)
  if (!v || v.revision !== revision) {
    // strict: schema mistakes fail loudly; verbose: errors carry parentSchema for typo suggestions.
    const ajv = new Ajv2020({ strict: true, allErrors: true, verbose: true, discriminator: true, allowUnionTypes: true })
    v = { revision, validate: ajv.compile(composedSchema(name)) }
    validators.set(name, v)
  }
  return v.validate
}

/** Validates plain data read from `yf`; every error names file:line:column and the key path. */
export function validateSchema(name: SchemaName, data: unknown, yf: YamlFile): EmbedformError[] {
  const validate = validator(name)
  if (validate(data)) return []
  const seen = new Set<string>()
  return relevant(validate.errors ?? [])
    .map((e) => toError(e, yf))
    .filter((e) => {
      // The store-kind enum and the discriminator report the same bad `kind` twice.
      const id = `${e.location?.path}|${e.location?.line}|${e.code}`
      return seen.has(id) ? false : (seen.add(id), true)
    })
}

/** `if`/`then` wrappers repeat what their branch already said; `propertyNames` repeats its inner error. */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  return errors.filter((e) => e.keyword !== 'if' && e.keyword !== 'propertyNames')
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
}

const PATTERN_MEANING: Record<string, string> = {
  '^[A-Za-z_][A-Za-z0-9_]*$': 'an identifier: letters, digits and underscores, not starting with a digit (no quotes, spaces or semicolons)',
  '^([A-Za-z_][A-Za-z0-9_]*\\.)?[A-Za-z_][A-Za-z0-9_]*$': 'a table name (`table` or `schema.table`): letters, digits and underscores only',
  '^[a-z0-9][a-z0-9_-]*$': 'an OpenSearch name: lowercase letters, digits, `_` and `-`, no spaces',
  '^[A-Za-z0-9_][A-Za-z0-9_.-]*$': 'a name of letters, digits, `_`, `.` and `-`',
  '^[A-Za-z_][A-Za-z0-9_-]*$': 'a name of letters, digits, `_` and `-`, not starting with a digit',
  '^(auto|cpu|cuda|cuda:[0-9]+|webgpu)$': 'one of auto, cpu, cuda, cuda:N, webgpu',
  '^[a-f0-9]{64}$': '64 lowercase hex digits (a sha256)',
  '^(ndcg|recall|mrr|map|overlap)@[1-9][0-9]*$': 'a metric like ndcg@10, recall@20, mrr@10, map@10 or overlap@10',
}

const IDENTIFIER_PATTERNS = new Set(['^[A-Za-z_][A-Za-z0-9_]*$', '^([A-Za-z_][A-Za-z0-9_]*\\.)?[A-Za-z_][A-Za-z0-9_]*$', '^[a-z0-9][a-z0-9_-]*$'])

function toError(e: ErrorObject, yf: YamlFile): EmbedformError {
  const base = pointerToPath(e.instancePath)
  const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName
  // A mistyped secret must not be echoed back in the error.
  const secret = /pass(word)?|secret|token|api[_-]?key/i.test(String(base[base.length - 1] ?? ''))
  const shown = (v: unknown) => (secret ? '"****"' : JSON.stringify(v))
  const at = (path: KeyPath, which: 'key' | 'value' = 'value') => locate(yf, path, which)

  if (propertyName !== undefined) {
    const pattern = String((e.params as { pattern?: string }).pattern ?? '')
    return inputError('E_SCHEMA_NAME', `name ${shown(propertyName)} is not allowed: expected ${PATTERN_MEANING[pattern] ?? e.message}`, {
      location: at([...base, propertyName], 'key'),
    })
  }
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty)
      const allowed = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {})
      // Under `index:`, an unknown key is often a store plugin's section whose plugin is not loaded.
      const section = base.length === 1 && base[0] === 'index' ? 'index sections come from store plugins: list the plugin under `plugins:` in embedding.config.yaml' : undefined
      return inputError('E_SCHEMA_UNKNOWN_KEY', `unknown key \`${key}\``, { location: at([...base, key], 'key'), hint: [didYouMean(key, allowed), section].filter(Boolean).join('; ') || undefined })
    }
    case 'required': {
      const key = String((e.params as { missingProperty: string }).missingProperty)
      return inputError('E_SCHEMA_REQUIRED', `missing required key \`${key}\``, { location: { ...at(base, base.length ? 'key' : 'value'), path: [...base, key].join('.') } })
    }
    case 'type': {
      const expected = (e.params as { type: string | string[] }).type
      const list = Array.isArray(expected) ? expected : String(expected).split(',')
      return inputError('E_SCHEMA_TYPE', `expected ${list.map(article).join(' or ')}, got ${secret ? 'a hidden value' : describe(e.data)}`, { location: at(base) })
    }
    case 'enum':
    case 'const': {
      if (base.length === 3 && base[0] === 'stores' && base[2] === 'kind') return unknownKind(e.data, at(base))
      const allowed = e.keyword === 'enum' ? ((e.params as { allowedValues: unknown[] }).allowedValues as unknown[]) : [(e.params as { allowedValue: unknown }).allowedValue]
      return inputError('E_SCHEMA_ENUM', `${shown(e.data)} is not allowed: expected ${allowed.map((a) => shown(a)).join(' | ')}`, {
        location: at(base),
        hint: typeof e.data === 'string' ? didYouMean(e.data, allowed.map(String)) : undefined,
      })
    }
    case 'discriminator': {
      const p = e.params as { error: string; tag: string; tagValue: unknown }
      return unknownKind(p.tagValue, at([...base, p.tag]))
    }
    case 'pattern': {
      const pattern = String((e.params as { pattern: string }).pattern)
      return inputError(IDENTIFIER_PATTERNS.has(pattern) ? 'E_IDENTIFIER' : 'E_SCHEMA_FORMAT', `${shown(e.data)} is not valid: expected ${PATTERN_MEANING[pattern] ?? `a value matching ${pattern}`}`, {
        location: at(base),
      })
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minLength':
    case 'maxLength':
    case 'minItems':
      return inputError('E_SCHEMA_RANGE', `${shown(e.data)} is out of range: ${e.message ?? ''}`, { location: at(base) })
    default:
      return inputError('E_SCHEMA', `${e.message ?? 'invalid value'}`, { location: at(base) })
  }
}

/** The store-kind enum and the discriminator say the same thing; both say it this way. */
function unknownKind(kind: unknown, location: ErrorLocation): EmbedformError {
  const kinds = storeKinds()
  return inputError('E_SCHEMA_ENUM', `kind ${JSON.stringify(kind)} is not a known store kind: expected ${kinds.join(' | ')}`, {
    location,
    hint: [typeof kind === 'string' ? didYouMean(kind, kinds) : undefined, 'a store from a plugin needs it listed under `plugins:` in embedding.config.yaml'].filter(Boolean).join('; '),
  })
}

function article(type: string): string {
  return { object: 'a mapping', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', null: 'null' }[type] ?? type
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'a mapping'
  return `${typeof v} ${JSON.stringify(v)}`
}
