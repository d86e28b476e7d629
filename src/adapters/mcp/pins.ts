import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hashJson } from '../../_internal/canonical.ts';
import { ConfigurationError } from '../../errors.ts';
import type { McpTool } from './types.ts';

/** The fields of a tool definition a pin covers. `_meta` (volatile) and `icons` (cosmetic) are left out. */
const PINNED_FIELDS = [
  'name',
  'title',
  'description',
  'inputSchema',
  'outputSchema',
  'annotations',
  'execution',
] as const;

/**
 * The pin of an MCP tool definition: lowercase hex SHA-256 of the canonical JSON (RFC 8785) of its
 * name, title, description, input and output schemas, annotations and execution hints. A top-level
 * `$schema` in either schema is ignored, since an SDK upgrade changes it without changing meaning.
 * Throws on a definition that is not JSON data.
 */
export function toolPin(tool: McpTool): string {
  const picked: Record<string, unknown> = {};
  for (const field of PINNED_FIELDS) {
    let value: unknown = tool[field];
    if (value === undefined) continue;
    if ((field === 'inputSchema' || field === 'outputSchema') && isObject(value) && '$schema' in value) {
      const { $schema: _ignored, ...rest } = value;
      value = rest;
    }
    picked[field] = value;
  }
  // A JSON round trip drops `undefined` members that SDK-parsed objects may carry.
  return hashJson(JSON.parse(JSON.stringify(picked)));
}

/** Where approved pins are kept, per server and tool. */
export interface PinStore {
  /** The approved pin of `tool` on `server`, if any. */
  get(server: string, tool: string): string | undefined;
  /** Records `pin` as the approved definition of `tool` on `server`. */
  set(server: string, tool: string, pin: string): void;
}

/** A pin store in memory: pins last as long as the process. */
export function memoryPins(): PinStore & { entries(): [server: string, tool: string, pin: string][] } {
  const pins = new Map<string, Map<string, string>>();
  return {
    get: (server, tool) => pins.get(server)?.get(tool),
    set(server, tool, pin) {
      let tools = pins.get(server);
      if (tools === undefined) {
        tools = new Map();
        pins.set(server, tools);
      }
      tools.set(tool, pin);
    },
    entries: () =>
      [...pins].flatMap(([server, tools]) =>
        [...tools].map(([tool, pin]) => [server, tool, pin] as [string, string, string]),
      ),
  };
}

/** The JSON shape of a pin file. */
export interface PinFile {
  version: 1;
  /** server → tool name → pin (SHA-256 hex). */
  servers: Record<string, Record<string, string>>;
}

/**
 * A pin store backed by a JSON file (`{ "version": 1, "servers": { "<server>": { "<tool>": "<sha256>" } } }`).
 * The file is read once here (a missing file is an empty store; a malformed one throws) and
 * rewritten atomically on every change. Re-approve a changed tool by deleting its entry, or with
 * `toolgate mcp-proxy --update-pins`.
 */
export function filePins(path: string): PinStore {
  const store = memoryPins();
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new ConfigurationError(`cannot read pin file ${path}: ${(error as Error).message}`);
  }
  if (text !== undefined) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new ConfigurationError(`pin file ${path} is not JSON: ${(error as Error).message}`);
    }
    if (!isObject(data) || data.version !== 1 || !isObject(data.servers))
      throw new ConfigurationError(`pin file ${path} must be { "version": 1, "servers": { … } }`);
    for (const [server, tools] of Object.entries(data.servers)) {
      if (!isObject(tools))
        throw new ConfigurationError(`pin file ${path}: servers.${server} must be an object`);
      for (const [tool, pin] of Object.entries(tools)) {
        if (typeof pin !== 'string' || !/^[0-9a-f]{64}$/.test(pin))
          throw new ConfigurationError(`pin file ${path}: ${server}.${tool} must be a SHA-256 hex string`);
        store.set(server, tool, pin);
      }
    }
  }
  const save = () => {
    // Null-prototype records: a server or tool named `__proto__` stays an ordinary entry.
    const servers: Record<string, Record<string, string>> = Object.create(null);
    for (const [server, tool, pin] of store.entries()) {
      servers[server] ??= Object.create(null) as Record<string, string>;
      servers[server][tool] = pin;
    }
    const file: PinFile = { version: 1, servers };
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, path);
  };
  return {
    get: store.get,
    set(server, tool, pin) {
      if (store.get(server, tool) === pin) return;
      store.set(server, tool, pin);
      save();
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
