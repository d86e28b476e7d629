import type { Unescaped } from './unescaped.ts';

// Lines joined, for the scrubber: a value, or its hex or base64, wrapped over lines (terminal
// wrap, `xxd -p`, PEM, MIME) reads as itself once the breaks are taken out.

/** A line break and the indentation after it. */
const LINE_BREAK = /\r?\n[ \t]*|\r/g;

/**
 * The line breaks of `text` (each with the indentation after it), as `[start, end)` pairs; none
 * (one or two scans) for a text on one line.
 */
export function lineBreaks(text: string): number[] {
  const breaks: number[] = [];
  let at = text.indexOf('\n');
  let cr = text.indexOf('\r');
  while (at >= 0 || cr >= 0) {
    // The first of the next `\n` and the next `\r` (a `\r\n` is one break).
    const start = at < 0 || (cr >= 0 && cr < at) ? cr : at;
    let end = start + 1;
    if (text.charCodeAt(start) === 13 && text.charCodeAt(end) === 10) end += 1;
    while (text.charCodeAt(end) === 32 || text.charCodeAt(end) === 9) end += 1;
    breaks.push(start, end);
    if (at >= 0 && at < end) at = text.indexOf('\n', end);
    if (cr >= 0 && cr < end) cr = text.indexOf('\r', end);
  }
  return breaks;
}

/** `text` with its line breaks (and the indentation after each) taken out. */
export function joinedLines(text: string): Unescaped | undefined {
  if (text.indexOf('\n') < 0 && text.indexOf('\r') < 0) return undefined;
  const escapes: number[] = [];
  const pieces: string[] = [];
  let length = 0;
  let raw = 0;
  LINE_BREAK.lastIndex = 0;
  for (let match = LINE_BREAK.exec(text); match !== null; match = LINE_BREAK.exec(text)) {
    pieces.push(text.slice(raw, match.index));
    length += match.index - raw;
    raw = match.index + match[0].length;
    escapes.push(length, length, match.index, raw);
  }
  pieces.push(text.slice(raw));
  return { text: pieces.join(''), parent: undefined, escapes };
}
