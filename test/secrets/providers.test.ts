import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callbackSecrets } from '../../src/secrets/callback.ts';
import { envSecrets } from '../../src/secrets/env.ts';
import { fileSecrets } from '../../src/secrets/file.ts';
import { testSecretProvider } from '../../src/testing/secret-provider-suite.ts';

async function secretDir(secrets: Readonly<Record<string, string>>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'toolgate-secrets-'));
  for (const [name, value] of Object.entries(secrets))
    await writeFile(join(dir, name), `${value}\n`, { mode: 0o600 });
  return dir;
}

const runner = { describe, it };

testSecretProvider('envSecrets', {
  runner,
  async create(secrets) {
    const env: Record<string, string> = { PATH: '/bin' };
    for (const [name, value] of Object.entries(secrets)) env[`TG_SECRET_${name.toUpperCase()}`] = value;
    return { provider: envSecrets({ prefix: 'TG_SECRET_', env }) };
  },
});

testSecretProvider('fileSecrets', {
  runner,
  async create(secrets) {
    const dir = await secretDir(secrets);
    return { provider: fileSecrets({ dir }), cleanup: () => rm(dir, { recursive: true, force: true }) };
  },
});

testSecretProvider('callbackSecrets', {
  runner,
  async create(secrets) {
    const provider = callbackSecrets(async (name) => {
      const value = secrets[name];
      if (value === undefined) throw new Error(`no secret ${name}`);
      return { value, expiresAt: Date.now() + 60_000 };
    });
    return { provider };
  },
});

const REQUEST = { tool: 't', callId: 'c', context: {} };

describe('envSecrets', () => {
  it('needs a prefix, reads NAME upper-cased, refuses unset, empty and dotted names', async () => {
    expect(() => envSecrets({} as never)).toThrow(/prefix/);
    expect(() => envSecrets({ prefix: '' })).toThrow(/prefix/);
    const provider = envSecrets({ prefix: 'APP_', env: { APP_STRIPE: 'sk_1234567890', APP_EMPTY: '' } });
    expect(await provider.get('stripe', REQUEST)).toEqual({ value: 'sk_1234567890' });
    expect(() => provider.get('empty', REQUEST)).toThrow(/APP_EMPTY is not set/);
    expect(() => provider.get('missing', REQUEST)).toThrow(/APP_MISSING is not set/);
    expect(() => provider.get('api.key', REQUEST)).toThrow(/no environment variable/);
  });
});

describe('fileSecrets', () => {
  let dir: string;
  let outside: string;
  beforeAll(async () => {
    dir = await secretDir({ good: 'sk_good_value_1', crlf: 'x' });
    outside = await secretDir({ leaked: 'sk_outside_value' });
    await writeFile(join(dir, 'crlf'), 'sk_crlf_value\r\n', { mode: 0o600 });
    await writeFile(join(dir, 'group'), 'sk_group_value', { mode: 0o640 });
    await chmod(join(dir, 'group'), 0o640);
    await writeFile(join(dir, 'world'), 'sk_world_value', { mode: 0o604 });
    await chmod(join(dir, 'world'), 0o604);
    await writeFile(join(dir, 'writable'), 'sk_writable_value', { mode: 0o620 });
    await chmod(join(dir, 'writable'), 0o620);
    await writeFile(join(dir, 'empty'), '\n', { mode: 0o600 });
    await writeFile(join(dir, 'big'), 'x'.repeat(70_000), { mode: 0o600 });
    await writeFile(join(dir, 'latin1'), Buffer.from([0x73, 0x6b, 0xe9, 0xff]), { mode: 0o600 });
    await symlink(join(outside, 'leaked'), join(dir, 'escape'));
    await mkdir(join(dir, '..data'));
    await writeFile(join(dir, '..data', 'inner'), 'sk_inner_value', { mode: 0o600 });
    await symlink('..data/inner', join(dir, 'linked'));
    await mkdir(join(dir, 'subdir'));
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await chmod(join(dir, 'fifo'), 0o600);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('reads owner-only files and follows links that stay inside the directory', async () => {
    const provider = fileSecrets({ dir });
    expect(await provider.get('good', REQUEST)).toEqual({ value: 'sk_good_value_1' });
    expect(await provider.get('crlf', REQUEST)).toEqual({ value: 'sk_crlf_value' });
    expect(await provider.get('linked', REQUEST)).toEqual({ value: 'sk_inner_value' });
  });

  it('refuses group- or world-accessible files, links out, non-files, big, empty and non-UTF-8 files', async () => {
    const provider = fileSecrets({ dir });
    const cases: [string, RegExp][] = [
      ['group', /group or others/],
      ['world', /group or others/],
      ['writable', /group or others/],
      ['escape', /leads out/],
      ['subdir', /not a regular file/],
      ['fifo', /not a regular file/],
      ['big', /larger than/],
      ['empty', /empty/],
      ['latin1', /not UTF-8/],
      ['missing', /no such file/],
    ];
    for (const [name, reason] of cases)
      await expect(provider.get(name, REQUEST), name).rejects.toThrow(reason);
    for (const name of ['..', '../x', 'a/b', '.hidden'])
      await expect(provider.get(name, REQUEST)).rejects.toThrow(/secret name/);
  });

  it('refuses a directory everyone may write to, and a relative one', async () => {
    expect(() => fileSecrets({ dir: 'secrets' })).toThrow(/absolute/);
    const open = await mkdtemp(join(tmpdir(), 'toolgate-open-'));
    try {
      await writeFile(join(open, 'good'), 'sk_good_value_1', { mode: 0o600 });
      await chmod(open, 0o777);
      await expect(fileSecrets({ dir: open }).get('good', REQUEST)).rejects.toThrow(/writable by everyone/);
      await chmod(open, 0o1777);
      expect(await fileSecrets({ dir: open }).get('good', REQUEST)).toEqual({ value: 'sk_good_value_1' });
    } finally {
      await rm(open, { recursive: true, force: true });
    }
  });
});

describe('callbackSecrets', () => {
  it('checks what the callback returns', async () => {
    expect(() => callbackSecrets('x' as never)).toThrow();
    const answers: unknown[] = [
      'plain-string-value',
      { value: 'object-value-1', expiresAt: 5 },
      { value: '' },
      42,
      { value: 'ok-value-1234', expiresAt: 'soon' },
      '\ud800abcdefgh',
    ];
    const provider = callbackSecrets(() => answers.shift() as never);
    expect(await provider.get('a', REQUEST)).toEqual({ value: 'plain-string-value' });
    expect(await provider.get('a', REQUEST)).toEqual({ value: 'object-value-1', expiresAt: 5 });
    await expect(provider.get('a', REQUEST)).rejects.toThrow(/non-empty string/);
    await expect(provider.get('a', REQUEST)).rejects.toThrow(/\{ value \}/);
    await expect(provider.get('a', REQUEST)).rejects.toThrow(/epoch ms/);
    await expect(provider.get('a', REQUEST)).rejects.toThrow(/lone surrogate/);
  });
});
