/** The Git hooks dvs installs. A module of its own so that the CLI can name them without loading Git code. */
export const HOOK_NAMES = ['post-checkout', 'post-merge', 'post-rewrite', 'pre-push', 'pre-commit'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

/** Hooks `dvs install` writes only when asked (`--pre-commit`); once there, later installs keep them up to date. */
export const OPTIONAL_HOOKS: readonly HookName[] = ['pre-commit'];
