/** The Git hooks dvs installs. A module of its own so that the CLI can name them without loading Git code. */
export const HOOK_NAMES = ['post-checkout', 'post-merge', 'post-rewrite', 'pre-push'] as const;
export type HookName = (typeof HOOK_NAMES)[number];
