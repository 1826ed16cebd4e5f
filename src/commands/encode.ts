import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { access, constants } from 'node:fs/promises'
import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { inputError } from '../core/errors.js'
import { loadConfig } from '../config/index.js'
import { overrideFlags, overridesFromFlags } from '../config/flags.js'
import { downloadReporter, formatOutputLine, openEncoder, readInputBatches, selectedProfile, type TextKind } from '../encoder/index.js'

export default class Encode extends BaseCommand {
  static override description = `Encode texts with a profile: JSONL in, JSONL out.
Each input line is {"id": ..., "text": "..."}, a JSON string, or plain text (ids default to the line number).
Each output line is {"id": ..., "vector": [...]}, in input order. With --json and --output FILE, a summary is printed.

SIGTERM or Ctrl-C stops after the batch in flight: every line written is complete, and the error says how many texts were encoded (exit 143 / 130).`

  static override examples = [
    `echo '{"id":1,"text":"machine learning"}' | <%= config.bin %> encode --profile starter`,
    '<%= config.bin %> encode --profile starter --kind query --input queries.jsonl --output vectors.jsonl',
    '<%= config.bin %> encode --model builtin:bert-tiny --dimensions 32 --input texts.txt --output - ',
  ]

  static override flags = {
    ...overrideFlags,
    kind: Flags.string({ description: 'Which prefix of the profile to apply.', options: ['query', 'document'], default: 'document' }),
    input: Flags.string({ char: 'i', description: 'JSONL file to read, or - for stdin.', default: '-' }),
    output: Flags.string({ char: 'o', description: 'JSONL file to write, or - for stdout.', default: '-' }),
    offline: Flags.boolean({ description: 'Never download model files (same as HF_HUB_OFFLINE=1).', default: false }),
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Encode)
    // Checked before the model loads: a typo in a path should not cost a model download.
    if (flags.input !== '-') {
      await access(flags.input, constants.R_OK).catch((e: Error) => {
        throw inputError('E_INPUT_FILE', `cannot read ${flags.input}: ${e.message}`, { location: { file: flags.input }, hint: 'pass an existing JSONL file, or --input - for stdin' })
      })
    }
    const config = await loadConfig({ configPath: flags.config, overrides: overridesFromFlags(flags) })
    const profile = selectedProfile(config)
    const progress = downloadReporter()
    const encoder = await openEncoder(profile, { offline: flags.offline, log: (m) => this.note(m), onDownload: progress.onDownload }).finally(() => progress.stop())
    const inputName = flags.input === '-' ? '<stdin>' : flags.input
    const input = flags.input === '-' ? process.stdin : createReadStream(flags.input)
    const output = flags.output === '-' ? process.stdout : createWriteStream(flags.output)
    const started = performance.now()
    let count = 0
    let lastId: unknown
    const interrupt = this.interruptible('stopping after the batch in flight; every line written is complete')
    try {
      const batches = readInputBatches(input, inputName, Math.max(profile.batchSize * 4, 64))
      for await (const { items, vectors } of encoder.encodeStream(batches, flags.kind as TextKind)) {
        const chunk = items.map((item, k) => formatOutputLine(item.id, vectors[k] as Float32Array)).join('')
        if (!output.write(chunk)) await once(output, 'drain')
        count += items.length
        lastId = items.at(-1)?.id
        if (interrupt.signal.aborted) break
      }
    } finally {
      interrupt.release()
      await encoder.close()
      if (output !== process.stdout) await new Promise<void>((resolve) => (output as NodeJS.WritableStream).end(resolve))
    }
    if (interrupt.signal.aborted) {
      const upTo = count > 0 ? `, up to id ${JSON.stringify(lastId)}` : ''
      throw this.interrupted(
        `encode was interrupted after ${count} text(s): ${flags.output === '-' ? 'the output' : flags.output} holds their vectors${upTo}, one complete line each, in input order`,
        count > 0 ? `encode the input after id ${JSON.stringify(lastId)} again and append its output` : 'run the same encode again',
      )
    }
    const seconds = (performance.now() - started) / 1000
    const summary = { profile: profile.name, texts: count, dimensions: encoder.dimensions, provider: encoder.provider, seconds: Number(seconds.toFixed(3)), output: flags.output }
    if (flags.output === '-') this.note(`encoded ${count} texts with ${profile.name} on ${encoder.provider} in ${summary.seconds}s`)
    else this.emit(summary, () => `encoded ${count} texts (${encoder.dimensions}-d, ${profile.name} on ${encoder.provider}) in ${summary.seconds}s → ${flags.output}`)
  }
}
