/**
 * `toolgate keys generate | rotate | retire | jwks`: Ed25519 key sets for agent credentials, kept
 * as a JWK Set file (the signing key's private half included, so mode 0600).
 */
import { constants } from 'node:fs';
import { open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { GuardError } from '../errors.ts';
import { createKeySet, generateSigningKey, importKeySet, type KeySet } from '../identity/keys.ts';

const USAGE = `usage:
  toolgate keys generate --out <keys.json> [--kid <id>]   a new key set (written mode 0600, never over a file)
  toolgate keys rotate --keys <keys.json> [--kid <id>]    a new signing key; the old one only verifies
  toolgate keys retire <kid> --keys <keys.json>           stop accepting credentials signed by <kid>
  toolgate keys jwks --keys <keys.json>                   print the public JWK Set (for verifiers, jose)

The kid defaults to the key's RFC 7638 thumbprint.`;

class UsageError extends Error {}

/** Where the command writes (injectable for tests). */
export interface KeysCommandIo {
  stdout?: (line: string) => void;
  stderr?: (line: string) => void;
}

/** Runs the `keys` sub-command; resolves with the exit code (0 done, 1 refused, 2 usage). */
export async function run(argv: string[], io: KeysCommandIo = {}): Promise<number> {
  const out = io.stdout ?? ((line: string) => console.log(line));
  const err = io.stderr ?? ((line: string) => console.error(line));
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    out(USAGE);
    return command === undefined ? 2 : 0;
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
        const key = await generateSigningKey(values.kid === undefined ? {} : { kid: values.kid });
        await writeNew(values.out, await createKeySet({ signing: key }));
        out(`generated signing key ${key.kid} in ${values.out} (mode 0600)`);
        return 0;
      }
      case 'rotate': {
        const file = need(values.keys, 'rotate needs --keys <file>');
        const keys = await readKeys(file);
        const previous = keys.signingKeyId;
        const key = await generateSigningKey(values.kid === undefined ? {} : { kid: values.kid });
        keys.rotate(key);
        await replace(file, keys);
        out(
          `signing key is now ${key.kid}${previous === undefined ? '' : `; ${previous} still verifies until retired`}`,
        );
        return 0;
      }
      case 'retire': {
        const file = need(values.keys, 'retire needs --keys <file>');
        const kid = positionals[0];
        if (kid === undefined || positionals.length !== 1) throw new UsageError('retire needs one <kid>');
        const keys = await readKeys(file);
        if (!keys.retire(kid)) {
          err(`toolgate keys: no key ${JSON.stringify(kid)} in ${file}`);
          return 1;
        }
        await replace(file, keys);
        out(`retired ${kid}: credentials it signed are refused from now on`);
        return 0;
      }
      case 'jwks': {
        const file = need(values.keys, 'jwks needs --keys <file>');
        out(JSON.stringify((await readKeys(file)).jwks(), null, 2));
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS')) {
      err(`toolgate keys: ${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    err(`toolgate keys ${command}: ${message(error)}`);
    return 1;
  }
}

function need(value: string | undefined, usage: string): string {
  if (value === undefined) throw new UsageError(usage);
  return value;
}

/** Reads a key set file, refusing one that others may read: it holds a private key. */
async function readKeys(file: string): Promise<KeySet> {
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0)
    throw new Error(
      `${file} is readable or writable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    throw new Error(`${file} is not a JSON key set`);
  }
  return importKeySet(parsed as never);
}

/** Writes a new file, mode 0600, failing if it exists. */
async function writeNew(file: string, keys: KeySet): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST')
      throw new Error(`${file} exists; refusing to overwrite a key file`);
    throw error;
  }
  try {
    await handle.writeFile(`${JSON.stringify(keys.exportPrivate(), null, 2)}\n`);
    await handle.sync();
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
  const target = await realpath(file);
  const temporary = join(dirname(target), `.${process.pid}.${Date.now()}.keys.tmp`);
  try {
    await writeNew(temporary, keys);
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function message(error: unknown): string {
  const text = GuardError.isInstance(error) ? error.message : String((error as Error)?.message ?? error);
  return text.replace(/^toolgate: /, '');
}
