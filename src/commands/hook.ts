import { defineCommand } from './types.js';
import type { HookResult } from '../ops/git/hook-result.js';
import { HOOK_NAMES, type HookName } from '../scm/hook-names.js';

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Run by the hook scripts `dvs install` writes; not for people. */
export const hookCommand = defineCommand<{ name: HookName; args?: string[] }, HookResult>({
  name: 'hook',
  command: 'hook <name> [args..]',
  describe: false as unknown as string,
  builder: (y) =>
    y
      .positional('name', { choices: HOOK_NAMES as unknown as string[] })
      .positional('args', { type: 'string', array: true })
      .parserConfiguration({ 'unknown-options-as-args': true }),
  async run(args, env) {
    const { runHook } = await import('../ops/git/hook.js');
    const stdin = args.name === 'pre-push' || args.name === 'post-rewrite' ? await readStdin() : undefined;
    return runHook(await env.context(), { name: args.name, args: (args.args ?? []).map(String), stdin });
  },
});

export const mergeDriverCommand = defineCommand<{ base: string; ours: string; theirs: string; path: string }, import('../ops/git/merge-driver.js').MergeDriverResult>({
  name: 'merge-driver',
  command: 'merge-driver <base> <ours> <theirs> <path>',
  describe: false as unknown as string,
  async run(args, env) {
    const { mergePointers, assertMergeArgs } = await import('../ops/git/merge-driver.js');
    return mergePointers(await env.repo(), assertMergeArgs(args));
  },
});
