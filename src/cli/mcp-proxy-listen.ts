import type { HttpAuthentication, HttpCaller } from '../adapters/mcp/http-listener.ts';
import { CredentialError } from '../errors.ts';
import type { KeySet } from '../identity/keys.ts';
import { type AgentRegistry, agentRegistry } from '../identity/registry.ts';
import { verifyCredential } from '../identity/verify.ts';
import { envSecrets } from '../secrets/env.ts';
import { fileSecrets } from '../secrets/file.ts';
import type { SecretProvider } from '../secrets/types.ts';
import { UsageError } from './failures.ts';
import { readKeySetFile } from './key-file.ts';
import { openStore } from './open-store.ts';

// `toolgate mcp-proxy --listen`: the flags of the Streamable HTTP mode, turned into the identity of
// the guard, the authentication of each HTTP request, and the environment of each session's server.

export const LISTEN_USAGE = `Streamable HTTP mode (every client authenticates with a toolgate credential):
  --listen <host:port>   listen on loopback (127.0.0.1:0 picks a port; the URL is printed) instead
                         of stdio; each session gets its own server process
  --keys <file>          the JWK Set that verifies credentials (toolgate keys jwks)
  --store <url>          the agent registry and revocations: redis://host:6379 (or TOOLGATE_STORE)
  --audience <name>      the audience credentials must name (this proxy's service name)
  --server-secret <VAR=name>  (repeatable) put secret <name> in the server's environment as VAR
  --secrets-dir <dir>    where secrets are read from (fileSecrets: one file per secret, mode 0600)
  --secrets-env-prefix <P>  or from the proxy's environment (envSecrets: P + NAME); such
                         variables are removed from the server's environment`;

/** The listening mode's flags, as parsed. */
export interface ListenFlags {
  listen?: string | undefined;
  keys?: string | undefined;
  store?: string | undefined;
  audience?: string | undefined;
  'server-secret'?: string[] | undefined;
  'secrets-dir'?: string | undefined;
  'secrets-env-prefix'?: string | undefined;
}

/** What the listening mode needs, opened from the flags. */
export interface ListenSetup {
  readonly host: string;
  readonly port: number;
  readonly identity: { keys: KeySet; registry: AgentRegistry; audience: string };
  authenticate(token: string): Promise<HttpAuthentication>;
  /**
   * The environment of a caller's server process; each secret put in it is first passed to
   * `handedOut`, which makes the guard scrub it (a value it cannot scrub fails the session).
   */
  serverEnv(caller: HttpCaller, handedOut: (name: string, value: string) => void): Promise<NodeJS.ProcessEnv>;
  /** The provider of `--server-secret` values; the guard needs it (and so scrubs) when set. */
  readonly secretProvider: SecretProvider | undefined;
  close(): Promise<void>;
}

/** Flags that only make sense with `--listen`. */
export const LISTEN_ONLY = [
  'keys',
  'store',
  'audience',
  'server-secret',
  'secrets-dir',
  'secrets-env-prefix',
] as const;

/** Opens the key set, the registry's store and the secret provider the flags name. */
export async function openListen(flags: ListenFlags, server: string): Promise<ListenSetup> {
  const address = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(flags.listen ?? '');
  if (address === null) throw new UsageError('--listen takes <host:port>, e.g. 127.0.0.1:8931');
  const host = address[1]!.replace(/^\[|\]$/g, '');
  const port = Number(address[2]);
  if (port > 65_535) throw new UsageError('--listen: the port is above 65535');
  if (flags.keys === undefined || flags.audience === undefined)
    throw new UsageError('--listen needs --keys <jwks.json> and --audience <name>');
  const storeUrl = flags.store ?? process.env.TOOLGATE_STORE;
  if (storeUrl === undefined)
    throw new UsageError('--listen needs --store redis://host:6379 (or TOOLGATE_STORE): the agent registry');
  const secrets = secretMappings(flags['server-secret'] ?? []);
  const prefix = flags['secrets-env-prefix'];
  if (secrets.length > 0 && (flags['secrets-dir'] === undefined) === (prefix === undefined))
    throw new UsageError('--server-secret needs exactly one of --secrets-dir and --secrets-env-prefix');
  const provider: SecretProvider | undefined =
    secrets.length === 0
      ? undefined
      : flags['secrets-dir'] !== undefined
        ? fileSecrets({ dir: flags['secrets-dir'] })
        : envSecrets({ prefix: prefix! });

  const keys = await readKeySetFile(flags.keys);
  const opened = await openStore(storeUrl, undefined);
  const registry = agentRegistry({ store: opened.store });
  const identity = { keys, registry, audience: flags.audience };
  return {
    host,
    port,
    identity,
    async authenticate(token) {
      try {
        const claims = await verifyCredential(identity, token);
        return { ok: true, caller: { agent: claims.sub, principal: claims.principal } };
      } catch (error) {
        if (CredentialError.isInstance(error)) return { ok: false, code: error.code, reason: error.message };
        throw error;
      }
    },
    secretProvider: provider,
    async serverEnv(caller, handedOut) {
      const env: NodeJS.ProcessEnv = { ...process.env };
      // The server gets the secrets it is given, not the proxy's own secret variables.
      if (prefix !== undefined)
        for (const name of Object.keys(env)) if (name.startsWith(prefix)) delete env[name];
      for (const { variable, secret } of secrets) {
        const { value } = await provider!.get(secret, {
          tool: `${server}.*`,
          callId: `session:${caller.agent}`,
          context: { agent: caller.agent, principal: caller.principal },
        });
        handedOut(secret, value);
        env[variable] = value;
      }
      return env;
    },
    close: () => opened.close(),
  };
}

function secretMappings(values: readonly string[]): { variable: string; secret: string }[] {
  return values.map((value) => {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=([A-Za-z0-9][A-Za-z0-9_.-]*)$/.exec(value);
    if (match === null) throw new UsageError(`--server-secret takes VAR=name (got ${JSON.stringify(value)})`);
    return { variable: match[1]!, secret: match[2]! };
  });
}
