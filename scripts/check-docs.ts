// Typechecks every TypeScript block in README.md and docs/ under the repo's strict tsconfig, and
// runs the blocks that are complete programs. Errors name the Markdown file and line.
//
//   npx tsx scripts/check-docs.ts [files…] [--no-run] [--keep]
//
// How a block declares what it is (a fragment with a hidden preamble, a program not to run, a
// copy of an example file): see the top of scripts/docs-blocks.ts.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { type DocBlock, extractBlocks } from './docs-blocks.ts';

const ROOT = resolve(import.meta.dirname, '..');

/** Options of `checkDocs`. */
export interface CheckDocsOptions {
  /** Markdown files, relative to the repo root. @default README.md and every docs/ page */
  files?: readonly string[];
  /** Run the complete programs. @default true */
  run?: boolean;
  /** Where the generated files go, relative to the repo root (inside it, so imports resolve). @default '.docs-check' */
  out?: string;
  /** Keep the generated files. @default false */
  keep?: boolean;
  /** How long one program may run, in ms. @default 60_000 */
  timeoutMs?: number;
}

/** What a check found. */
export interface CheckDocsResult {
  /** One entry per problem, each starting with `file:line`. */
  readonly failures: string[];
  readonly checked: number;
  readonly ran: number;
  readonly skipped: number;
}

interface Generated {
  readonly block: DocBlock;
  readonly path: string;
  readonly preambleLines: number;
}

/** Checks the TypeScript blocks of the given Markdown files. */
export async function checkDocs(options: CheckDocsOptions = {}): Promise<CheckDocsResult> {
  const files = options.files ?? defaultFiles();
  const out = join(ROOT, options.out ?? '.docs-check');
  const failures: string[] = [];
  const generated: Generated[] = [];
  let skipped = 0;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  try {
    for (const file of files) {
      const { blocks, problems } = extractBlocks(readFileSync(join(ROOT, file), 'utf8'), file);
      for (const problem of problems) failures.push(`${problem.file}:${problem.line}: ${problem.message}`);
      for (const block of blocks) {
        if (block.mode.kind === 'skip') {
          skipped++;
          continue;
        }
        if (block.mode.kind === 'same-as') {
          const expected = readFileSync(join(ROOT, block.mode.path), 'utf8').replace(/\n$/, '');
          if (block.code !== expected)
            failures.push(
              `${block.file}:${block.line}: the block differs from ${block.mode.path}; copy the file into it`,
            );
        }
        const preamble = block.mode.kind === 'fragment' ? `${block.mode.preamble}\n` : '';
        const name = `${file.replace(/[^A-Za-z0-9]+/g, '-')}-L${block.line}.ts`;
        const path = join(out, name);
        writeFileSync(path, `${preamble}${block.code}\nexport {};\n`);
        generated.push({ block, path, preambleLines: preamble === '' ? 0 : preamble.split('\n').length - 1 });
      }
    }
    const typeErrors = typecheck(out, generated);
    failures.push(...typeErrors.map((problem) => problem.text));
    let ran = 0;
    if (options.run !== false) {
      // A program that does not typecheck is not run: its type errors are reported already.
      const broken = new Set(typeErrors.map((problem) => problem.generated));
      // A copy of an example file is run by `npm run examples`, not again here.
      const programs = generated.filter((g) => g.block.mode.kind === 'program' && !broken.has(g));
      ran = programs.length;
      failures.push(...(await runAll(programs, options.timeoutMs ?? 60_000)));
    }
    return { failures: failures.sort(byPosition), checked: generated.length, ran, skipped };
  } finally {
    if (options.keep !== true) rmSync(out, { recursive: true, force: true });
  }
}

/** Orders problems by file, then line. */
function byPosition(a: string, b: string): number {
  const [fileA = '', lineA = '0'] = a.split(':');
  const [fileB = '', lineB = '0'] = b.split(':');
  return fileA === fileB ? Number(lineA) - Number(lineB) : fileA < fileB ? -1 : 1;
}

/** README.md and every Markdown page under docs/. */
function defaultFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join('docs', name));
  return ['README.md', ...docs];
}

/** The doc position of a line of a generated file. */
function docPosition(g: Generated, line: number): string {
  const { block } = g;
  if (line <= g.preambleLines && block.mode.kind === 'fragment')
    return `${block.file}:${block.mode.preambleLine + line - 1}`;
  const codeLines = block.code.split('\n').length;
  return `${block.file}:${block.line + Math.min(line - g.preambleLines, codeLines) - 1}`;
}

interface TypeProblem {
  readonly text: string;
  readonly generated?: Generated;
}

function typecheck(out: string, generated: readonly Generated[]): TypeProblem[] {
  if (generated.length === 0) return [];
  const config = join(out, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: relative(out, join(ROOT, 'tsconfig.json')),
      compilerOptions: { noEmit: true },
      include: ['./*.ts'],
    }),
  );
  const problems: TypeProblem[] = [];
  const parsed = ts.getParsedCommandLineOfConfigFile(
    config,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) =>
        problems.push({ text: `tsconfig: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}` }),
    },
  );
  if (parsed === undefined) return problems;
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const byPath = new Map(generated.map((g) => [resolve(g.path), g]));
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n  ');
    const file = diagnostic.file;
    const g = file === undefined ? undefined : byPath.get(resolve(file.fileName));
    if (file === undefined || g === undefined || diagnostic.start === undefined) {
      // Only the generated files are ours to report; anything else means the setup is broken.
      const where = file === undefined ? 'typescript' : relative(ROOT, file.fileName);
      problems.push({ text: `${where}: error TS${diagnostic.code}: ${message}` });
      continue;
    }
    const { line, character } = file.getLineAndCharacterOfPosition(diagnostic.start);
    problems.push({
      text: `${docPosition(g, line + 1)}:${character + 1} - error TS${diagnostic.code}: ${message}`,
      generated: g,
    });
  }
  return problems;
}

async function runAll(programs: readonly Generated[], timeoutMs: number): Promise<string[]> {
  const failures: string[] = [];
  const queue = [...programs];
  const worker = async () => {
    for (let g = queue.shift(); g !== undefined; g = queue.shift()) {
      const failure = await runOne(g, timeoutMs);
      if (failure !== undefined) failures.push(failure);
    }
  };
  await Promise.all([worker(), worker()]);
  return failures;
}

function runOne(g: Generated, timeoutMs: number): Promise<string | undefined> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', g.path], {
      cwd: ROOT,
      env: { ...process.env, TOOLGATE_DOCS_CHECK: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return done(undefined);
      const why =
        signal === null ? `exited with code ${code}` : `was stopped (${signal}; limit ${timeoutMs} ms)`;
      // Stack frames in the generated file point back into the page.
      const frames = stderr.replaceAll(
        new RegExp(`${escapeRegExp(g.path)}:(\\d+)(?::\\d+)?`, 'g'),
        (_all, line: string) => docPosition(g, Number(line)),
      );
      const tail = frames
        .trim()
        .split('\n')
        .slice(-15)
        .map((l) => `    ${l}`)
        .join('\n');
      done(`${g.block.file}:${g.block.line}: the program ${why}${tail === '' ? '' : `\n${tail}`}`);
    });
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const files = args.filter((arg) => !arg.startsWith('--'));
  const result = await checkDocs({
    ...(files.length > 0 ? { files } : {}),
    run: !args.includes('--no-run'),
    keep: args.includes('--keep'),
  });
  for (const failure of result.failures) console.error(failure);
  console.log(
    `docs: ${result.checked} TypeScript blocks typechecked, ${result.ran} run, ${result.skipped} skipped; ${result.failures.length} problem(s)`,
  );
  process.exitCode = result.failures.length === 0 ? 0 : 1;
}
