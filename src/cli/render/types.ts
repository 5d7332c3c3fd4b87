/** What a renderer produces from a command's result. JSON output is the result itself. */
export interface Rendered {
  /** Human text for stdout (may be empty). */
  text: string;
  /** GitHub-flavoured markdown, for commands that support --md. */
  md?: string;
  /** A self-contained HTML page, for commands that support --html <file>. */
  html?: string;
  /** Exit code when it is not 0 (a check that found something, a partial failure). */
  exit?: number;
  /** Lines for stderr (warnings) in human mode. */
  notes?: string[];
}

export interface RenderOptions {
  args: Record<string, unknown>;
  quiet: boolean;
  verbose: boolean;
}

export type Renderer<R> = (result: R, options: RenderOptions) => Rendered;
