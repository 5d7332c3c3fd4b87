import { defineCommand } from './types.js';
import type { CompletionResult, Shell } from '../ops/setup/completion.js';

export const completionCommand = defineCommand<{ shell: Shell }, CompletionResult>({
  name: 'completion',
  command: 'completion <shell>',
  describe: 'Print the tab-completion script for bash, zsh or fish (commands, options, then file names)',
  noRepo: true,
  builder: (y) =>
    y
      .positional('shell', { choices: ['bash', 'zsh', 'fish'] as const, describe: 'the shell to complete in' })
      .example('dvs completion bash >> ~/.bashrc', 'complete dvs commands and options in every new bash')
      .example('dvs completion zsh > "${fpath[1]}/_dvs"', 'the same for zsh (fish: ~/.config/fish/completions/dvs.fish)'),
  async run(args) {
    const { completionScript } = await import('../ops/setup/completion.js');
    return completionScript(args.shell);
  },
});
