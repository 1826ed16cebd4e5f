import { createInterface } from 'node:readline'
import { inputError } from '../core/errors.js'
import { profileTable, type ProfileSummary } from './summary.js'

const ATTEMPTS = 3

/**
 * Numbered profile picker for a terminal, like the old switch_embedding_profile script: shows
 * model, dimensions, declared speed and storage of each profile; accepts a number or a name.
 */
export async function pickProfile(list: ProfileSummary[], input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<string> {
  const table = profileTable(list).split('\n')
  output.write(`  #  ${table[0]}\n`)
  list.forEach((_, i) => output.write(`${String(i + 1).padStart(3)}  ${table[i + 1]}\n`))
  const prompt = `Profile [1-${list.length} or name]: `
  // The line iterator buffers input, so answers typed (or piped) ahead are not lost between prompts.
  const rl = createInterface({ input, terminal: false })
  try {
    let attempts = 0
    output.write(prompt)
    for await (const line of rl) {
      const answer = line.trim()
      const chosen = (/^\d+$/.test(answer) ? list[Number(answer) - 1] : undefined) ?? list.find((s) => s.name === answer)
      if (chosen) return chosen.name
      output.write(`"${answer}" is not one of the listed profiles\n`)
      if (++attempts >= ATTEMPTS) break
      output.write(prompt)
    }
  } finally {
    rl.close()
  }
  throw inputError('E_USAGE', 'no profile chosen', { hint: 'run `embedform profile use NAME`' })
}
