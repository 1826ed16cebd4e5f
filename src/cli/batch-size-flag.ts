/** `--batch-size` of the commands that embed rows (apply, sync, worker): unset, the store chooses. */
import { Flags } from '@oclif/core'

export const batchSizeFlag = Flags.integer({
  description:
    "Rows per read / encode / write batch. Default: the store's own (pgvector on PostgreSQL or PGlite: 4,000 rows and at most 6 MiB of vectors, e.g. 1,024 rows of 1,536-d; OpenSearch: 1,000).",
  min: 1,
})
