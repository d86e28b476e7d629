// Connection settings and skip logic for the SQL oracles (the real PostgreSQL and MariaDB judge
// sqlScope). A server that does not answer skips the oracle with a message, unless
// TOOLGATE_REQUIRE_POSTGRES=1 / TOOLGATE_REQUIRE_MARIADB=1 (CI sets both), which fails instead.
import mysql from 'mysql2/promise';
import pg from 'pg';

export const POSTGRES = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'test',
};

export const MARIADB = {
  host: process.env.MARIADB_HOST ?? '127.0.0.1',
  port: Number(process.env.MARIADB_PORT ?? 3306),
  user: process.env.MARIADB_USER ?? 'root',
  password: process.env.MARIADB_PASSWORD ?? '',
};

async function skipReason(
  name: string,
  variable: string,
  probe: () => Promise<void>,
): Promise<string | undefined> {
  try {
    await probe();
    return undefined;
  } catch (error) {
    const reason = `no ${name} answers (${(error as Error).message}); start one, or set ${variable}=1 to fail instead`;
    if (process.env[variable] === '1') throw new Error(`${variable}=1 but ${reason}`);
    console.warn(`skipping the ${name} oracle: ${reason}`);
    return reason;
  }
}

/** Undefined when PostgreSQL answers, else why the oracle skips (throws with TOOLGATE_REQUIRE_POSTGRES=1). */
export function postgresSkipReason(): Promise<string | undefined> {
  return skipReason('PostgreSQL', 'TOOLGATE_REQUIRE_POSTGRES', async () => {
    const client = new pg.Client({ ...POSTGRES, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
    } finally {
      await client.end().catch(() => {});
    }
  });
}

/** Undefined when MariaDB answers, else why the oracle skips (throws with TOOLGATE_REQUIRE_MARIADB=1). */
export function mariadbSkipReason(): Promise<string | undefined> {
  return skipReason('MariaDB', 'TOOLGATE_REQUIRE_MARIADB', async () => {
    const connection = await mysql.createConnection({ ...MARIADB, connectTimeout: 2000 });
    try {
      await connection.query('SELECT 1');
    } finally {
      await connection.end().catch(() => {});
    }
  });
}

/** A lowercase name no other test run uses (other helpers share the servers). */
export function uniqueName(label: string): string {
  return `tg_${label}_${process.pid.toString(36)}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`;
}

/** The seed CI runs: a fixed one, so that a run never meets a server bug no earlier run met. */
const DEFAULT_SEED = 20261207;

/**
 * The fast-check seed of a generator run, printed by the oracles: TOOLGATE_SQL_SEED=<n> replays a
 * run, TOOLGATE_SQL_SEED=random explores a new one, and without it the fixed DEFAULT_SEED runs.
 */
export function oracleSeed(): number {
  const chosen = process.env.TOOLGATE_SQL_SEED;
  if (chosen === undefined) return DEFAULT_SEED;
  return chosen === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(chosen);
}

/** Generated queries per oracle run (TOOLGATE_SQL_RUNS): 5,000 by default and on Node 20 in CI, 1,000 on 22 and 24 there. */
export const GENERATED_RUNS = Number(process.env.TOOLGATE_SQL_RUNS ?? 5000);
