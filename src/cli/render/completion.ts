import type { CompletionResult } from '../../ops/setup/completion.js';
import type { Renderer } from './types.js';

/** The script alone on stdout, so `source <(dvs completion bash)` and redirecting to a file both work. */
export const renderCompletion: Renderer<CompletionResult> = (r) => ({ text: r.script });
