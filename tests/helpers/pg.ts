import { randomBytes } from 'node:crypto'
import pg from 'pg'

/** Native test server, set up by scripts/setup-postgres.sh. */
export function testPgUrl(): string {
  return process.env.EMBEDFORM_TEST_PG_URL ?? 'postgres://embedform:embedform@127.0.0.1:5432/embedform_test'
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url)
  u.pathname = `/${database}`
  return u.toString()
}

export interface TestDatabase {
  url: string
  /** Runs SQL on a small pool of the test database. */
  sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>
  pool: pg.Pool
  drop(): Promise<void>
}

/**
 * A throwaway database per test file, so files run in parallel without seeing each other's
 * tables, advisory locks or embedform state.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `embedform_t_${randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: testPgUrl() })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = withDatabase(testPgUrl(), name)
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  pool.on('error', () => undefined)
  await pool.query('CREATE EXTENSION IF NOT EXISTS vector')
  return {
    url,
    pool,
    sql: async (text, params) => (await pool.query(text, params)).rows,
    async drop() {
      await pool.end()
      const c = new pg.Client({ connectionString: testPgUrl() })
      await c.connect()
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await c.end()
      }
    },
  }
}

/** `public.<name>` with a bigint key and one text column, filled with `n` rows. */
export async function createDocsTable(db: TestDatabase, name: string, n: number): Promise<void> {
  await db.sql(`CREATE TABLE public.${name} (id bigint PRIMARY KEY, body text)`)
  await db.sql(`INSERT INTO public.${name} (id, body) SELECT i, 'document ' || i || ' on subject ' || (i % 17) FROM generate_series(1, $1::int) i`, [n])
}

/**
 * Test-only instrumentation of `docs`: every write of a vector into `column` is recorded in
 * `embed_writes` (so a test can tell rows written once from rows written twice), and every
 * UPDATE statement sleeps `sleepSeconds`, standing in for a slow encoder so that a kill lands
 * inside the step it aims at.
 */
export async function instrumentVectorWrites(db: TestDatabase, column: string, sleepSeconds: number): Promise<void> {
  await db.sql(`CREATE TABLE embed_writes (id bigint NOT NULL)`)
  await db.sql(`CREATE FUNCTION count_vector_writes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF to_jsonb(NEW) -> '${column}' IS DISTINCT FROM to_jsonb(OLD) -> '${column}'
         AND jsonb_typeof(to_jsonb(NEW) -> '${column}') = 'string' THEN
        INSERT INTO embed_writes (id) VALUES (NEW.id);
      END IF;
      RETURN NULL;
    END $$`)
  await db.sql(`CREATE TRIGGER zz_count_vector_writes AFTER UPDATE ON docs FOR EACH ROW EXECUTE FUNCTION count_vector_writes()`)
  await db.sql(`CREATE FUNCTION slow_writes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(${Number(sleepSeconds)}); RETURN NULL; END $$`)
  await db.sql(`CREATE TRIGGER zz_slow_writes AFTER UPDATE ON docs FOR EACH STATEMENT EXECUTE FUNCTION slow_writes()`)
}
