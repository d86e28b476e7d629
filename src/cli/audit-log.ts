import { type FileHandle, open } from 'node:fs/promises';
import { gapPayloadOf, parseLine, recordBody } from '../audit/chain.ts';
import { auditLogFiles } from '../audit/files.ts';
import { forEachLine } from '../audit/lines.ts';
import { CliError, EXIT, inputError } from './failures.ts';

// How `toolgate audit tail | query | verify` read a log: every line must be a record of the hash
// chain. A file that is not a toolgate log, a damaged line or a torn end is said so, never skipped
// in silence (src/cli/audit.ts).

/** Lines read at the top of a file to tell a toolgate log from any other file. */
const SNIFF_LINES = 20;

/** Why a file is not a toolgate audit log, or undefined when its first lines are records. */
export async function notAnAuditLog(file: string): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch {
    // A missing file is the verifier's to report (missing_file).
    return undefined;
  }
  try {
    let lines = 0;
    let first: 'record' | 'other' | 'torn' | undefined;
    let found: boolean | undefined;
    try {
      found = await forEachLine(handle, (line, terminated) => {
        lines += 1;
        const record = parseLine(line) !== undefined;
        first ??= record ? 'record' : terminated ? 'other' : 'torn';
        if (record) return true;
        return lines >= SNIFF_LINES ? false : undefined;
      });
    } catch {
      // A file that cannot be read (a directory, an I/O error) is the verifier's to report too.
      return undefined;
    }
    if (lines === 0) return `${file} is empty: it is not a toolgate audit log`;
    // A record further down means a damaged log, which verification reports as such.
    if (found === true || first !== 'other') return undefined;
    return `${file} is not a toolgate audit log: line 1 is not a hash-chained record (jsonlAudit() and \`toolgate mcp-proxy --audit <file>\` write one)`;
  } finally {
    await handle.close();
  }
}

/** What reading a log found besides its events. */
export interface LogScan {
  readonly events: number;
}

/**
 * Calls `onEvent` with each event of the log at `path` (its rotated files first), in order, until
 * it returns `true`. Throws a CliError (exit 3) when no file of the log exists, when a file is not
 * a toolgate log, and, after the readable events, when a line is damaged or the log ends torn.
 */
export async function scanLog(
  path: string,
  onEvent: (event: Record<string, unknown>) => boolean | undefined,
): Promise<LogScan> {
  const files = auditLogFiles(path);
  let events = 0;
  let damage: string | undefined;
  let opened = 0;
  for (const file of files) {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, 'r');
    } catch (error) {
      if (file !== path) continue;
      throw inputError(error, file);
    }
    opened += 1;
    try {
      const problem = await notAnAuditLog(file);
      if (problem !== undefined) throw new CliError(problem, EXIT.input);
      let lineNo = 0;
      let suspect: number | undefined;
      const stopped = await readLines(file, handle, (line, terminated) => {
        lineNo += 1;
        const parsed = parseLine(line);
        if (parsed === undefined) {
          if (!terminated) {
            damage ??= `${file}:${lineNo}: the log ends in a torn record (an interrupted write; the writer repairs it when it reopens the log)`;
            return undefined;
          }
          // A torn line the writer repaired is followed by its `gap` record; anything else is damage.
          if (suspect !== undefined) damage ??= `${file}:${suspect}: not a record of the log`;
          suspect = lineNo;
          return undefined;
        }
        if (suspect !== undefined) {
          const gap = parsed.kind === 'gap' ? gapPayloadOf(line) : undefined;
          if (gap?.reason !== 'torn') damage ??= `${file}:${suspect}: not a record of the log`;
          suspect = undefined;
        }
        if (!parsed.hashOk) {
          damage ??= `${file}:${lineNo}: the record does not match its hash`;
          return undefined;
        }
        if (parsed.kind !== 'event') return undefined;
        const event = eventOf(line);
        if (event === undefined) {
          // Its hash was recomputed over a body that is no event: damage, not a crash.
          damage ??= `${file}:${lineNo}: the record is not an event`;
          return undefined;
        }
        events += 1;
        return onEvent(event) === true ? true : undefined;
      });
      if (stopped === true) return { events };
      if (suspect !== undefined) damage ??= `${file}:${suspect}: not a record of the log`;
    } finally {
      await handle.close();
    }
  }
  if (opened === 0) throw new CliError(`cannot read ${path}: no such file`, EXIT.input);
  if (damage !== undefined)
    throw new CliError(`${damage}; \`toolgate audit verify\` checks the whole log`, EXIT.input);
  return { events };
}

/** `forEachLine`, with a file that cannot be read to its end reported as such (exit 3). */
async function readLines<T>(
  file: string,
  handle: FileHandle,
  onLine: (line: Buffer, terminated: boolean) => T | undefined,
): Promise<T | undefined> {
  try {
    return await forEachLine(handle, onLine);
  } catch (error) {
    if (error instanceof RangeError) throw new CliError(`${file}: ${error.message}`, EXIT.input);
    const failure = inputError(error, file);
    throw failure instanceof CliError
      ? failure
      : new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT.input, { cause: error });
  }
}

/** The event of an `event` record line, or `undefined` when its body is not JSON or not an object. */
function eventOf(line: Buffer): Record<string, unknown> | undefined {
  try {
    const event = recordBody(line).event;
    return typeof event === 'object' && event !== null && !Array.isArray(event)
      ? (event as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
