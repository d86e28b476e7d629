import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as agents } from '../../src/cli/agents.ts';
import { run as consoleCommand } from '../../src/cli/console.ts';
import { EXIT } from '../../src/cli/failures.ts';
import { run as keys } from '../../src/cli/keys.ts';
import { main } from '../../src/cli/main.ts';
import { Accounts } from '../../src/console/accounts.ts';
import { memoryStore } from '../../src/store/memory.ts';
import { captureConsole } from '../audit/helpers.ts';

// docs/cli.md promises the same for every `toolgate` command: a failure is one line on stderr
// naming the cause (the usage may follow a usage error), never a stack, with the documented exit
// code; a file given by path is read up to a bound. Here for `keys`, `agents` and `console`, over
// every kind of input failure: a missing, unreadable, oversized or non-JSON file, a Redis that does
// not answer, ioredis not installed, bad usage, and the refusals that are the answer no (exit 1).

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const HIDE = join(import.meta.dirname, 'fixtures', 'hide-packages.mjs');
const dir = mkdtempSync(join(tmpdir(), 'toolgate-cli-contract-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

type Command = 'keys' | 'agents' | 'console';
interface Outcome {
  code: number | null;
  stderr: string;
}

/** The command in this process, its stderr captured. */
async function here(command: Command, argv: string[]): Promise<Outcome> {
  const err: string[] = [];
  const io = { stdout: () => {}, stderr: (line: string) => void err.push(line) };
  if (command === 'keys') return { code: await keys(argv, io), stderr: err.join('\n') };
  if (command === 'agents') {
    // Without --store, the registry is a memory store (the cases are about the other inputs).
    const store = argv.includes('--store') ? undefined : memoryStore();
    const code = await agents(argv, { ...io, env: {}, ...(store === undefined ? {} : { store }) });
    return { code, stderr: err.join('\n') };
  }
  const captured = captureConsole();
  try {
    return { code: await consoleCommand(argv), stderr: captured.err.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

/** `toolgate <command> …` in a real process; `hide` makes packages unresolvable, as if not installed. */
function child(command: Command, argv: string[], hide: string[] = []): Outcome {
  const env: NodeJS.ProcessEnv = { ...process.env, TOOLGATE_TEST_HIDE: hide.join(',') };
  delete env.TOOLGATE_STORE;
  delete env.TOOLGATE_DEBUG;
  const result = spawnSync(
    process.execPath,
    [...(hide.length === 0 ? [] : ['--import', HIDE]), '--import', 'tsx', MAIN, command, ...argv],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env },
  );
  return { code: result.status, stderr: result.stderr.trimEnd() };
}

/** One line naming the cause; after a usage error, the usage and nothing else. */
function expectOneLine(outcome: Outcome, code: number, cause: RegExp, command: Command): void {
  const [first = '', ...rest] = outcome.stderr.split('\n');
  expect({ code: outcome.code, first }).toEqual({ code, first: expect.stringMatching(cause) });
  expect(first.startsWith(`toolgate ${command}`)).toBe(true);
  if (code === EXIT.usage) expect(rest[0] ?? 'usage:').toBe('usage:');
  else expect(rest).toEqual([]);
  expect(outcome.stderr).not.toMatch(/\n\s+at |unexpected error|Unhandled error event|toolgate: toolgate:/);
  expect(first).not.toMatch(new RegExp(`^toolgate ${command}( \\S+)?: ${command}:`));
}

const KEYS = at('keys.json');
const OPEN_KEYS = at('open-keys.json');
const NOT_JSON = at('not-json.json');
const NOT_A_KEY_SET = at('not-a-key-set.json');
const BIG_KEYS = at('big-keys.json');
const A_DIRECTORY = at('a-directory');
const ACCOUNTS = at('accounts.json');
const BIG_ACCOUNTS = at('big-accounts.json');
const NOT_A_LOG = at('not-a-log.jsonl');
const NOT_A_KEY = at('not-a-key.pem');
const MISSING = at('missing.json');
const NO_DIR = join(dir, 'no-such-dir', 'file.jsonl');
const CLOSED = 'redis://:hunter2@127.0.0.1:1';

/** A sparse file of `bytes` bytes: a real file past a bound, written in no time. */
function sparse(path: string, bytes: number): void {
  writeFileSync(path, '', { mode: 0o600 });
  truncateSync(path, bytes);
}

beforeAll(async () => {
  expect(await keys(['generate', '--out', KEYS, '--kid', 'k1'], { stdout: () => {} })).toBe(0);
  writeFileSync(OPEN_KEYS, '{"keys":[]}', { mode: 0o644 });
  chmodSync(OPEN_KEYS, 0o644);
  writeFileSync(NOT_JSON, 'not json {', { mode: 0o600 });
  writeFileSync(NOT_A_KEY_SET, '{"keys": 5}', { mode: 0o600 });
  sparse(BIG_KEYS, 1024 * 1024 + 1);
  mkdirSync(A_DIRECTORY, { mode: 0o700 });
  writeFileSync(ACCOUNTS, JSON.stringify([{ name: 'ops', role: 'admin', token: 'cli-token-0123456789' }]));
  sparse(BIG_ACCOUNTS, 16 * 1024 * 1024 + 1);
  writeFileSync(NOT_A_LOG, 'hello\n');
  writeFileSync(NOT_A_KEY, 'not a key\n');
});

type Case = readonly [name: string, command: Command, argv: string[], code: number, cause: RegExp];

const usage = EXIT.usage;
const input = EXIT.input;
const no = EXIT.failed;
const unavailable = EXIT.unavailable;
const withAccounts = (...argv: string[]) => ['--store', 'memory', '--accounts', ACCOUNTS, ...argv];

const CASES: readonly Case[] = [
  // keys
  ['keys: unknown command', 'keys', ['frob'], usage, /unknown command "frob"/],
  ['keys: an unknown option', 'keys', ['jwks', '--keys', KEYS, '--bogus'], usage, /Unknown option '--bogus'/],
  ['keys: no --keys', 'keys', ['rotate'], usage, /rotate needs --keys/],
  [
    'keys: a kid with a space',
    'keys',
    ['generate', '--out', at('new.json'), '--kid', 'a b'],
    usage,
    /key id/,
  ],
  [
    'keys: missing file',
    'keys',
    ['jwks', '--keys', MISSING],
    input,
    /cannot read .*missing\.json: no such file/,
  ],
  ['keys: a directory', 'keys', ['jwks', '--keys', A_DIRECTORY], input, /a-directory: it is a directory/],
  ['keys: readable by others', 'keys', ['jwks', '--keys', OPEN_KEYS], input, /mode 644\); chmod 600 it/],
  ['keys: not JSON', 'keys', ['rotate', '--keys', NOT_JSON], input, /not-json\.json is not a JSON key set/],
  ['keys: not a key set', 'keys', ['jwks', '--keys', NOT_A_KEY_SET], input, /not-a-key-set\.json/],
  ['keys: too large', 'keys', ['jwks', '--keys', BIG_KEYS], input, /big-keys\.json: it is larger than 1 MiB/],
  ['keys: --out in no directory', 'keys', ['generate', '--out', NO_DIR], input, /cannot write .*no-such-dir/],
  ['keys: refuses to overwrite', 'keys', ['generate', '--out', KEYS], no, /exists; refusing to overwrite/],
  [
    'keys: rotate to a kid the set holds',
    'keys',
    ['rotate', '--keys', KEYS, '--kid', 'k1'],
    no,
    /two keys have the kid "k1"/,
  ],
  ['keys: retire an unknown kid', 'keys', ['retire', 'ghost', '--keys', KEYS], no, /no key "ghost"/],
  ['keys: retire the signing key', 'keys', ['retire', 'k1', '--keys', KEYS], no, /rotate before retiring/],
  // agents
  ['agents: unknown command', 'agents', ['frob'], usage, /unknown command "frob"/],
  ['agents: no name', 'agents', ['suspend'], usage, /suspend needs a name/],
  [
    'agents: a store that is no Redis URL',
    'agents',
    ['list', '--store', 'http://x'],
    usage,
    /redis:\/\/ or rediss:\/\//,
  ],
  ['agents: register without a ceiling', 'agents', ['register', 'a'], usage, /register needs --owner/],
  [
    'agents: an invalid agent name',
    'agents',
    ['register', ' a', '--owner', 'o', '--tools', 'x', '--principals', 'p', '--max-ttl', '1h'],
    usage,
    /agent/,
  ],
  [
    'agents: a duration that does not parse',
    'agents',
    ['register', 'a', '--owner', 'o', '--tools', 'x', '--principals', 'p', '--max-ttl', 'soon'],
    usage,
    /soon|duration/,
  ],
  [
    'agents: Redis down',
    'agents',
    ['list', '--store', CLOSED],
    unavailable,
    /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED/,
  ],
  [
    'agents: --audit in no directory',
    'agents',
    ['resume', 'a', '--audit', NO_DIR],
    input,
    /cannot write .*no-such-dir.*file\.jsonl: /,
  ],
  ['agents: --audit a directory', 'agents', ['resume', 'a', '--audit', A_DIRECTORY], input, /a-directory/],
  [
    'agents: --audit not an audit log',
    'agents',
    ['resume', 'a', '--audit', NOT_A_LOG],
    input,
    /not-a-log\.jsonl does not start with a toolgate audit file header/,
  ],
  [
    'agents: an unknown agent',
    'agents',
    ['resume', 'ghost'],
    no,
    /UNKNOWN_AGENT: agent "ghost" is not registered/,
  ],
  // console
  ['console: no --accounts', 'console', ['--store', 'memory'], usage, /--store and --accounts are required/],
  ['console: an unknown option', 'console', withAccounts('--bogus'), usage, /Unknown option '--bogus'/],
  [
    'console: a store that is no URL',
    'console',
    ['--store', 'nope', '--accounts', ACCOUNTS],
    usage,
    /--store takes redis:\/\/host:port \(or memory\)/,
  ],
  ['console: a port that is none', 'console', withAccounts('--port', 'abc'), usage, /--port/],
  [
    'console: a session-ttl that does not parse',
    'console',
    withAccounts('--session-ttl', 'soon'),
    usage,
    /--session-ttl/,
  ],
  ['console: an origin that is no URL', 'console', withAccounts('--origin', 'nope'), usage, /--origin/],
  [
    'console: an unset secret variable',
    'console',
    withAccounts('--secret-env', 'TOOLGATE_TEST_UNSET_SECRET'),
    usage,
    /TOOLGATE_TEST_UNSET_SECRET is not set/,
  ],
  [
    'console: --audit-key without a file',
    'console',
    withAccounts('--audit-key', 'k1'),
    usage,
    /--audit-key takes <id>=<public key file>/,
  ],
  [
    'console: accounts missing',
    'console',
    ['--store', 'memory', '--accounts', MISSING],
    input,
    /^toolgate console: cannot read the accounts file .*missing\.json: no such file/,
  ],
  [
    'console: accounts a directory',
    'console',
    ['--store', 'memory', '--accounts', A_DIRECTORY],
    input,
    /accounts file .*a-directory: it is a directory/,
  ],
  [
    'console: accounts too large',
    'console',
    ['--store', 'memory', '--accounts', BIG_ACCOUNTS],
    input,
    /big-accounts\.json: it is larger than 16 MiB/,
  ],
  [
    'console: accounts not JSON',
    'console',
    ['--store', 'memory', '--accounts', NOT_JSON],
    input,
    /accounts file .*not-json\.json: it is not JSON$/,
  ],
  [
    'console: accounts not a list',
    'console',
    ['--store', 'memory', '--accounts', NOT_A_KEY_SET],
    input,
    /must hold a list of accounts/,
  ],
  [
    'console: --audit-key missing',
    'console',
    withAccounts('--audit-key', `k1=${MISSING}`),
    input,
    /cannot read .*missing\.json: no such file/,
  ],
  [
    'console: --audit-key not a key',
    'console',
    withAccounts('--audit-key', `k1=${NOT_A_KEY}`),
    input,
    /not-a-key\.pem is not a public key/,
  ],
  [
    'console: --audit matches nothing',
    'console',
    withAccounts('--audit', join(dir, 'none-*.jsonl')),
    input,
    /no audit file matches/,
  ],
  [
    'console: --actions in no directory',
    'console',
    withAccounts('--actions', NO_DIR),
    input,
    /cannot write .*no-such-dir/,
  ],
  [
    'console: --actions not an audit log',
    'console',
    withAccounts('--actions', NOT_A_LOG),
    input,
    /does not start with a toolgate audit file header/,
  ],
  [
    'console: Redis down',
    'console',
    ['--store', CLOSED, '--accounts', ACCOUNTS],
    unavailable,
    /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED/,
  ],
];

/** Cases that also run in a real process (the same code path after start-up, one or more per command). */
const IN_A_PROCESS = new Set([
  'keys: readable by others',
  'keys: too large',
  'agents: Redis down',
  'agents: a store that is no Redis URL',
  'console: accounts not JSON',
  'console: Redis down',
]);

describe('toolgate keys | agents | console fail in one line with the documented exit code', () => {
  it.each(CASES)('%s', async (_name, command, argv, code, cause) => {
    const outcome = await here(command, argv);
    expectOneLine(outcome, code, cause, command);
    expect(outcome.stderr).not.toContain('hunter2');
  });

  it.each(CASES.filter(([name]) => IN_A_PROCESS.has(name)))(
    '%s (a real process)',
    (_name, command, argv, code, cause) => {
      expectOneLine(child(command, argv), code, cause, command);
    },
  );

  it.each([
    ['agents', ['list', '--store', 'redis://127.0.0.1:6379']],
    ['console', ['--store', 'redis://127.0.0.1:6379', '--accounts', ACCOUNTS]],
  ] as const)('%s without ioredis: exit 5, the package to install', (command, argv) => {
    const outcome = child(command, [...argv], ['ioredis']);
    expectOneLine(
      outcome,
      EXIT.missingPackage,
      /needs the optional package ioredis, which is not installed: npm install ioredis$/,
      command,
    );
  });

  it.runIf(existsSync('/dev/zero'))('a device that never ends is refused at the bound (exit 3)', async () => {
    const accounts = await here('console', ['--store', 'memory', '--accounts', '/dev/zero']);
    expectOneLine(accounts, input, /accounts file \/dev\/zero: it is larger than 16 MiB/, 'console');
    const key = await here('console', withAccounts('--audit-key', 'k1=/dev/zero'));
    expectOneLine(key, input, /cannot read \/dev\/zero: it is larger than 1 MiB/, 'console');
  });
});

describe('TOOLGATE_DEBUG=1', () => {
  it('adds the stack after the line, and only then', async () => {
    for (const [env, stacksShown] of [
      [{}, 0],
      [{ TOOLGATE_DEBUG: '1' }, 2],
    ] as const) {
      const err: string[] = [];
      const io = { stdout: () => {}, stderr: (line: string) => void err.push(line), env };
      expect(await keys(['jwks', '--keys', NOT_JSON], io)).toBe(input);
      expect(await agents(['list', '--store', CLOSED], io)).toBe(unavailable);
      const stacks = err.filter((line) => /\n\s+at /.test(line));
      expect(stacks).toHaveLength(stacksShown);
    }
  });
});

describe('the other user of src/cli/open-store.ts: toolgate mcp-proxy --listen', () => {
  it('a registry store that does not answer: exit 4, not 6 "unexpected error"', async () => {
    const jwks = at('jwks.json');
    const printed: string[] = [];
    expect(await keys(['jwks', '--keys', KEYS], { stdout: (line) => void printed.push(line) })).toBe(0);
    writeFileSync(jwks, printed.join('\n'));
    const policy = at('policy.json');
    writeFileSync(policy, JSON.stringify({ rules: [{ id: 'a', effect: 'allow', tool: '*' }] }));
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        'mcp-proxy',
        '--policy',
        policy,
        '--listen',
        '127.0.0.1:0',
        '--keys',
        jwks,
      ].concat(['--audience', 'a', '--store', CLOSED, '--', process.execPath, '-e', '0']),
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect({ code: result.status, stderr: result.stderr.trimEnd() }).toEqual({
      code: EXIT.unavailable,
      stderr:
        'toolgate mcp-proxy: cannot reach Redis at redis://:***@127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1',
    });
  });
});

describe('toolgate mcp-proxy --listen --keys: the key set file is read as toolgate keys reads it', () => {
  // In this process: the key set is read before any server is started.
  const listen = async (keysFile: string) => {
    const policy = at('policy-keys.json');
    writeFileSync(policy, JSON.stringify({ rules: [{ id: 'a', effect: 'allow', tool: '*' }] }));
    const captured = captureConsole();
    const code = await main(
      ['mcp-proxy', '--policy', policy, '--listen', '127.0.0.1:0', '--keys', keysFile].concat([
        '--audience',
        'a',
        '--store',
        CLOSED,
        '--',
        process.execPath,
        '-e',
        '0',
      ]),
    );
    return { code, stderr: captured.err.join('\n') };
  };

  it.each([
    ['/dev/zero', 'toolgate mcp-proxy: cannot read /dev/zero: it is larger than 1 MiB'],
    [NOT_JSON, `toolgate mcp-proxy: ${NOT_JSON} is not a JSON key set`],
    [MISSING, `toolgate mcp-proxy: cannot read ${MISSING}: no such file`],
  ])('%s: one line, exit 3', async (file, line) => {
    expect(await listen(file)).toEqual({ code: EXIT.input, stderr: line });
  });
});

describe('toolgate console on a port it cannot listen on', () => {
  it('says so in one line, exit 2, and exits (in this process and in its own)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const argv = withAccounts('--port', String(port));
      const cause = new RegExp(
        `^toolgate console: cannot listen on 127\\.0\\.0\\.1 port ${port}: EADDRINUSE$`,
      );
      expectOneLine(await here('console', argv), usage, cause, 'console');
      expectOneLine(child('console', argv), usage, cause, 'console');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('the accounts file, read by the library', () => {
  it('says why it cannot be read: too large, not JSON, missing', () => {
    expect(() => new Accounts(BIG_ACCOUNTS)).toThrow(/big-accounts\.json: it is larger than 16 MiB$/);
    expect(() => new Accounts(NOT_JSON)).toThrow(/not-json\.json: it is not JSON$/);
    expect(() => new Accounts(MISSING)).toThrow(/missing\.json: no such file$/);
    expect(new Accounts(ACCOUNTS).find('ops')).toEqual({ name: 'ops', role: 'admin' });
  });
});
