import { FILE_PROBLEMS, FileTooLarge, fileProblem, readTextFile } from '../_internal/read-text.ts';
import { GuardError } from '../errors.ts';

// How every `toolgate` command fails: one line per cause and a documented exit code (docs/cli.md).

/** Exit codes shared by every `toolgate` command. */
export const EXIT = {
  /** Done: the log is intact, the policy is valid, every tool is covered, the answer was recorded. */
  ok: 0,
  /** The command ran and its answer is no: tampering found, an invalid policy, a gap, a refused answer. */
  failed: 1,
  /** Bad or missing arguments. */
  usage: 2,
  /** An input is missing, unreadable or not what the command reads (not an audit log, invalid JSON). */
  input: 3,
  /** A service could not be reached (Redis). */
  unavailable: 4,
  /** An optional package the command needs is not installed. */
  missingPackage: 5,
  /** Anything else: a bug; `TOOLGATE_DEBUG=1` prints the stack. */
  internal: 6,
} as const;

/** An exit code of a `toolgate` command. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the command explains in one line, with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
  }
}

/** Bad or missing arguments (exit 2); the command prints its usage after the line. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

/** Package names a command may import on demand, with what each is for. */
const OPTIONAL_PACKAGES: Readonly<Record<string, string>> = {
  ioredis: 'the Redis store',
  yaml: 'YAML policy files',
};

/**
 * Imports an optional peer dependency, or fails with the line that says what to install.
 *
 * @example
 * const { Redis } = await importOptional<typeof import('ioredis')>('ioredis');
 */
export async function importOptional<T>(
  name: string,
  purpose: string | undefined = OPTIONAL_PACKAGES[name],
): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (error) {
    if (missingPackage(error) === name) throw packageMissing(name, purpose, error);
    throw error;
  }
}

function packageMissing(name: string, purpose: string | undefined, cause: unknown): CliError {
  return new CliError(
    `${purpose === undefined ? '' : `${purpose} needs `}the optional package ${name}, which is not installed: npm install ${name}`,
    EXIT.missingPackage,
    { cause },
  );
}

/** The bare package a module-not-found error names, if it is one. */
function missingPackage(error: unknown): string | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' || typeof message !== 'string') return undefined;
  const match = /Cannot find (?:package|module) '([^']+)'/.exec(message);
  const specifier = match?.[1];
  if (specifier === undefined || specifier.startsWith('.') || specifier.startsWith('/')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * The one line and the exit code for any error a command lets through: a CliError as it is, a
 * missing optional package, an unreadable file, a toolgate configuration error (an invalid input),
 * or, for anything else, the message and exit 6.
 */
export function describeFailure(error: unknown): { message: string; exitCode: ExitCode } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  const name = missingPackage(error);
  if (name !== undefined) {
    const failure = packageMissing(name, OPTIONAL_PACKAGES[name], error);
    return { message: failure.message, exitCode: failure.exitCode };
  }
  const { code, path, message } = (error ?? {}) as { code?: unknown; path?: unknown; message?: unknown };
  if (typeof code === 'string' && typeof path === 'string' && FILE_PROBLEMS[code] !== undefined)
    return { message: `cannot read ${path}: ${FILE_PROBLEMS[code]}`, exitCode: EXIT.input };
  if (GuardError.isInstance(error))
    return { message: error.message.replace(/^toolgate: /, ''), exitCode: EXIT.input };
  return {
    message: `${typeof message === 'string' ? message : String(error)} (an unexpected error; TOOLGATE_DEBUG=1 shows where)`,
    exitCode: EXIT.internal,
  };
}

/**
 * Prints the failure of `command` as one line on `stderr` (the stack too with TOOLGATE_DEBUG=1)
 * and returns its exit code.
 */
export function reportFailure(
  command: string,
  error: unknown,
  stderr: (line: string) => void = (line) => console.error(line),
  env: Record<string, string | undefined> = process.env,
): ExitCode {
  const { message, exitCode } = describeFailure(error);
  stderr(`${command}: ${message}`);
  if (env.TOOLGATE_DEBUG === '1' && error instanceof Error && error.stack !== undefined) stderr(error.stack);
  return exitCode;
}

/** A file-system error as a CliError with exit 3, naming the file; other errors unchanged. */
export function inputError(error: unknown, path: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && FILE_PROBLEMS[code] !== undefined)
    return new CliError(`cannot read ${path}: ${FILE_PROBLEMS[code]}`, EXIT.input, { cause: error });
  return error;
}

/**
 * Runs each of `closers` in turn, all of them whatever fails; a failure is printed as one line
 * (`<command>: <message>`). Answers whether all closed cleanly: a command whose audit log or
 * action log could not be completed must not exit 0.
 */
export async function closeAll(
  command: string,
  closers: readonly (() => Promise<unknown>)[],
): Promise<boolean> {
  let clean = true;
  for (const close of closers) {
    try {
      await close();
    } catch (error) {
      clean = false;
      console.error(`${command}: while closing: ${describeFailure(error).message}`);
    }
  }
  return clean;
}

/**
 * Reads an input file of a command, at most `maxBytes` of it: a missing or unreadable file, or one
 * past the bound (a device that never ends), is a CliError naming it (exit 3).
 */
export async function readInput(path: string, maxBytes: number, shown: string = path): Promise<string> {
  try {
    return await readTextFile(path, maxBytes);
  } catch (error) {
    if (error instanceof FileTooLarge)
      throw new CliError(`cannot read ${shown}: it is larger than ${error.limit}`, EXIT.input);
    throw inputError(error, shown);
  }
}

/** Why a file cannot be created or replaced, in words, beyond why one cannot be read. */
const WRITE_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'no such directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
};

/**
 * A file-system error while creating or replacing a file given by path (a key file, an audit
 * log) as a CliError with exit 3, naming the file; other errors unchanged.
 */
export function outputError(error: unknown, path: string): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  const problem =
    typeof code === 'string' && Object.hasOwn(WRITE_PROBLEMS, code)
      ? WRITE_PROBLEMS[code]
      : fileProblem(error);
  if (problem === undefined) return error;
  return new CliError(`cannot write ${path}: ${problem}`, EXIT.input, { cause: error });
}
