import { resolve, join } from 'node:path'
import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/base-command.js'
import { inputError } from '../../core/errors.js'
import { BUILTIN_MODELS, buildBuiltinTo, DEFAULT_BUILTINS, ensureBuiltin, readManifest } from '../../models/index.js'

interface BuildRow {
  name: string
  dir: string
  built: boolean
  bytes: number
  sha256: string
  ms: number
}

function humanBytes(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`
}

export default class ModelsBuild extends BaseCommand {
  static override description = `Build the models embedform makes itself (no download needed): ${BUILTIN_MODELS.join(', ')}.
Models are written to the cache (<cache>/models/builtin/NAME) and skipped when already built; --out writes elsewhere.`

  static override examples = [
    '<%= config.bin %> models build --all',
    '<%= config.bin %> models build bert-tiny cross-encoder-tiny --force',
    '<%= config.bin %> models build starter --out ./models --vocab-size 20000 --json',
  ]

  static override strict = false

  static override args = {
    name: Args.string({ description: `Builtin model(s) to build: ${BUILTIN_MODELS.join(', ')}.`, required: false }),
  }

  static override flags = {
    all: Flags.boolean({ description: `Build ${DEFAULT_BUILTINS.join(', ')} (bge-small-shape only when named).`, default: false }),
    force: Flags.boolean({ description: 'Rebuild even if an up-to-date build exists.', default: false }),
    out: Flags.string({ description: 'Write to DIR/NAME instead of the cache (always builds).' }),
    'vocab-size': Flags.integer({ description: 'Vocabulary size (starter: number of words; BERT models: WordPiece entries). Needs --out.', min: 1 }),
  }

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(ModelsBuild)
    const names = [...new Set([...(flags.all ? DEFAULT_BUILTINS : []), ...(argv as string[])])]
    if (names.length === 0) {
      throw inputError('E_USAGE', 'name at least one model or pass --all', { hint: `known builtin models: ${BUILTIN_MODELS.join(', ')}` })
    }
    const unknown = names.filter((n) => !BUILTIN_MODELS.includes(n))
    if (unknown.length > 0) {
      throw inputError('E_MODEL_UNKNOWN', `unknown builtin model${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
        hint: `known builtin models: ${BUILTIN_MODELS.join(', ')}`,
      })
    }
    if (flags['vocab-size'] !== undefined && !flags.out) {
      // A cached builtin with a non-default vocabulary would silently differ from what profiles expect.
      throw inputError('E_USAGE', '--vocab-size only applies to builds written with --out DIR', { location: { path: '--vocab-size' } })
    }
    const log = (m: string): void => this.note(m)
    const rows: BuildRow[] = []
    for (const name of names) {
      const started = Date.now()
      let dir: string
      let built = true
      if (flags.out) {
        dir = join(resolve(flags.out), name)
        log(`building ${name} in ${dir}`)
        await buildBuiltinTo(name, dir, { vocabSize: flags['vocab-size'], log })
      } else {
        ;({ dir, built } = await ensureBuiltin(name, { force: flags.force, log }))
      }
      const manifest = await readManifest(dir)
      rows.push({ name, dir, built, bytes: manifest?.onnx.bytes ?? 0, sha256: manifest?.onnx.sha256 ?? '', ms: Date.now() - started })
    }
    this.emit({ ok: true, models: rows }, () =>
      rows
        .map((r) => `${r.built ? 'built  ' : 'current'} ${r.name.padEnd(20)} ${humanBytes(r.bytes).padStart(10)}  sha256:${r.sha256.slice(0, 12)}  ${r.ms} ms  ${r.dir}`)
        .join('\n'),
    )
  }
}

