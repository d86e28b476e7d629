import { ConfigurationError } from '../errors.ts';

/** Strings longer than this are never run through a `matches` pattern: the comparison is indeterminate. */
export const MAX_MATCH_INPUT = 4096;

const MAX_PATTERN_LENGTH = 1000;
const MAX_UNBOUNDED_QUANTIFIERS = 3;
const MAX_BOUNDED_REPEAT = 1000;

/**
 * Compiles a `matches` pattern after refusing the shapes that make backtracking engines blow up:
 * back-references, nested quantifiers (a quantified group containing a quantifier or an
 * alternation, such as `(a+)+` or `(a|aa)*`), bounded repeats above 1,000, and more than three
 * unbounded quantifiers. Inputs are further capped at `MAX_MATCH_INPUT` characters.
 * Patterns are compiled with the `u` flag (strict syntax).
 */
export function compileSafeRegex(pattern: unknown, where: string): RegExp {
  if (typeof pattern !== 'string') throw new ConfigurationError(`${where}: matches takes a string pattern`);
  if (pattern.length > MAX_PATTERN_LENGTH)
    throw new ConfigurationError(`${where}: pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  let regex: RegExp;
  try {
    regex = new RegExp(pattern, 'u');
  } catch (error) {
    throw new ConfigurationError(`${where}: invalid pattern: ${(error as Error).message}`);
  }
  const problem = backtrackingProblem(pattern);
  if (problem !== undefined)
    throw new ConfigurationError(`${where}: pattern ${JSON.stringify(pattern)} is refused: ${problem}`);
  return regex;
}

interface Group {
  /** The group holds a quantifier or an alternation somewhere inside. */
  risky: boolean;
}

/** A conservative syntactic check; the pattern is already known to be valid `u`-mode syntax. */
function backtrackingProblem(pattern: string): string | undefined {
  const stack: Group[] = [];
  let unbounded = 0;
  // What the previous atom was: a closed group (and whether it was risky), or a plain atom.
  let lastGroup: Group | undefined;
  let i = 0;
  const markRisky = () => {
    for (const group of stack) group.risky = true;
  };
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'back-references are not allowed';
      i += next === 'u' && pattern[i + 2] === '{' ? pattern.indexOf('}', i) + 1 - i : 2;
      lastGroup = undefined;
      continue;
    }
    if (ch === '[') {
      i = skipClass(pattern, i);
      lastGroup = undefined;
      continue;
    }
    if (ch === '(') {
      stack.push({ risky: false });
      i += pattern[i + 1] === '?' ? (pattern[i + 2] === '<' && /[=!]/.test(pattern[i + 3] ?? '') ? 4 : 3) : 1;
      if (pattern[i - 1] === '<' && pattern[i - 2] === '?') i = pattern.indexOf('>', i) + 1;
      lastGroup = undefined;
      continue;
    }
    if (ch === ')') {
      lastGroup = stack.pop() ?? { risky: false };
      i += 1;
      continue;
    }
    if (ch === '|') {
      markRisky();
      // A top-level alternation is harmless; one inside a group makes the group risky.
      i += 1;
      lastGroup = undefined;
      continue;
    }
    if (ch === '*' || ch === '+' || ch === '?' || ch === '{') {
      let isUnbounded = ch === '*' || ch === '+';
      let length = 1;
      if (ch === '{') {
        const match = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
        if (match === null) {
          i += 1;
          lastGroup = undefined;
          continue;
        }
        length = match[0].length;
        const upper =
          match[2] === undefined ? Number(match[1]) : match[3] === '' ? Infinity : Number(match[3]);
        if (upper === Infinity) isUnbounded = true;
        else if (upper > MAX_BOUNDED_REPEAT) return `repeats above ${MAX_BOUNDED_REPEAT} are not allowed`;
      }
      const repeats = ch !== '?';
      if (repeats && lastGroup?.risky === true)
        return 'a quantified group must not contain quantifiers or alternations';
      if (isUnbounded) unbounded += 1;
      if (unbounded > MAX_UNBOUNDED_QUANTIFIERS)
        return `more than ${MAX_UNBOUNDED_QUANTIFIERS} unbounded quantifiers`;
      if (repeats) markRisky();
      i += length;
      if (pattern[i] === '?') i += 1;
      lastGroup = undefined;
      continue;
    }
    i += 1;
    lastGroup = undefined;
  }
  return undefined;
}

function skipClass(pattern: string, start: number): number {
  let i = start + 1;
  while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
  return i + 1;
}
