import { ConfigurationError } from '../errors.ts';

// The YAML side of policy files: the optional peer `yaml`, and what toolgate refuses of a YAML
// document beyond what its parser refuses.

/** A YAML parser as `parsePolicy` takes it: the `yaml` package's `parse`, or `loadYaml()`'s stricter one. */
export type YamlParse = (text: string, options: object) => unknown;

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

/**
 * Imports the optional peer `yaml` and returns its parser with toolgate's refusals: nesting deeper
 * than a policy can be, warnings (an unknown tag), and keys that are not plain scalars or repeat.
 */
export async function loadYaml(): Promise<YamlParse> {
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
export const MAX_NESTING_DEPTH = 64;

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
