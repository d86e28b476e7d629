import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { errorParts } from '../_internal/describe-error.ts';
import { ConfigurationError } from '../errors.ts';
import type { Decision, ToolRequest } from '../types.ts';
import { duplicateJsonKey, jsonNestedDeeper } from './json-keys.ts';
import { FileTooLarge, readTextFile } from './read-text.ts';
import { type RulesEngine, type RulesOptions, rules } from './rules.ts';
import type { Rule } from './schema.ts';
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
  /** `'json'` or `'yaml'`. Default: from the file extension (`.yaml`/`.yml` → YAML, otherwise JSON). */
  format?: 'json' | 'yaml';
}

/** A policy engine backed by a file. */
export interface PolicyFileEngine extends PolicyEngine {
  /** Version (hash) of the rules in force. */
  readonly version: string;
  /** Absolute path of the file. */
  readonly source: string;
  /** Reads the file again; resolves `true` when the new version is in force. */
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
/** The bytes of a file whose text can be 10 MiB characters (up to 3 UTF-8 bytes each). */
export const MAX_DOCUMENT_FILE_BYTES: number = 3 * MAX_DOCUMENT_BYTES;

/**
 * Loads a JSON or YAML policy file into a rules engine. Invalid documents reject with a
 * ConfigurationError naming the rule id (or index) and the field; `__proto__`, `constructor` and
 * `prototype` keys are refused anywhere. With `watch: true` the file is reloaded when it changes;
 * a new version that fails to load keeps the last valid one in force and emits `policy-reload-failed`.
 * YAML needs the optional peer dependency `yaml`.
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
  const { watch: shouldWatch = false, format, ...rulesOptions } = options;
  let current = await readPolicyFile(source, format, rulesOptions);
  const emitter = new EventEmitter<PolicyFileEvents>();
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let reloading: Promise<boolean> | undefined;
  let again = false;

  const reloadOnce = async (): Promise<boolean> => {
    const previous = current;
    try {
      const next = await readPolicyFile(source, format, rulesOptions);
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

/** Reads and compiles a policy file once (for tooling). */
export async function readPolicyFile(
  source: string,
  format: 'json' | 'yaml' | undefined,
  options: RulesOptions,
): Promise<RulesEngine> {
  let text: string;
  try {
    // Bounded: a device that never ends (/dev/zero) must not be read whole before the size check.
    text = await readTextFile(source, MAX_DOCUMENT_FILE_BYTES);
  } catch (error) {
    if (error instanceof FileTooLarge)
      throw new ConfigurationError(`policy file ${source}: the document is larger than 10 MiB`);
    throw new ConfigurationError(`policy file ${source}: cannot be read: ${(error as Error).message}`);
  }
  const kind = format ?? (/^\.ya?ml$/i.test(extname(source)) ? 'yaml' : 'json');
  return parsePolicy(
    text,
    { ...options, format: kind, source },
    kind === 'yaml' ? await loadYaml() : undefined,
  );
}

type YamlParse = (text: string, options: object) => unknown;

interface YamlDocument {
  readonly errors: readonly Error[];
  readonly warnings: readonly Error[];
  toJS(options: object): unknown;
}

interface YamlModule {
  parseDocument: (text: string, options: object) => YamlDocument;
  Lexer: new () => { lex(source: string): Iterable<string> };
  visit: (
    node: YamlDocument,
    visitor: { Map: (key: unknown, node: { items: { key: unknown }[] }) => void },
  ) => void;
  isScalar: (node: unknown) => node is { value: unknown };
}

async function loadYaml(): Promise<YamlParse> {
  try {
    const module = (await import('yaml')) as unknown as YamlModule;
    // Warnings are refusals too: an unknown tag (`!foo pay`) would otherwise pass as a string.
    return (text, options) => {
      checkYamlDepth(module, text);
      const document = module.parseDocument(text, options);
      const problem = document.errors[0] ?? document.warnings[0];
      if (problem !== undefined) throw problem;
      checkYamlKeys(module, document);
      return document.toJS({ maxAliasCount: 100 });
    };
  } catch {
    throw new ConfigurationError(
      'YAML policy files need the optional peer dependency "yaml": npm install yaml (or use JSON)',
    );
  }
}

/** Deepest nesting of lists and objects a policy may have: no document nested deeper compiles (`checkKeys`). */
const MAX_NESTING_DEPTH = 64;

/**
 * Refuses flow collections nested deeper than any policy can be, from the lexer's tokens (which
 * know quotes and comments), before the parser builds them: it spends ~40 µs and ~1 KB a level
 * before failing on its stack, so 10 MiB of `[` would take minutes and could exhaust memory.
 */
function checkYamlDepth(module: YamlModule, text: string): void {
  let depth = 0;
  for (const token of new module.Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      depth += 1;
      if (depth > MAX_NESTING_DEPTH)
        throw new Error(`collections are nested deeper than ${MAX_NESTING_DEPTH}`);
    } else if ((token === ']' || token === '}') && depth > 0) depth -= 1;
  }
}

/**
 * Refuses a mapping key that is not a plain scalar, or two keys of one mapping that read as one.
 * The parser's `uniqueKeys` compares scalar keys only: a key written as an alias (`*k : allow`
 * after `effect: deny`, with `&k effect` elsewhere) passed it and replaced the first value.
 */
function checkYamlKeys(module: YamlModule, document: YamlDocument): void {
  module.visit(document, {
    Map(_key, map) {
      const seen = new Set<string>();
      for (const { key } of map.items) {
        if (!module.isScalar(key))
          throw new Error('a mapping key must be a plain scalar (not an alias, a list or a mapping)');
        const name = String(key.value);
        if (seen.has(name)) throw new Error(`the key ${JSON.stringify(name)} appears twice in one mapping`);
        seen.add(name);
      }
    },
  });
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
