/**
 * Shell completion scripts for `dvs completion <shell>`. Each asks dvs itself for the candidates
 * (`dvs --get-yargs-completions <words>`, answered by yargs from the command definitions), so the
 * script never goes stale when commands or options change: only the glue per shell lives here.
 * Where nothing matches (paths to track, revisions), the shell falls back to its file completion.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionResult {
  shell: Shell;
  script: string;
}

const BASH = `###-begin-dvs-completions-###
_dvs_completions() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" candidates
  candidates=$(dvs --get-yargs-completions "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
  COMPREPLY=( $(compgen -W "\${candidates}" -- "\${cur}") )
}
complete -o bashdefault -o default -F _dvs_completions dvs
###-end-dvs-completions-###
`;

// yargs answers zsh with "name:description" pairs (it recognises zsh by ZSH_NAME), which _describe shows.
const ZSH = `#compdef dvs
###-begin-dvs-completions-###
_dvs_completions() {
  local -a candidates
  candidates=("\${(@f)$(dvs --get-yargs-completions "\${words[@]:0:CURRENT}" 2>/dev/null)}")
  _describe 'dvs' candidates && return 0
  _files
}
compdef _dvs_completions dvs
###-end-dvs-completions-###
`;

// Plain names: SHELL and ZSH_NAME are cleared so yargs does not answer in zsh's format.
const FISH = `###-begin-dvs-completions-###
function __dvs_completions
    env -u ZSH_NAME SHELL=fish dvs --get-yargs-completions (commandline -opc) (commandline -ct) 2>/dev/null
end
complete -c dvs -a '(__dvs_completions)'
###-end-dvs-completions-###
`;

const SCRIPTS: Record<Shell, string> = { bash: BASH, zsh: ZSH, fish: FISH };

export function completionScript(shell: Shell): CompletionResult {
  return { shell, script: SCRIPTS[shell] };
}
