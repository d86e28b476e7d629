// Finds the TypeScript blocks of a Markdown page and what each declares about itself, for
// scripts/check-docs.ts. A block is read with the HTML comment that ends on the line right above
// its opening fence, if any:
//
//   <!-- docs-check: skip why -->            not checked (pseudo-code; keep these rare)
//   <!-- docs-check: no-run why -->          typechecked, not run (it serves, or needs a service)
//   <!-- docs-check: same-as examples/x.ts -->  must equal that file (which `npm run examples`
//                                            runs); typechecked
//   <!-- docs-check
//   import type { ApprovalProvider } from 'toolgate';
//   declare const approver: ApprovalProvider;
//   -->                                      a fragment: these lines go first; typechecked, not run
//
// Any other block is a complete program: typechecked under `strict` and run.

/** What a block says about itself. */
export type BlockMode =
  | { readonly kind: 'program' }
  | { readonly kind: 'skip'; readonly why: string }
  | { readonly kind: 'no-run'; readonly why: string }
  | { readonly kind: 'same-as'; readonly path: string }
  | { readonly kind: 'fragment'; readonly preamble: string; readonly preambleLine: number };

/** One fenced TypeScript block. */
export interface DocBlock {
  /** The Markdown file, as given. */
  readonly file: string;
  /** 1-based line of the first line of code (the line after the opening fence). */
  readonly line: number;
  readonly code: string;
  readonly mode: BlockMode;
}

/** A directive the checker cannot read: reported like a failing block. */
export interface DirectiveProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

const FENCE = /^(\s{0,3})(`{3,}|~{3,})\s*([^\s`]*)/;
const LANGUAGES = new Set(['ts', 'typescript', 'mts']);

/** The TypeScript blocks of a page, with their directives. */
export function extractBlocks(
  markdown: string,
  file: string,
): { blocks: DocBlock[]; problems: DirectiveProblem[] } {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  const problems: DirectiveProblem[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] ?? '');
    if (open === null) continue;
    const fence = open[2] ?? '```';
    const language = (open[3] ?? '').toLowerCase();
    let end = i + 1;
    while (end < lines.length && !isClosing(lines[end] ?? '', fence)) end++;
    if (LANGUAGES.has(language)) {
      const mode = directiveAbove(lines, i, file, problems);
      blocks.push({ file, line: i + 2, code: lines.slice(i + 1, end).join('\n'), mode });
    }
    i = end;
  }
  return { blocks, problems };
}

function isClosing(line: string, fence: string): boolean {
  const trimmed = line.trim();
  return trimmed.startsWith(fence) && trimmed.replaceAll(fence[0] ?? '`', '') === '';
}

/** Reads the `<!-- docs-check … -->` comment ending right above line `fence` (0-based). */
function directiveAbove(
  lines: readonly string[],
  fence: number,
  file: string,
  problems: DirectiveProblem[],
): BlockMode {
  const above = (lines[fence - 1] ?? '').trim();
  if (!above.endsWith('-->')) return { kind: 'program' };
  let start = fence - 1;
  while (start >= 0 && !(lines[start] ?? '').includes('<!--')) start--;
  if (start < 0) return { kind: 'program' };
  const first = (lines[start] ?? '').trim();
  if (!first.startsWith('<!-- docs-check')) return { kind: 'program' };
  const line = start + 1;
  if (first === '<!-- docs-check') {
    const preamble = lines.slice(start + 1, fence - 1).join('\n');
    if (preamble.trim() === '') problems.push({ file, line, message: 'docs-check: an empty preamble' });
    return { kind: 'fragment', preamble, preambleLine: start + 2 };
  }
  const single = /^<!-- docs-check: (skip|no-run|same-as)\b\s*(.*?)\s*-->$/.exec(first);
  if (single === null || start !== fence - 1) {
    problems.push({
      file,
      line,
      message:
        'docs-check: unknown directive; use "<!-- docs-check: skip|no-run <why> -->", "<!-- docs-check: same-as <file> -->" or a preamble "<!-- docs-check" … "-->"',
    });
    return { kind: 'skip', why: 'unreadable directive' };
  }
  const [, keyword, rest = ''] = single;
  if (keyword === 'same-as') return { kind: 'same-as', path: rest };
  if (rest === '') problems.push({ file, line, message: `docs-check: ${keyword} needs a reason` });
  return keyword === 'skip' ? { kind: 'skip', why: rest } : { kind: 'no-run', why: rest };
}
