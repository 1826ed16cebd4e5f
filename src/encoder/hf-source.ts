import { join } from 'node:path'
import { inputError } from '../core/errors.js'
import { modelsCacheDir } from '../util/paths.js'

/** A parsed `hf:owner/name[@revision]`. */
export interface HfRef {
  owner: string
  name: string
  revision: string
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const REVISION = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/

export function isHfSource(source: string): boolean {
  return source.startsWith('hf:')
}

export function parseHfSource(source: string, where?: { file?: string; path?: string }): HfRef {
  const body = source.slice('hf:'.length)
  const at = body.indexOf('@')
  const repo = at === -1 ? body : body.slice(0, at)
  const revision = at === -1 ? 'main' : body.slice(at + 1)
  const [owner, name, ...rest] = repo.split('/')
  if (!owner || !name || rest.length > 0 || !NAME.test(owner) || !NAME.test(name) || !REVISION.test(revision) || revision.includes('..')) {
    throw inputError('E_MODEL_SOURCE', `"${source}" is not a Hugging Face model source`, {
      location: where,
      hint: 'write it as hf:owner/name or hf:owner/name@revision, e.g. hf:BAAI/bge-small-en-v1.5@main',
    })
  }
  return { owner, name, revision }
}

export function formatHfSource(ref: HfRef): string {
  return `hf:${ref.owner}/${ref.name}@${ref.revision}`
}

export function hfEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '')
}

/** `${HF_ENDPOINT}/${owner}/${name}/resolve/${revision}/${file}` — the Hub's file layout. */
export function hfFileUrl(ref: HfRef, file: string, env: NodeJS.ProcessEnv = process.env): string {
  const path = file.split('/').map(encodeURIComponent).join('/')
  return `${hfEndpoint(env)}/${ref.owner}/${ref.name}/resolve/${encodeURIComponent(ref.revision)}/${path}`
}

/** `<models cache>/hf/<owner>--<name>/<revision>` */
export function hfCacheDir(ref: HfRef, env: NodeJS.ProcessEnv = process.env): string {
  return join(modelsCacheDir(env), 'hf', `${ref.owner}--${ref.name}`, ref.revision)
}
