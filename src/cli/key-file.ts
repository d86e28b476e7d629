import { GuardError } from '../errors.ts';
import { importKeySet, type KeySet } from '../identity/keys.ts';
import { CliError, EXIT, readInput } from './failures.ts';

// A key set given by path (`toolgate keys --keys`, `toolgate mcp-proxy --listen --keys`): read up to
// a bound, and every way it cannot be used is an input problem (exit 3, docs/cli.md).

/** A key set file past this is refused unread (docs/cli.md: a key 1 MiB). */
export const MAX_KEY_FILE_BYTES: number = 1024 * 1024;

/**
 * Reads a key set (private keys, or the public JWK Set of `toolgate keys jwks`). A file that is
 * missing, unreadable, past the bound, not JSON or not a key set is a CliError with exit 3; the
 * message never quotes the file, which may hold a private key.
 */
export async function readKeySetFile(file: string): Promise<KeySet> {
  const text = await readInput(file, MAX_KEY_FILE_BYTES);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not the parser's message: it quotes the file.
    throw new CliError(`${file} is not a JSON key set`, EXIT.input);
  }
  try {
    return await importKeySet(parsed as never);
  } catch (error) {
    if (GuardError.isInstance(error) || error instanceof TypeError)
      throw new CliError(
        `${file} is not a key set: ${error.message.replace(/^toolgate: /, '')}`,
        EXIT.input,
        {
          cause: error,
        },
      );
    throw error;
  }
}
