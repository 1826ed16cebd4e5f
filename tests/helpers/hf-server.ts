import { createHash } from 'node:crypto'
import { readFile, readdir, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, relative } from 'node:path'

export interface HfServer {
  endpoint: string
  /** Every request path seen, in order. */
  requests: string[]
  /** The Authorization header of each request (undefined when absent), in the same order. */
  authorization: (string | undefined)[]
  /** Serve these bytes instead of the file's (to simulate a corrupted mirror); headers still describe the real file. */
  corrupt: Set<string>
  close(): Promise<void>
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...(await listFiles(full)))
    else out.push(full)
  }
  return out
}

/**
 * A Hugging Face Hub stand-in on 127.0.0.1: serves `dir` as repo `repo` at `/{repo}/resolve/{rev}/{file}`.
 * Like the Hub, `.onnx` files (LFS) answer with a redirect carrying X-Linked-ETag (sha256) and
 * X-Linked-Size, and the redirect target serves the bytes.
 */
export async function startHfServer(repo: string, dir: string, revision = 'main'): Promise<HfServer> {
  const files = new Map<string, Buffer>()
  for (const path of await listFiles(dir)) {
    if ((await stat(path)).isFile()) files.set(relative(dir, path).split('\\').join('/'), await readFile(path))
  }
  const requests: string[] = []
  const authorization: (string | undefined)[] = []
  const corrupt = new Set<string>()
  const prefix = `/${repo}/resolve/${revision}/`
  const server: Server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '')
    requests.push(url)
    authorization.push(req.headers.authorization)
    const cdn = url.startsWith('/cdn/') ? url.slice('/cdn/'.length) : undefined
    const file = cdn ?? (url.startsWith(prefix) ? url.slice(prefix.length) : undefined)
    const body = file === undefined ? undefined : files.get(file)
    if (file === undefined || !body) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Entry not found')
      return
    }
    const sha = createHash('sha256').update(body).digest('hex')
    if (cdn === undefined && file.endsWith('.onnx')) {
      res.writeHead(302, { location: `/cdn/${file}`, 'x-linked-etag': `"${sha}"`, 'x-linked-size': String(body.length) }).end()
      return
    }
    const sent = corrupt.has(file) ? Buffer.from(body).fill(0x41, 0, Math.min(64, body.length)) : body
    res.writeHead(200, { 'content-length': String(sent.length), 'content-type': 'application/octet-stream' }).end(sent)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    authorization,
    corrupt,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  }
}
