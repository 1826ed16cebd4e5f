/**
 * The token a row is read with: the md5 of its text, the transaction that wrote the row version
 * read (`xmin`) and where that version sits (`ctid`), as `md5:xmin:(page,lp)`.
 *
 * A write whose row is still that version writes without reading the text again: the text lives
 * out of line in TOAST while a generation builds, and fetching and hashing it was a third of each
 * row's write. Any edit makes a new version with the editing transaction's xmin, and only a
 * transaction's last version of a row is ever read by others, so an unchanged xmin means unchanged
 * text; a changed one (an edit, or embedform writing another generation of the row meanwhile)
 * falls back to hashing the current text. The location spares the write a lookup to group rows by
 * page (write-path.ts); a row that moved since only loses its heap-only chance.
 */

/** SQL for the token of row `alias`, whose text is `text`. */
export function tokenSql(alias: string, text: string): string {
  return `md5(${text}) || ':' || ${alias}.xmin::text || ':' || ${alias}.ctid::text`
}

/** SQL for the guard: row `alias` (text `text`) is still what the token `token` was read from. */
export function tokenMatchesSql(alias: string, text: string, token: string): string {
  return `(${alias}.xmin::text = split_part(${token}, ':', 2) OR md5(${text}) = split_part(${token}, ':', 1))`
}

/** SQL for the text hash a token carries. */
export function tokenHashSql(token: string): string {
  return `split_part(${token}, ':', 1)`
}

/** The text hash a token carries. */
export function tokenHash(token: string): string {
  return token.split(':', 1)[0]!
}

/** Where the row version a token was read from sat: heap page and line pointer. */
export function tokenLocation(token: string): { page: number; lp: number } | undefined {
  const m = /:\((\d+),(\d+)\)$/.exec(token)
  return m ? { page: Number(m[1]), lp: Number(m[2]) } : undefined
}
