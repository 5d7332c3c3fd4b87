import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { writeFileAtomic } from '../base/atomic.js';
import { jsonReplacer } from '../base/json.js';
import type { CommandDef, CommandEnv, GlobalArgs } from '../commands/types.js';
import { DvsError, fromSystemError, isDvsError } from '../errors.js';
import type { OpContext } from '../ops/context.js';
import type { Repo } from '../repo/repo.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { printErr, printOut } from './output.js';
import { ProgressRenderer } from './progress.js';

/**
 * Run one command with parsed arguments: the one place that prints results and errors and picks the
 * exit code. Commands return typed results; renderers turn them into text, JSON or markdown.
 */
export async function execute(def: CommandDef<any, any>, args: GlobalArgs & Record<string, unknown>, cwd: string): Promise<number> {
  const progress = ProgressRenderer.enabled(args.json, args.quiet) ? new ProgressRenderer() : undefined;
  let repo: Repo | undefined;
  const env: CommandEnv = {
    cwd,
    repo: async () => (repo ??= (await import('../repo/repo.js')).Repo.find(cwd)),
    context: async (): Promise<OpContext> => ({
      repo: await env.repo(),
      cwd,
      onProgress: progress?.listener,
      lock: { wait: args.waitForLock },
    }),
  };
  let result: unknown;
  try {
    // Before the work: a long diff should not end with "cannot write the report".
    if (typeof args.html === 'string') checkReportPath(resolve(cwd, args.html), args.html);
    result = await def.run(args, env);
  } catch (err) {
    await progress?.stop();
    if (!args.quiet) printRepoWarnings(repo);
    return reportError(err, args.json, args.verbose);
  } finally {
    await progress?.stop();
    repo?.close();
  }
  if (!args.quiet) printRepoWarnings(repo);
  const { renderers } = await import('./render/index.js');
  const render = renderers[def.name] ? await renderers[def.name]() : undefined;
  const rendered = render ? render(result, { args, quiet: args.quiet, verbose: args.verbose }) : { text: '' };
  if (typeof args.html === 'string' && rendered.html !== undefined) {
    try {
      writeReport(resolve(cwd, args.html), rendered.html);
    } catch (err) {
      return reportError(err, args.json, args.verbose);
    }
  }
  if (args.json) {
    printOut(JSON.stringify(result, jsonReplacer, 2) + '\n');
  } else if (args.md === true && rendered.md !== undefined) {
    printOut(rendered.md);
  } else if (!args.quiet) {
    // Nothing to say writes nothing (and a Git hook with nothing to do opens no output at all).
    if (rendered.text) printOut(rendered.text);
    for (const note of rendered.notes ?? []) printErr(note + '\n');
  } else {
    for (const note of rendered.notes ?? []) if (note.startsWith('dvs: error:')) printErr(note + '\n');
  }
  return rendered.exit ?? EXIT.ok;
}

function checkReportPath(path: string, given: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new DvsError('REPORT_PATH', `--html ${given}: is a folder`, { hint: 'Name the report file, e.g. --html report.html.' });
  }
  if (!existsSync(dirname(path))) {
    throw new DvsError('REPORT_PATH', `--html ${given}: the folder ${dirname(path)} does not exist`, { hint: 'Create it first, or name a file in an existing folder.' });
  }
}

/**
 * The --html report: a file the user named, like a shell redirection (it may be outside the repository),
 * written whole or not at all.
 */
function writeReport(path: string, html: string): void {
  writeFileAtomic(path, html);
}

/** What the repository itself made the user worth telling (parts of .dvs/ that came from Git), on stderr. */
function printRepoWarnings(repo: Repo | undefined): void {
  for (const w of repo?.warnings ?? []) printErr(`dvs: warning: ${w.message}\n${w.hint ? `  hint: ${w.hint}\n` : ''}`);
}

/** Print an error once: message and hint (JSON with --json), the stack only with -v. */
export function reportError(err: unknown, json: boolean, verbose: boolean): number {
  let e = err;
  if (!isDvsError(e)) {
    const path = (err as { path?: string })?.path;
    if (typeof path === 'string') e = fromSystemError(err, path, 'accessing');
  }
  if (isDvsError(e)) {
    if (json) {
      printOut(JSON.stringify({ error: { code: e.code, kind: e.kind, message: e.message, hint: e.hint, data: e.data } }, jsonReplacer, 2) + '\n');
    } else {
      printErr(`dvs: error: ${e.message}\n`);
      if (e.hint) printErr(`  hint: ${e.hint}\n`);
    }
    if (verbose) printErr(`${(e as Error).stack}\n${(e as Error).cause ? `caused by: ${((e as Error).cause as Error)?.stack ?? String((e as Error).cause)}\n` : ''}`);
    return exitCodeFor(e.kind);
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) printOut(JSON.stringify({ error: { code: 'INTERNAL', kind: 'internal', message } }, null, 2) + '\n');
  printErr(`dvs: internal error: ${message}\n`);
  if (verbose) printErr(`${err instanceof Error ? err.stack : ''}\n`);
  else printErr('  hint: run again with -v for the stack trace, and report it.\n');
  return EXIT.internal;
}
