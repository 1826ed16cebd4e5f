/** `--batch-size` of the commands that embed rows (apply, sync, worker): unset, the store chooses. */
import { Flags } from '@oclif/core'

export const batchSizeFlag = Flags.integer({
  description:
    "Rows per read / encode / write batch. Default: the store's own (PostgreSQL: 4,000 rows, fewer for vectors wider than 384 dimensions, at most 6 MiB of vectors a batch; OpenSearch: 1,000).",
  min: 1,
})
