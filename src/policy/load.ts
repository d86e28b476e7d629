import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { errorParts } from '../_internal/describe-error.ts';
import { parseDuration } from '../_internal/duration.ts';
import { FileTooLarge, readTextFile } from '../_internal/read-text.ts';
import { ConfigurationError } from '../errors.ts';
import type { Decision, Duration, ToolRequest } from '../types.ts';
import { duplicateJsonKey, jsonNestedDeeper } from './json-keys.ts';
import { loadYaml, MAX_NESTING_DEPTH, type YamlParse } from './load-yaml.ts';
import { type RulesEngine, type RulesOptions, rules } from './rules.ts';
import type { Rule } from './schema.ts';
import { FileKeptChanging, readSettledText } from './settled-read.ts';
import type { PolicyEngine } from './types.ts';

/** A policy document: `{ version?, rules: [...] }`. */
export interface PolicyDocument {
  /** A label of the author's choosing; the engine's `version` is a hash of the rules. */
  version?: string | number;
  description?: string;
  rules: readonly Rule[];
}

/** What `policy-reload` and `policy-reload-failed` listeners receive. */
export interface PolicyReloadInfo {
  readonly ok: boolean;
  /** The file. */
  readonly source: string;
  /** Version now in force (the previous one when the reload failed). */
  readonly policyVersion: string;
  readonly previousVersion: string;
  /** Number of rules now in force. */
  readonly rules: number;
  /** Why the reload failed. */
  readonly reason?: string;
}

/** Events of a policy loaded from a file. */
export interface PolicyFileEvents {
  'policy-reload': [info: PolicyReloadInfo];
  'policy-reload-failed': [info: PolicyReloadInfo];
}

/** Options of `loadPolicy`. */
export interface LoadPolicyOptions extends RulesOptions {
  /** Watch the file and reload on change; an invalid new version keeps the last valid one. @default false */
  watch?: boolean;
  /**
   * How long the file must hold still before a load or reload takes it: it is read again this long
   * after a read ended, and taken only when both reads (and the file's size, inode and times) agree,
   * so a writer that writes in place with shorter pauses is never read half-way. `0` reads once
   * (for files only ever replaced by rename). An `ms` duration or milliseconds.
   * @default '100ms'
   */
  settle?: Duration;
  /** `'json'` or `'yaml'`. Default: from the file extension (`.yaml`/`.yml` → YAML, otherwise JSON). */
  format?: 'json' | 'yaml';
}

/** A policy engine backed by a file. */
export interface PolicyFileEngine extends PolicyEngine {
  /** Version (hash) of the rules in force. */
  readonly version: string;
  /** Absolute path of the file. */
  readonly source: string;
  /** Reads the file again once it holds still (`settle`); resolves `true` when the new version is in force. */
  reload(): Promise<boolean>;
  on<E extends keyof PolicyFileEvents>(
    event: E,
    listener: (...args: PolicyFileEvents[E]) => void,
  ): PolicyFileEngine;
  off<E extends keyof PolicyFileEvents>(
    event: E,
    listener: (...args: PolicyFileEvents[E]) => void,
  ): PolicyFileEngine;
  /** Stops watching. */
  close(): Promise<void>;
}

const DOCUMENT_KEYS = new Set(['version', 'description', 'rules', '$schema']);
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
const DEFAULT_SETTLE = '100ms';
/** The bytes of a file whose text can be 10 MiB characters (up to 3 UTF-8 bytes each). */
export const MAX_DOCUMENT_FILE_BYTES: number = 3 * MAX_DOCUMENT_BYTES;

/**
 * Loads a JSON or YAML policy file into a rules engine. Invalid documents reject with a
 * ConfigurationError naming the rule id (or index) and the field; `__proto__`, `constructor` and
 * `prototype` keys are refused anywhere. With `watch: true` the file is reloaded when it changes;
 * a new version that fails to load keeps the last valid one in force and emits `policy-reload-failed`.
 * YAML needs the optional peer dependency `yaml`.
 *
 * Every read (the first load, a watched reload, `reload()`) takes the file only once it has held
 * still for `settle`: the text in force is one the file held at two reads at least `settle` apart,
 * with the same size, inode and modification time. A file written in place whose writer pauses
 * for less than `settle` between writes is therefore never read half-way; a writer that pauses for
 * longer can still be (a YAML prefix is often a valid policy missing its last rules), and nothing
 * in the file can tell, so write a new version to a temporary file and rename it over the policy
 * file. A file that never holds still for `settle` in 20 tries fails to load (a reload keeps the
 * last valid policy).
 *
 * @example
 * const policy = await loadPolicy('./policy.yaml', { watch: true });
 * policy.on('policy-reload-failed', (info) => console.error(info.reason));
 * const tg = createGuard({ policy });
 */
export async function loadPolicy(path: string, options: LoadPolicyOptions = {}): Promise<PolicyFileEngine> {
  if (typeof path !== 'string' || path.length === 0)
    throw new ConfigurationError('loadPolicy() takes a file path');
  const source = resolve(path);
  const { watch: shouldWatch = false, format, settle = DEFAULT_SETTLE, ...rulesOptions } = options;
  const settleMs = parseDuration(settle, 'loadPolicy() settle');
  // Change events seen by the watcher: one between the two reads of a settled read means they disagree.
  let changes = 0;
  const read = () =>
    compilePolicyFile(source, format, rulesOptions, (path, maxBytes) =>
      readSettledText(path, { settleMs, maxBytes, changes: () => changes }),
    );
  let current = await read();
  const emitter = new EventEmitter<PolicyFileEvents>();
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reloading: Promise<boolean> | undefined;
  let again = false;

  const reloadOnce = async (): Promise<boolean> => {
    const previous = current;
    try {
      const next = await read();
      current = next;
      emitter.emit('policy-reload', {
        ok: true,
        source,
        policyVersion: next.version,
        previousVersion: previous.version,
        rules: next.ruleIds.length,
      });
      return true;
    } catch (error) {
      emitter.emit('policy-reload-failed', {
        ok: false,
        source,
        policyVersion: previous.version,
        previousVersion: previous.version,
        rules: previous.ruleIds.length,
        reason: errorParts(error).message,
      });
      return false;
    }
  };
  const reload = (): Promise<boolean> => {
    if (reloading !== undefined) {
      again = true;
      return reloading;
    }
    reloading = reloadOnce().finally(() => {
      reloading = undefined;
      if (again) {
        again = false;
        void reload();
      }
    });
    return reloading;
  };

  if (shouldWatch) {
    const name = basename(source);
    // Watch the directory: editors replace files by rename, which a file watcher would lose.
    watcher = watch(dirname(source), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name) return;
      changes += 1;
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), 25);
    });
    watcher.on('error', () => {});
  }

  const engine: PolicyFileEngine = {
    name: 'policy-file',
    source,
    get version() {
      return current.version;
    },
    evaluate(request: ToolRequest, evaluateOptions: { signal: AbortSignal }): Decision {
      return current.evaluate(request, evaluateOptions) as Decision;
    },
    reload,
    on(event, listener) {
      emitter.on(event, listener as never);
      return engine;
    },
    off(event, listener) {
      emitter.off(event, listener as never);
      return engine;
    },
    async close() {
      clearTimeout(timer);
      watcher?.close();
      watcher = undefined;
      emitter.removeAllListeners();
    },
  };
  return engine;
}

/** Reads and compiles a policy file once, without waiting for it to hold still (for tooling). */
export function readPolicyFile(
  source: string,
  format: 'json' | 'yaml' | undefined,
  options: RulesOptions,
): Promise<RulesEngine> {
  return compilePolicyFile(source, format, options, readTextFile);
}

async function compilePolicyFile(
  source: string,
  format: 'json' | 'yaml' | undefined,
  options: RulesOptions,
  readText: (path: string, maxBytes: number) => Promise<string>,
): Promise<RulesEngine> {
  let text: string;
  try {
    // Bounded: a device that never ends (/dev/zero) must not be read whole before the size check.
    text = await readText(source, MAX_DOCUMENT_FILE_BYTES);
  } catch (error) {
    if (error instanceof FileTooLarge)
      throw new ConfigurationError(`policy file ${source}: the document is larger than 10 MiB`);
    if (error instanceof FileKeptChanging)
      throw new ConfigurationError(
        `policy file ${source}: kept changing (no two reads ${error.settleMs} ms apart agreed in ${error.rounds} tries)`,
      );
    throw new ConfigurationError(`policy file ${source}: cannot be read: ${(error as Error).message}`);
  }
  const kind = format ?? (/^\.ya?ml$/i.test(extname(source)) ? 'yaml' : 'json');
  return parsePolicy(
    text,
    { ...options, format: kind, source },
    kind === 'yaml' ? await loadYaml() : undefined,
  );
}

/**
 * Parses and compiles a policy document from text. For YAML pass the `yaml` package's `parse`
 * (`loadPolicy` imports it for you).
 */
export function parsePolicy(
  text: string,
  options: RulesOptions & { format?: 'json' | 'yaml'; source?: string } = {},
  yamlParse?: YamlParse,
): RulesEngine {
  const { format = 'json', source = 'policy', ...rulesOptions } = options;
  if (text.length > MAX_DOCUMENT_BYTES)
    throw new ConfigurationError(`${source}: the document is larger than 10 MiB`);
  let data: unknown;
  try {
    if (format === 'yaml') {
      if (yamlParse === undefined) throw new Error('no YAML parser given');
      // A `%YAML 1.1` directive would change what scalars mean (`0100` octal, `yes` a boolean).
      if (/^%/m.test(text))
        throw new Error('directives (%YAML, %TAG) are not accepted: policies are YAML 1.2');
      data = yamlParse(text, { uniqueKeys: true, maxAliasCount: 100, merge: false, version: '1.2' });
    } else {
      if (jsonNestedDeeper(text, MAX_NESTING_DEPTH))
        throw new Error(`collections are nested deeper than ${MAX_NESTING_DEPTH}`);
      data = JSON.parse(text);
      const twice = duplicateJsonKey(text);
      if (twice !== undefined)
        throw new Error(`the key ${JSON.stringify(twice)} appears twice in one object`);
    }
  } catch (error) {
    throw new ConfigurationError(`${source}: not valid ${format.toUpperCase()}: ${(error as Error).message}`);
  }
  return compileDocument(data, source, rulesOptions);
}

/** Validates a parsed policy document and compiles it. */
export function compileDocument(data: unknown, source: string, options: RulesOptions = {}): RulesEngine {
  checkKeys(data, source, 0);
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new ConfigurationError(`${source}: a policy document is an object { version?, rules: [...] }`);
  for (const key of Object.keys(data)) {
    if (!DOCUMENT_KEYS.has(key))
      throw new ConfigurationError(`${source}: unknown field ${JSON.stringify(key)}`);
  }
  const document = data as { rules?: unknown; version?: unknown };
  if (!Array.isArray(document.rules)) throw new ConfigurationError(`${source}: rules must be a list`);
  if (
    document.version !== undefined &&
    typeof document.version !== 'string' &&
    typeof document.version !== 'number'
  )
    throw new ConfigurationError(`${source}: version must be a string or a number`);
  try {
    return rules(document.rules as Rule[], options);
  } catch (error) {
    if (ConfigurationError.isInstance(error))
      throw new ConfigurationError(`${source}: ${error.message.replace(/^toolgate: /, '')}`, {
        cause: error,
      });
    throw error;
  }
}

function checkKeys(value: unknown, where: string, depth: number): void {
  if (depth > MAX_NESTING_DEPTH) throw new ConfigurationError(`${where}: nested too deeply`);
  if (typeof value !== 'object' || value === null) return;
  const proto = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (proto !== Array.prototype) throw new ConfigurationError(`${where}: not a plain list`);
    for (let index = 0; index < value.length; index++)
      checkKeys(value[index], `${where}[${index}]`, depth + 1);
    return;
  }
  if (proto !== Object.prototype && proto !== null)
    throw new ConfigurationError(`${where}: not a plain object (prototype keys are refused)`);
  for (const key of Reflect.ownKeys(value)) {
    if (typeof key !== 'string' || FORBIDDEN_KEYS.has(key))
      throw new ConfigurationError(`${where}: the key ${String(key)} is not allowed`);
    checkKeys((value as Record<string, unknown>)[key], `${where}.${key}`, depth + 1);
  }
}
