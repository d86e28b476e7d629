import { constants } from 'node:fs';
import { open, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import { ConfigurationError } from '../errors.ts';
import { checkSecretName, type SecretProvider } from './types.ts';

/** Options of `fileSecrets`. */
export interface FileSecretsOptions {
  /** An absolute directory: secret `stripe` is the file `dir/stripe`. */
  readonly dir: string;
}

/** Largest secret file read, in bytes. */
const MAX_BYTES = 64 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Secrets from files, one per secret: `dir/name`, read at each call (a rotated file is picked up).
 * A file is refused when it is readable or writable by its group or by others (mode 0600 or 0400
 * is right), owned by another user (root aside), not a regular file, larger than 64 KiB, empty, or
 * reached through a symbolic link that leads out of `dir` (links inside it, as in Kubernetes
 * secret volumes, are followed). The directory is refused when others may write to it without
 * the sticky bit. One trailing newline is removed. POSIX systems only.
 *
 * @example
 * const provider = fileSecrets({ dir: '/run/secrets' });   // 'stripe' → /run/secrets/stripe
 */
export function fileSecrets(options: FileSecretsOptions): SecretProvider {
  const dir = options?.dir;
  if (typeof dir !== 'string' || !isAbsolute(dir))
    throw new ConfigurationError('fileSecrets() needs { dir } with an absolute path');
  if (process.platform === 'win32')
    throw new ConfigurationError(
      'fileSecrets() relies on POSIX file modes; use callbackSecrets() on Windows',
    );
  return Object.freeze({
    name: 'file',
    async get(name: string) {
      checkSecretName(name);
      const root = await realpath(dir);
      const info = await stat(root);
      if (!info.isDirectory()) throw new Error(`toolgate: ${dir} is not a directory`);
      if ((info.mode & 0o002) !== 0 && (info.mode & 0o1000) === 0)
        throw new Error(`toolgate: ${dir} is writable by everyone (and not sticky); refusing its secrets`);
      let file: string;
      try {
        file = await realpath(join(root, name));
      } catch {
        throw new Error(`toolgate: secret ${name}: no such file in ${dir}`);
      }
      if (!file.startsWith(root.endsWith(sep) ? root : root + sep))
        throw new Error(`toolgate: secret ${name}: the file leads out of ${dir}`);
      // Opened without following a last symlink and without blocking (a FIFO would wait for a
      // writer), then checked through the descriptor: what is checked is what is read.
      const handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
      try {
        const stats = await handle.stat();
        if (!stats.isFile()) throw new Error(`toolgate: secret ${name}: not a regular file`);
        if ((stats.mode & 0o066) !== 0)
          throw new Error(
            `toolgate: secret ${name}: the file is readable or writable by its group or others (mode ${(stats.mode & 0o777).toString(8)}); chmod 600 it`,
          );
        const uid = process.getuid?.();
        if (uid !== undefined && stats.uid !== uid && stats.uid !== 0)
          throw new Error(`toolgate: secret ${name}: the file belongs to another user`);
        if (stats.size > MAX_BYTES)
          throw new Error(`toolgate: secret ${name}: larger than ${MAX_BYTES} bytes`);
        const buffer = Buffer.alloc(MAX_BYTES + 1);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        if (bytesRead > MAX_BYTES)
          throw new Error(`toolgate: secret ${name}: larger than ${MAX_BYTES} bytes`);
        let text: string;
        try {
          text = utf8.decode(buffer.subarray(0, bytesRead));
        } catch {
          throw new Error(`toolgate: secret ${name}: the file is not UTF-8 text`);
        }
        const value = text.replace(/\r?\n$/, '');
        if (value.length === 0) throw new Error(`toolgate: secret ${name}: the file is empty`);
        return { value };
      } finally {
        await handle.close();
      }
    },
  });
}
