import { readFile } from 'node:fs/promises';
import { fileAnchor } from '../audit/anchor.ts';
import { consoleAudit } from '../audit/console.ts';
import { jsonlAudit } from '../audit/jsonl.ts';
import type { CheckpointOptions, JsonlAuditOptions } from '../audit/jsonl-options.ts';
import type { AuditMode, AuditOption, AuditSink } from '../audit/types.ts';
import { notAnAuditLog } from './audit-log.ts';
import { CliError, EXIT, inputError, UsageError } from './failures.ts';

// The audit options of `toolgate mcp-proxy` (src/cli/mcp-proxy.ts): the same hash-chained,
// verifiable log as `jsonlAudit()`, with signing, an anchor, rotation and fail-closed mode.

/** The `--audit*` flags of the proxy, as parsed. */
export interface ProxyAuditFlags {
  readonly audit?: string | undefined;
  readonly 'audit-key'?: string | undefined;
  readonly 'audit-anchor'?: string | undefined;
  readonly 'audit-rotate'?: string | undefined;
  readonly 'audit-mode'?: string | undefined;
}

/** Usage lines of the audit flags. */
export const PROXY_AUDIT_USAGE = `  --audit <file|->       record every call in a hash-chained audit log (verify it with
                         \`toolgate audit verify <file>\`), or as JSON lines on stderr with '-'
  --audit-key <id>=<private.pem>
                         sign checkpoints with this Ed25519 key (verify with --key <id>=<public.pem>)
  --audit-anchor <file>  also append each signed checkpoint to this file (another disk or host)
  --audit-rotate <size>  start a new file when the log reaches this size (e.g. 64MiB)
  --audit-mode <mode>    'best-effort' (default) or 'fail-closed': a call runs only once its
                         decision is on disk`;

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Parses a size such as `65536`, `64MiB` or `10MB`; throws a UsageError otherwise. */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? 'x'];
  const bytes = match === null || unit === undefined ? Number.NaN : Math.floor(Number(match[1]) * unit);
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new UsageError(`${flag} takes a size such as 65536, 64MiB or 10MB, not ${JSON.stringify(text)}`);
  return bytes;
}

/**
 * The guard's `audit` option for the proxy's flags. Throws a UsageError for flags that need
 * `--audit <file>`, and a CliError (exit 3) for a key that cannot be read or an existing file that
 * is not a toolgate log (a plain JSON-lines file from an older proxy is never appended to).
 */
export async function proxyAudit(flags: ProxyAuditFlags): Promise<AuditOption> {
  const file = flags.audit;
  const mode = flags['audit-mode'] ?? 'best-effort';
  if (mode !== 'best-effort' && mode !== 'fail-closed')
    throw new UsageError(`--audit-mode must be 'best-effort' or 'fail-closed'`);
  const needsFile: string[] = (['audit-key', 'audit-anchor', 'audit-rotate'] as const).filter(
    (flag) => flags[flag] !== undefined,
  );
  if (mode === 'fail-closed') needsFile.push('audit-mode');
  if ((file === undefined || file === '-') && needsFile.length > 0)
    throw new UsageError(`--${needsFile[0]} needs --audit <file>`);
  if (file === undefined) return [];
  if (file === '-') return [consoleAudit({ log: (line) => process.stderr.write(`${line}\n`) })];

  const foreign = await notAnAuditLog(file);
  if (foreign !== undefined)
    throw new CliError(`--audit: ${foreign}; move it away or choose another file`, EXIT.input);
  const options: { -readonly [K in keyof JsonlAuditOptions]: JsonlAuditOptions[K] } = {
    path: file,
    name: 'mcp-proxy-audit',
  };
  if (flags['audit-rotate'] !== undefined)
    options.rotate = { maxBytes: parseSize(flags['audit-rotate'], '--audit-rotate') };
  const key = flags['audit-key'];
  if (key !== undefined) options.checkpoint = await checkpointOptions(key, flags['audit-anchor']);
  else if (flags['audit-anchor'] !== undefined) throw new UsageError('--audit-anchor needs --audit-key');
  const sink: AuditSink = jsonlAudit(options);
  return { sinks: [sink], mode: mode as AuditMode };
}

async function checkpointOptions(spec: string, anchor: string | undefined): Promise<CheckpointOptions> {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1)
    throw new UsageError(`--audit-key takes <id>=<private key file>, got ${JSON.stringify(spec)}`);
  const keyFile = spec.slice(eq + 1);
  const privateKey = await readFile(keyFile, 'utf8').catch((error: unknown) => {
    throw inputError(error, keyFile);
  });
  const options: { -readonly [K in keyof CheckpointOptions]: CheckpointOptions[K] } = {
    privateKey,
    keyId: spec.slice(0, eq),
  };
  if (anchor !== undefined) options.anchor = fileAnchor({ path: anchor });
  return options;
}
