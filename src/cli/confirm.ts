import { createInterface } from 'node:readline/promises'
import { inputError } from '../core/errors.js'

/**
 * Terraform-style confirmation: only the literal answer `yes` proceeds. Without a terminal to
 * ask on, the caller must have said so up front (`--auto-approve`), never silently assumed.
 */
export function canPrompt(json: boolean, input: NodeJS.ReadStream = process.stdin): boolean {
  return !json && input.isTTY === true
}

export function needsAutoApprove(command: string): never {
  throw inputError('E_NEEDS_APPROVAL', `\`embedform ${command}\` needs confirmation, and there is no terminal to ask on`, {
    hint: `pass --auto-approve to ${command} without a prompt (CI, scripts, --json)`,
  })
}

export async function confirm(
  question: string,
  io: { input?: NodeJS.ReadableStream; output?: NodeJS.WritableStream } = {},
): Promise<boolean> {
  const rl = createInterface({ input: io.input ?? process.stdin, output: io.output ?? process.stderr })
  try {
    const answer = await rl.question(`${question} (yes/no) `)
    return answer.trim().toLowerCase() === 'yes'
  } finally {
    rl.close()
  }
}
