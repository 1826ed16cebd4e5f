import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { pickProfile } from '../../../src/config/picker.js'
import type { ProfileSummary } from '../../../src/config/summary.js'

const LIST: ProfileSummary[] = [
  { name: 'minilm', model: 'hf:sentence-transformers/all-MiniLM-L6-v2', dimensions: 384, pooling: 'mean', throughput: 400, bytesPerRow: 1544, usedBy: [], isDefault: false },
  { name: 'starter', model: 'builtin:starter', dimensions: 100, pooling: 'mean', bytesPerRow: 408, usedBy: ['docs'], isDefault: true },
]

async function pick(answers: string): Promise<{ chosen: string; shown: string }> {
  const input = new PassThrough()
  const output = new PassThrough()
  let shown = ''
  output.on('data', (d: Buffer) => (shown += d.toString()))
  const chosen = pickProfile(LIST, input, output)
  input.end(answers)
  return { chosen: await chosen, shown }
}

describe('pickProfile', () => {
  it('shows model, dims, speed and storage, and takes a number', async () => {
    const { chosen, shown } = await pick('2\n')
    expect(chosen).toBe('starter')
    expect(shown).toMatch(/1\s+minilm\s+hf:sentence-transformers\/all-MiniLM-L6-v2\s+384\s+~400\/s\s+1544 B\s+1\.4 GB/)
    expect(shown).toMatch(/2\s+\*\s+starter/)
  })

  it('takes a name after a wrong answer', async () => {
    expect((await pick('9\nminilm\n')).chosen).toBe('minilm')
  })
})

describe('pickProfile without a valid answer', () => {
  it('gives up with a usage error after three tries', async () => {
    await expect(pick('x\ny\nz\n')).rejects.toMatchObject({ code: 'E_USAGE', exitCode: 2 })
  })
})
