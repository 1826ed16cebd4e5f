import { SingleBar, Presets } from 'cli-progress'

export interface DownloadReporter {
  onDownload: (file: string, done: number, total: number | undefined) => void
  stop(): void
}

const LINE_EVERY_BYTES = 16 * 1024 * 1024

/**
 * Renders model downloads on stderr: a progress bar on a terminal, a plain line per file (and
 * every 16 MiB) otherwise, so CI logs stay readable.
 */
export function downloadReporter(stream: NodeJS.WriteStream = process.stderr): DownloadReporter {
  let bar: SingleBar | undefined
  let current: string | undefined
  let lastLine = 0
  const finish = () => {
    bar?.stop()
    bar = undefined
  }
  return {
    onDownload(file, done, total) {
      if (file !== current) {
        finish()
        current = file
        lastLine = 0
        if (stream.isTTY) {
          bar = new SingleBar({ stream, format: `${file} [{bar}] {percentage}% {value}/{total} bytes`, hideCursor: true }, Presets.shades_classic)
          bar.start(total ?? 0, 0)
        } else stream.write(`downloading ${file}${total === undefined ? '' : ` (${total} bytes)`}\n`)
      }
      if (bar) {
        if (total !== undefined && bar.getTotal() !== total) bar.setTotal(total)
        bar.update(done)
      } else if (done - lastLine >= LINE_EVERY_BYTES || done === total) {
        lastLine = done
        stream.write(`  ${file}: ${done}${total === undefined ? '' : `/${total}`} bytes\n`)
      }
    },
    stop: finish,
  }
}
