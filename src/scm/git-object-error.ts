/**
 * Something dvs's own reader of Git's object database does not handle, or does not trust (a missing
 * object, a format it does not know, a damaged file). Never shown to a user: the caller asks `git` instead.
 */
export class GitObjectError extends Error {}
