import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Rotated files of an audit log (`<path>.<index>`), oldest first. */
export function rotatedFiles(path: string): { index: number; path: string }[] {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const found: { index: number; path: string }[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const suffix = name.slice(prefix.length);
    if (/^(?:0|[1-9][0-9]{0,8})$/.test(suffix)) found.push({ index: Number(suffix), path: join(dir, name) });
  }
  return found.sort((a, b) => a.index - b.index);
}

/**
 * Every file of an audit log in chain order: the rotated files `<path>.0`, `<path>.1`, … and then
 * the active file `<path>`.
 *
 * @example
 * auditLogFiles('/var/log/toolgate/audit.jsonl') // ['…/audit.jsonl.0', '…/audit.jsonl.1', '…/audit.jsonl']
 */
export function auditLogFiles(path: string): string[] {
  return [...rotatedFiles(path).map((file) => file.path), path];
}
