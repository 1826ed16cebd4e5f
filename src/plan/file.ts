/**
 * Saved plans: JSON on disk, validated against schemas/plan.schema.json (2020-12) when read so
 * apply trusts the typed Plan afterwards. Errors name the file and the key path.
 */
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { EmbedformErrors, failure, inputError } from '../core/errors.js'
import type { Plan } from './types.js'

// ajv-formats is CommonJS; under NodeNext its default export arrives as the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020

/** The package root holds schemas/; walk up because src/ (tests) and dist/src/ (CLI) sit at different depths. */
function schemaPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const candidate = join(dir, 'schemas', 'plan.schema.json')
    if (existsSync(candidate)) return candidate
    const parent = dirname(dir)
    if (parent === dir) throw failure('E_INSTALL', `schemas/plan.schema.json not found above ${fileURLToPath(import.meta.url)}`, { hint: 'reinstall embedform: the package ships schemas/' })
    dir = parent
  }
}

let validator: ValidateFunction | undefined
async function validatePlan(): Promise<ValidateFunction> {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true })
    addFormats(ajv)
    validator = ajv.compile(JSON.parse(await readFile(schemaPath(), 'utf8')) as object)
  }
  return validator
}

/** `/collections/0/steps/2/kind` → `collections[0].steps[2].kind` */
function keyPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean)
  if (extra) parts.push(extra)
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '(root)'
}

export async function readPlanFile(path: string): Promise<Plan> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw inputError('E_PLAN_FILE', `cannot read plan file ${path}`, { location: { file: path }, cause, hint: 'save one with `embedform plan -o plan.json`' })
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (cause) {
    throw inputError('E_PLAN_FILE', `plan file is not valid JSON: ${(cause as Error).message}`, { location: { file: path }, cause })
  }
  const validate = await validatePlan()
  if (!validate(data)) {
    const errors = (validate.errors ?? []).map((e) => {
      const missing = e.keyword === 'required' ? String((e.params as { missingProperty?: string }).missingProperty) : undefined
      const extra = e.keyword === 'additionalProperties' ? String((e.params as { additionalProperty?: string }).additionalProperty) : undefined
      const at = keyPath(e.instancePath, missing ?? extra)
      const message = missing ? 'required key is missing' : extra ? 'unknown key' : (e.message ?? 'invalid value')
      return inputError('E_PLAN_SCHEMA', `${message} in plan file`, {
        location: { file: path, path: at },
        hint: 'plan files are written by `embedform plan -o`; make a new plan rather than editing one',
      })
    })
    throw errors.length === 1 && errors[0] ? errors[0] : new EmbedformErrors(errors)
  }
  const { $schema: _editorHint, ...plan } = data as Plan & { $schema?: string }
  return plan
}

/** Written with a relative `$schema` so editors validate and autocomplete saved plans. */
export async function writePlanFile(path: string, plan: Plan): Promise<void> {
  const schema = relative(dirname(resolve(path)), schemaPath()).split(sep).join('/')
  await writeFile(path, `${JSON.stringify({ $schema: schema, ...plan }, null, 2)}\n`, 'utf8')
}
