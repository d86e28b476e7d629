import { parseDuration } from '../_internal/duration.ts';
import { callSafely } from '../_internal/fail-closed.ts';
import { type CompiledGlob, compileGlob } from '../_internal/glob.ts';
import { toolNameProblem } from '../_internal/names.ts';
import { ConfigurationError } from '../errors.ts';
import type { Awaitable, DeepReadonly, Duration, ToolContext } from '../types.ts';
import { type SecretScrubber, secretScrubber } from './scrubber.ts';
import { checkSecretName, readSecretValue, type SecretProvider } from './types.ts';

/** Which tools (and, optionally, principals) may receive a secret. */
export interface SecretBinding {
  /** Tool globs. */
  readonly tools: readonly string[];
  /** Principal globs; absent: any principal. */
  readonly principals?: readonly string[];
}

/** The guard's `secrets` option. */
export interface SecretsOptions {
  readonly provider: SecretProvider;
  /** Secret name → who may receive it. */
  readonly bindings: Readonly<Record<string, SecretBinding>>;
  /** How long handed-out values stay scrubbed from outputs. @default '24h' */
  readonly scrubRetention?: Duration;
  /** How long the provider may take. @default '5s' */
  readonly timeout?: Duration;
}

/** The answer of `broker.fetch`: the secrets for the tool, or why the call is denied. */
export type SecretsResult =
  | { readonly ok: true; readonly secrets: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly code: 'SECRET_NOT_BOUND' | 'SECRET_UNAVAILABLE'; readonly reason: string };

/** The call a secret is fetched for. */
export interface SecretsCall {
  readonly callId: string;
  readonly context: DeepReadonly<ToolContext>;
  readonly signal?: AbortSignal;
}

/**
 * The secrets step of a guard (credential brokering): checks declarations at `tg.guard()`,
 * fetches a call's secrets after approval, and scrubs what they were from every output.
 */
export interface SecretBroker {
  readonly scrubber: SecretScrubber;
  /** Throws `ConfigurationError` unless every secret `tool` declares has a binding covering it. */
  checkTool(tool: string, secrets: readonly string[]): void;
  /**
   * The secrets of one call, fetched just in time at every call (the provider is told the tool
   * and context, so its answer may depend on them: a cache here could hand one principal's value
   * to another; a slow provider caches itself), each remembered by the scrubber. An answer that
   * has already expired is refused. Never throws: a binding that excludes the
   * call denies `SECRET_NOT_BOUND`; a provider failure, timeout or malformed answer denies
   * `SECRET_UNAVAILABLE`. Synchronous when nothing needs fetching.
   */
  fetch(tool: string, names: readonly string[], call: SecretsCall, now: number): Awaitable<SecretsResult>;
  /**
   * Whether every secret `tool` declares is bound to it and to the call's principal: the
   * `SECRET_NOT_BOUND` answer of `fetch`, known before the approval (and in a dry run), or
   * undefined when they all are.
   */
  unbound(
    tool: string,
    names: readonly string[],
    principal: string | undefined,
  ): Extract<SecretsResult, { ok: false }> | undefined;
}

const EMPTY: SecretsResult = Object.freeze({ ok: true, secrets: Object.freeze({}) });

/** Builds the secrets step from the guard's `secrets` option; invalid options throw here. */
export function secretBroker(options: SecretsOptions): SecretBroker {
  const provider = options?.provider;
  if (typeof provider !== 'object' || provider === null || typeof provider.get !== 'function')
    throw new ConfigurationError('secrets.provider must be a SecretProvider ({ name, get })');
  const label = String(provider.name);
  const timeoutMs = parseDuration(options.timeout ?? '5s', 'secrets.timeout');
  const bindings = new Map<string, { tools: CompiledGlob[]; principals: CompiledGlob[] | undefined }>();
  for (const [name, binding] of Object.entries(options.bindings ?? {})) {
    try {
      checkSecretName(name);
    } catch (error) {
      throw new ConfigurationError((error as Error).message.replace(/^toolgate: /, ''));
    }
    if (!Array.isArray(binding?.tools) || binding.tools.length === 0)
      throw new ConfigurationError(`secrets.bindings.${name}.tools must be a non-empty array of tool globs`);
    for (const glob of binding.tools) {
      const problem = toolNameProblem(glob);
      if (problem !== undefined) throw new ConfigurationError(`secrets.bindings.${name}.tools: ${problem}`);
    }
    if (
      binding.principals !== undefined &&
      (!Array.isArray(binding.principals) ||
        binding.principals.some((p) => typeof p !== 'string' || p.length === 0))
    )
      throw new ConfigurationError(`secrets.bindings.${name}.principals must be an array of principal globs`);
    bindings.set(name, {
      tools: binding.tools.map(compileGlob),
      principals: binding.principals?.map(compileGlob),
    });
  }
  const scrubber = secretScrubber({ retention: options.scrubRetention ?? '24h' });

  const fetchOne = async (
    tool: string,
    name: string,
    call: SecretsCall,
    now: number,
  ): Promise<string | SecretsResult> => {
    const result = await callSafely(
      ({ signal }) => provider.get(name, { tool, callId: call.callId, context: call.context, signal }),
      { timeoutMs, signal: call.signal },
    );
    const unavailable = (why: string): SecretsResult => ({
      ok: false,
      code: 'SECRET_UNAVAILABLE',
      reason: scrubber.text(`secret ${name} is unavailable from ${label}: ${why}`),
    });
    if (!result.ok)
      return unavailable(
        result.reason === 'error'
          ? describe(result.error)
          : `the provider ${result.reason === 'timeout' ? `did not answer within ${timeoutMs} ms` : 'call was cancelled'}`,
      );
    try {
      const secret = readSecretValue(result.value, name);
      if (secret.expiresAt !== undefined && secret.expiresAt <= now)
        return unavailable('it has already expired');
      scrubber.add(name, secret.value);
      return secret.value;
    } catch (error) {
      return unavailable(describe(error));
    }
  };

  const unbound = (
    tool: string,
    names: readonly string[],
    principal: string | undefined,
  ): Extract<SecretsResult, { ok: false }> | undefined => {
    for (const name of names) {
      const binding = bindings.get(name);
      if (binding === undefined || !matches(tool, binding.tools))
        return { ok: false, code: 'SECRET_NOT_BOUND', reason: `secret ${name} is not bound to tool ${tool}` };
      if (
        binding.principals !== undefined &&
        (principal === undefined || !matches(principal, binding.principals))
      )
        return {
          ok: false,
          code: 'SECRET_NOT_BOUND',
          reason: `secret ${name} is not bound to ${principal === undefined ? 'calls without a principal' : `principal ${principal}`}`,
        };
    }
    return undefined;
  };

  return Object.freeze({
    scrubber,
    checkTool(tool: string, secrets: readonly string[]) {
      for (const name of secrets) {
        const binding = bindings.get(name);
        if (binding === undefined || !matches(tool, binding.tools))
          throw new ConfigurationError(
            `tool ${tool} declares secret ${JSON.stringify(name)}, but no binding gives it to this tool`,
          );
      }
    },
    unbound,
    fetch(tool: string, names: readonly string[], call: SecretsCall, now: number): Awaitable<SecretsResult> {
      if (names.length === 0) return EMPTY;
      const refused = unbound(tool, names, call.context.principal);
      if (refused !== undefined) return refused;
      return Promise.all(names.map((name) => fetchOne(tool, name, call, now))).then((values) => {
        const secrets: Record<string, string> = {};
        for (let i = 0; i < names.length; i++) {
          const value = values[i]!;
          if (typeof value !== 'string') return value;
          secrets[names[i]!] = value;
        }
        return { ok: true, secrets: Object.freeze(secrets) } as const;
      });
    },
  });
}

function matches(name: string, globs: readonly CompiledGlob[]): boolean {
  const normalized = name.normalize('NFC');
  return globs.some((glob) => glob.test(normalized));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^toolgate: /, '') : String(error);
}
