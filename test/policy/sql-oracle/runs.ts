import fc from 'fast-check';
import type { PolicyScope } from '../../../src/index.ts';
import type { CorpusEntry } from './corpus.ts';
import { generatedStatements } from './generator.ts';
import { GENERATED_RUNS, oracleSeed } from './servers.ts';
import type { OracleTarget } from './vocabulary.ts';

/** The three scopes every server oracle checks: read-only, read-write, and one table narrower. */
export interface OracleScopes {
  readonly read: PolicyScope;
  readonly write: PolicyScope;
  readonly narrow: PolicyScope;
}

/**
 * The generated half of a server oracle: `GENERATED_RUNS` statements from the grammar-based
 * generator, each judged by the scopes against what the generator knows of it, and every statement
 * a scope allows run on the server as the role that scope stands for (`judge` says what went
 * wrong there: a permission error, or more than one statement, is a bypass). Stops at 20 failures.
 */
export async function runGenerated<C>(
  label: string,
  target: OracleTarget,
  scopes: OracleScopes,
  connections: { readonly read: C; readonly write: C; readonly narrow: C },
  judge: (connection: C, sql: string) => Promise<string | undefined>,
): Promise<{ failures: string[]; ran: number; count: number }> {
  const request = {} as never;
  const seed = oracleSeed();
  console.info(`${label} oracle: seed ${seed} (replay with TOOLGATE_SQL_SEED=${seed})`);
  const statements = fc.sample(generatedStatements(target), { seed, numRuns: GENERATED_RUNS });
  const failures: string[] = [];
  let ran = 0;
  for (const [index, statement] of statements.entries()) {
    const where = `seed ${seed} #${index}: ${statement.sql}`;
    const read = scopes.read.test(statement.sql, request);
    const write = scopes.write.test(statement.sql, request);
    if (read !== (statement.refuse === undefined && !statement.write))
      failures.push(
        `readOnly scope says ${read}, generator: ${statement.refuse ?? 'allow'}${statement.write ? ' (a write)' : ''}\n    ${where}`,
      );
    if (write !== (statement.refuse === undefined))
      failures.push(
        `readOnly: false scope says ${write}, generator: ${statement.refuse ?? 'allow'}\n    ${where}`,
      );
    for (const [allowed, connection] of [
      [read, connections.read],
      [write && statement.write, connections.write],
      [scopes.narrow.test(statement.sql, request), connections.narrow],
    ] as const) {
      if (!allowed) continue;
      ran += 1;
      const problem = await judge(connection, statement.sql);
      if (problem !== undefined) failures.push(`${problem}\n    ${where}`);
    }
    if (failures.length >= 20) break;
  }
  console.info(`${label} oracle: ${statements.length} generated, ${ran} runs on the server`);
  return { failures, ran, count: statements.length };
}

/**
 * The corpus half of an oracle: each entry judged by the scope it is written for (and the other
 * scope agreeing: a read-only scope refuses every write, a read-write one reads alike), and each
 * allowed entry run on the real system by `judge` (a problem there is a bypass).
 */
export async function runCorpus(
  entries: Iterable<CorpusEntry>,
  scopes: Pick<OracleScopes, 'read' | 'write'>,
  judge: (entry: CorpusEntry) => string | undefined | Promise<string | undefined>,
): Promise<string[]> {
  const request = {} as never;
  const failures: string[] = [];
  for (const entry of entries) {
    const scope = entry.write ? scopes.write : scopes.read;
    const verdict = scope.test(entry.sql, request);
    if (verdict !== entry.allow) {
      failures.push(`scope says ${verdict}, corpus ${entry.allow}: ${entry.sql}`);
      continue;
    }
    const other = entry.write ? scopes.read.test(entry.sql, request) : scopes.write.test(entry.sql, request);
    if (other !== (entry.write ? false : entry.allow))
      failures.push(`the other scope says ${other}: ${entry.sql}`);
    if (!entry.allow) continue;
    const problem = await judge(entry);
    if (problem !== undefined) failures.push(`${problem}\n    ${entry.sql}`);
  }
  return failures;
}
