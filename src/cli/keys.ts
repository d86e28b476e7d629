/**
 * `toolgate keys generate | rotate | retire | jwks`: Ed25519 key sets for agent credentials, kept
 * as a JWK Set file (the signing key's private half included, so mode 0600).
 */
import { constants } from 'node:fs';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigurationError, GuardError } from '../errors.ts';
import { createKeySet, generateSigningKey, type KeySet } from '../identity/keys.ts';
import { CliError, EXIT, inputError, outputError, reportFailure, UsageError } from './failures.ts';
import { readKeySetFile } from './key-file.ts';

const USAGE = `usage:
  toolgate keys generate --out <keys.json> [--kid <id>]   a new key set (written mode 0600, never over a file)
  toolgate keys rotate --keys <keys.json> [--kid <id>]    a new signing key; the old one only verifies
  toolgate keys retire <kid> --keys <keys.json>           stop accepting credentials signed by <kid>
  toolgate keys jwks --keys <keys.json>                   print the public JWK Set (for verifiers, jose)

The kid defaults to the key's RFC 7638 thumbprint.
exit codes: 0 done, 1 refused (a file that exists, an unknown kid, the signing key), 2 usage,
3 a key file missing, unreadable, open to others or not a key set (docs/cli.md)`;

/** Largest key set file read (a key is a few hundred bytes). */

/** Where the command writes (injectable for tests). */
export interface KeysCommandIo {
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
  env?: Record<string, string | undefined>;
}

/**
 * Runs the `keys` sub-command; resolves with the exit code: 0 done, 1 refused (a file that exists,
 * an unknown kid, the signing key), 2 usage, 3 a key file that cannot be used (docs/cli.md).
 */
export async function run(argv: string[], io: KeysCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => console.log(line));
  const err = io.stderr ?? ((line: string) => console.error(line));
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { out: { type: 'string' }, keys: { type: 'string' }, kid: { type: 'string' } },
    });
    switch (command) {
      case 'generate': {
        if (values.out === undefined || positionals.length > 0)
          throw new UsageError('generate needs --out <file>');
        const key = await newKey(values.kid);
        await writeNew(values.out, await createKeySet({ signing: key }));
        out(`generated signing key ${key.kid} in ${values.out} (mode 0600)`);
        return EXIT.ok;
      }
      case 'rotate': {
        const file = need(values.keys, 'rotate needs --keys <file>');
        const keys = await readKeys(file);
        const previous = keys.signingKeyId;
        const key = await newKey(values.kid);
        refused(() => keys.rotate(key));
        await replace(file, keys);
        out(
          `signing key is now ${key.kid}${previous === undefined ? '' : `; ${previous} still verifies until retired`}`,
        );
        return EXIT.ok;
      }
      case 'retire': {
        const file = need(values.keys, 'retire needs --keys <file>');
        const kid = positionals[0];
        if (kid === undefined || positionals.length !== 1) throw new UsageError('retire needs one <kid>');
        const keys = await readKeys(file);
        if (!refused(() => keys.retire(kid)))
          throw new CliError(`no key ${JSON.stringify(kid)} in ${file}`, EXIT.failed);
        await replace(file, keys);
        out(`retired ${kid}: credentials it signed are refused from now on`);
        return EXIT.ok;
      }
      case 'jwks': {
        const file = need(values.keys, 'jwks needs --keys <file>');
        out(JSON.stringify((await readKeys(file)).jwks(), null, 2));
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
      err(`toolgate keys: ${(error as Error).message}\n${USAGE}`);
      return EXIT.usage;
    }
    return reportFailure(`toolgate keys ${command}`, error, err, io.env);
  }
}

function need(value: string | undefined, usage: string): string {
  if (value === undefined) throw new UsageError(usage);
  return value;
}

/** A new signing key; a `--kid` the key set would refuse is a usage error. */
async function newKey(kid: string | undefined) {
  try {
    return await generateSigningKey(kid === undefined ? {} : { kid });
  } catch (error) {
    if (ConfigurationError.isInstance(error)) throw new UsageError(`--kid: ${message(error)}`);
    throw error;
  }
}

/** A change the key set refuses (retiring the signing key, a kid it holds already) is the answer no. */
function refused<T>(change: () => T): T {
  try {
    return change();
  } catch (error) {
    if (ConfigurationError.isInstance(error))
      throw new CliError(message(error), EXIT.failed, { cause: error });
    throw error;
  }
}

/**
 * Reads a key set file, refusing one that others may read (it holds a private key), one past the
 * bound and one that is not a key set: each is an input that cannot be used (exit 3).
 */
async function readKeys(file: string): Promise<KeySet> {
  const info = await stat(file).catch((error: unknown) => {
    throw inputError(error, file);
  });
  if ((info.mode & 0o077) !== 0)
    throw new CliError(
      `${file} is readable or writable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
      EXIT.input,
    );
  return readKeySetFile(file);
}

/**
 * Writes a new file, mode 0600, failing if it exists (the answer no, exit 1); a file that cannot be
 * written is named as `shown` (exit 3).
 */
async function writeNew(file: string, keys: KeySet, shown = file): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST')
      throw new CliError(`${shown} exists; refusing to overwrite a key file`, EXIT.failed);
    throw outputError(error, shown);
  }
  try {
    await handle.writeFile(`${JSON.stringify(keys.exportPrivate(), null, 2)}\n`);
    await handle.sync();
  } catch (error) {
    throw outputError(error, shown);
  } finally {
    await handle.close();
  }
}

/**
 * Replaces a key file atomically: a new 0600 file beside it, then a rename. A path that is a
 * symlink names the file it leads to: that file is replaced, and the link stays (renaming over the
 * link would leave the file that every other reader loads, its old keys included, unchanged).
 */
async function replace(file: string, keys: KeySet): Promise<void> {
  const target = await realpath(file).catch((error: unknown) => {
    throw outputError(error, file);
  });
  const temporary = join(dirname(target), `.${process.pid}.${Date.now()}.keys.tmp`);
  try {
    await writeNew(temporary, keys, file);
    await rename(temporary, target).catch((error: unknown) => {
      throw outputError(error, file);
    });
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function message(error: unknown): string {
  const text = GuardError.isInstance(error) ? error.message : String((error as Error)?.message ?? error);
  return text.replace(/^toolgate: /, '');
}
