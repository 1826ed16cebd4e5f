/**
 * A TCP proxy between a client under test and a server, to play a store restart without
 * restarting a server other tests share: stop() cuts every connection and closes the port, so new
 * connections are refused (ECONNREFUSED) as from a stopped server; start() listens on the same
 * port again.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

export interface TcpProxy {
  /** The port clients connect to; it stays the same across stop() and start(). */
  readonly port: number
  /** Connections accepted so far (all of them, closed ones included). */
  readonly accepted: number
  /** Cuts every open connection and stops listening: connections are refused until start(). */
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>()
  let accepted = 0
  let server: Server | null = null
  let port = 0

  const listen = async (): Promise<void> => {
    const s = createServer((client) => {
      accepted++
      const upstream = connect(target.port, target.host)
      open.add(client)
      open.add(upstream)
      const cut = () => {
        client.destroy()
        upstream.destroy()
        open.delete(client)
        open.delete(upstream)
      }
      client.on('error', cut).on('close', cut)
      upstream.on('error', cut).on('close', cut)
      client.pipe(upstream)
      upstream.pipe(client)
    })
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject)
      s.listen(port, '127.0.0.1', () => resolve())
    })
    port = (s.address() as AddressInfo).port
    server = s
  }

  const stop = async (): Promise<void> => {
    const s = server
    server = null
    for (const socket of open) socket.destroy()
    open.clear()
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  await listen()
  return {
    get port() {
      return port
    },
    get accepted() {
      return accepted
    },
    stop,
    start: async () => {
      if (!server) await listen()
    },
    close: stop,
  }
}

/** `url` with its host and port replaced by the proxy's. */
export function viaProxy(url: string, proxy: TcpProxy): string {
  const u = new URL(url)
  u.hostname = '127.0.0.1'
  u.port = String(proxy.port)
  return u.toString()
}
