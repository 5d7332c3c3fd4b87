/**
 * Something dvs's own reader of Git's object database does not handle, or does not trust (a missing
 * object, a format it does not know, a damaged file). Never shown to a user: the caller asks `git` instead.
 */
export class GitObjectError extends Error {}

/** Whether dvs's own read failed in a way that sends the question to Git: a GitObjectError, or a system error (a file that vanished or cannot be read). */
export function leftToGit(err: unknown): boolean {
  return err instanceof GitObjectError || typeof (err as NodeJS.ErrnoException | undefined)?.syscall === 'string';
}
