/**
 * Every error code dvs reports, with its kind (which fixes the exit code, cli/exit-codes.ts) and when it
 * happens. One place: `new DvsError(code, …)` takes its kind from here, so a code means one thing
 * everywhere, and docs/errors.md is generated from this table (`npm run errors-doc`; a test keeps it in
 * step). Callers branch on the code, never on the message.
 */

/** Broad classes of failure; each has one documented exit code (cli/exit-codes.ts). */
export type ErrorKind =
  | 'usage' // bad flags, unknown key, invalid value given on the command line
  | 'input' // malformed pointer/manifest/config, path escaping the repo, invalid hash
  | 'notfound' // a path, object, remote or revision that does not exist
  | 'conflict' // refusing to overwrite unsaved data; something already tracked
  | 'environment' // permission denied, disk full, lock held, not a git repo
  | 'remote' // unreachable server, bad credentials, remote refused
  | 'partial' // some items failed, the rest were done
  | 'internal'; // a bug in dvs

/** The exit status of each kind (the README's table; cli/exit-codes.ts adds the statuses no error has). */
export const EXIT_STATUS_OF_KIND: Readonly<Record<ErrorKind, number>> = {
  usage: 2,
  input: 3,
  notfound: 4,
  conflict: 5,
  environment: 6,
  remote: 7,
  partial: 8,
  internal: 70,
};

interface CodeSpec {
  kind: ErrorKind;
  /** When it happens, for docs/errors.md: one sentence. */
  when: string;
}

const spec = <T extends Record<string, CodeSpec>>(table: T) => table;

/** The parsers of repository text (pointers, config, run records, audit events, lineage) share refusals. */
const parsed = (what: string, file: string) => ({
  TOO_LARGE: { kind: 'input', when: `${what} is larger than 1 MiB: refused before it is read.` },
  TOO_DEEP: { kind: 'input', when: `${what} nests deeper than 32 levels.` },
  ALIAS: { kind: 'input', when: `${what} uses YAML anchors or aliases (they could expand without bound).` },
  INVALID: { kind: 'input', when: `${what} is not valid (syntax, shape or value); the message names ${file} and the line.` },
}) as const;

const prefixed = <P extends string, T extends Record<string, CodeSpec>>(prefix: P, table: T) =>
  Object.fromEntries(Object.entries(table).map(([k, v]) => [`${prefix}_${k}`, v])) as { [K in keyof T & string as `${P}_${K}`]: T[K] };

/**
 * The table, made when first asked for (errorCodes): some 300 entries whose making is a measurable part
 * of a Git hook's start-up, and a command that succeeds never needs them.
 */
const codeTable = () =>
  spec({
  // Command line
  USAGE: { kind: 'usage', when: 'A command is called with the wrong arguments or flags.' },
  UNKNOWN_OPTION: { kind: 'usage', when: 'A flag the command does not have.' },
  UNEXPECTED_ARGUMENT: { kind: 'usage', when: 'An argument the command does not take.' },
  UNEXPECTED_OPTION: { kind: 'usage', when: 'A flag that does not apply to this form of the command.' },
  NO_TARGETS: { kind: 'usage', when: 'A command that needs paths was given none.' },
  NO_TARGET: { kind: 'usage', when: 'A command that needs one path was given none.' },
  ONE_REVISION: { kind: 'usage', when: 'A command that takes one --rev was given several.' },
  UNKNOWN_HOOK: { kind: 'usage', when: '`dvs hook` names a hook dvs does not have.' },
  MERGE_DRIVER_ARGS: { kind: 'usage', when: 'The merge driver is called without the four paths Git passes.' },
  INVALID_JOBS: { kind: 'usage', when: '-j/--jobs is not a positive integer.' },
  INVALID_LIMIT: { kind: 'usage', when: 'A count (-n) is not a positive whole number.' },
  INVALID_TIME: { kind: 'usage', when: 'A date and time is not ISO 8601.' },
  INVALID_DURATION: { kind: 'usage', when: 'A duration is not a number of seconds.' },
  INVALID_ASSIGNMENT: { kind: 'usage', when: 'A --param/--metric is not key=value.' },
  DUPLICATE_ASSIGNMENT: { kind: 'usage', when: 'The same --param/--metric key is given twice.' },
  INVALID_METRIC: { kind: 'usage', when: 'A metric value is not a number.' },
  CONTENT_DIFF_OPTION: { kind: 'usage', when: 'A content-diff option (--rows, --key) is invalid.' },
  REPORT_PATH: { kind: 'usage', when: '--html names a folder, or a file in a folder that does not exist.' },
  CONTENT_DIFF_EMPTY: { kind: 'usage', when: 'A content diff was asked of two missing versions.' },
  INVALID_DATE: { kind: 'usage', when: 'A date (`dvs gc --date`) is not a calendar date YYYY-MM-DD.' },
  NO_RECORDS: { kind: 'input', when: '`dvs hash --records` names a path with no CSV, TSV, JSON Lines or Parquet file.' },
  RECORDS_UNREADABLE: { kind: 'input', when: '`dvs hash --records` met a tabular file whose records cannot be read.' },

  // Repository and configuration
  NOT_A_GIT_REPO: { kind: 'environment', when: '`dvs init` outside a Git work tree.' },
  NOT_A_DVS_REPO: { kind: 'environment', when: 'A command outside a repository set up with `dvs init`.' },
  REPO_LOCKED: { kind: 'environment', when: 'Another dvs command holds the repository lock (use --wait-for-lock to wait).' },
  UNKNOWN_CONFIG_KEY: { kind: 'usage', when: '`dvs config` names a key dvs does not know.' },
  CONFIG_UNKNOWN_KEY: { kind: 'input', when: 'A config file sets a key dvs does not know.' },
  INVALID_CONFIG_VALUE: { kind: 'usage', when: 'A config value given on the command line has the wrong type.' },
  SECRET_IN_SHARED_CONFIG: { kind: 'usage', when: 'A secret would be written to the committed .dvs/config.' },
  MACHINE_ONLY_SETTING: { kind: 'usage', when: 'A setting only this machine may choose (an SSH key file, a known_hosts file) would be written to the committed .dvs/config.' },
  ...prefixed('CONFIG', parsed('A config file', 'the file')),
  CONFIG_LOCAL_FROM_GIT: { kind: 'input', when: '.dvs/config.local is committed to Git: dvs will not write this machine\'s settings into it.' },
  DVS_LINK_FROM_GIT: { kind: 'input', when: '.dvs, .dvs/cache or .dvs/tmp (or another part of .dvs) is a symbolic link committed to Git.' },
  UNCONFIRMED_PATH: { kind: 'input', when: 'The committed config points cache.dir, a directory remote or credentials_file outside the repository, or sets an SSH key_file or known_hosts, and this machine has not confirmed it.' },
  UNCONFIRMED_ENDPOINT: { kind: 'input', when: 'The committed config sets the endpoint of an Azure remote used with a SAS token (a bearer credential), and this machine has not confirmed it.' },
  PROJECT_NOT_DVS_REPO: { kind: 'usage', when: '`dvs gc --projects` names a folder that is not in a dvs repository.' },
  PROJECT_OTHER_CACHE: { kind: 'usage', when: '`dvs gc --projects` names a repository whose cache is not this repository\'s cache.' },
  NO_SQLITE: { kind: 'environment', when: 'Node has no built-in SQLite (before 22.13) and the optional better-sqlite3 addon is not installed or not built for this Node.' },
  NO_LINK_TYPE: { kind: 'environment', when: 'None of the link types in cache.type works on this file system.' },

  // Paths (src/base/paths.ts)
  PATH_OUTSIDE_REPO: { kind: 'input', when: 'A path is absolute, climbs out with "..", has empty or "." parts, or is the repository root.' },
  PATH_RESERVED: { kind: 'input', when: 'A path is, or is inside, .git or .dvs (in any letter case or disguise).' },
  PATH_INVALID: { kind: 'input', when: 'A data path has a control character or a name too long for its pointer.' },
  PATH_THROUGH_SYMLINK: { kind: 'input', when: 'A folder on the way to the data, or the pointer itself, is a symbolic link.' },
  PATH_NOT_FOUND: { kind: 'notfound', when: 'A file or folder named on the command line does not exist.' },
  PATH_CHANGED: { kind: 'conflict', when: 'A file became a folder (or the reverse) while dvs worked on it.' },
  PATH_LINK_LOOP: { kind: 'input', when: 'Symbolic links point in a circle.' },
  NAME_TOO_LONG: { kind: 'input', when: 'A file name is longer than the file system allows.' },
  NAME_NOT_UTF8: { kind: 'input', when: 'A file name is not valid UTF-8, so no manifest can record it.' },

  // The operating system
  PERMISSION_DENIED: { kind: 'environment', when: 'The operating system refused to read or write a path.' },
  DISK_FULL: { kind: 'environment', when: 'No space left on the device (or the quota is used up).' },
  READ_ONLY_FS: { kind: 'environment', when: 'A write to a read-only file system.' },
  TOO_MANY_OPEN_FILES: { kind: 'environment', when: 'The process ran out of file descriptors.' },
  IO_ERROR: { kind: 'environment', when: 'The disk or a network file system failed.' },
  READ_FAILED: { kind: 'environment', when: 'A file could not be read while it was being stored.' },

  // Pointers and manifests
  ...prefixed('POINTER', parsed('A pointer', 'the pointer')),
  POINTER_VERSION: { kind: 'input', when: 'A pointer of a format version this dvs does not read.' },
  POINTER_NOT_FOUND: { kind: 'notfound', when: 'A pointer named on the command line does not exist.' },
  INVALID_OID: { kind: 'input', when: 'An oid is not 64 lowercase hexadecimal digits.' },
  UNSUPPORTED_HASH: { kind: 'input', when: 'An oid names a hash algorithm other than sha256.' },
  MANIFEST_INVALID: { kind: 'input', when: 'A directory manifest is malformed, unsorted, or lists a path both as a file and as a folder.' },
  MANIFEST_UNSORTED: { kind: 'internal', when: 'dvs itself built a manifest out of order (a bug).' },
  INTERNAL: { kind: 'internal', when: 'An error dvs did not expect: a bug (run again with -v and report the stack trace).' },

  // Tracking and the workspace
  NOT_TRACKED: { kind: 'notfound', when: 'A path named on the command line is not tracked by dvs.' },
  IS_A_DIRECTORY: { kind: 'usage', when: 'The library API was asked to open or read a tracked directory as one file.' },
  TRACK_POINTER: { kind: 'usage', when: '`dvs track` was given a pointer instead of data.' },
  TRACK_SPECIAL: { kind: 'input', when: '`dvs track` was given something that is neither a file nor a folder.' },
  TRACK_LINKED_DIRECTORY: { kind: 'input', when: '`dvs track` was given a symbolic link to a folder.' },
  TRACK_BROKEN_LINK: { kind: 'notfound', when: '`dvs track` was given a symbolic link to nothing.' },
  GLOB_NO_MATCH: { kind: 'notfound', when: 'A `dvs track --glob` pattern matches no file or folder.' },
  GLOB_INVALID: { kind: 'usage', when: 'A `dvs track --glob` pattern is negated ("!…").' },
  TRACK_OUT_ONE_SOURCE: { kind: 'usage', when: '`dvs track -o` was given several sources, or --glob.' },
  TRACK_OUT_EXISTS: { kind: 'conflict', when: 'The destination of `dvs track -o` exists (use --force to replace it).' },
  TRACK_OUT_OVERLAPS: { kind: 'usage', when: 'The destination of `dvs track -o` holds its source or lies inside it.' },
  TRACK_UPLOAD_FAILED: { kind: 'remote', when: '`dvs track --to-remote` could not upload every object; no pointer was written (run it again to finish).' },
  TRACKED_BY_GIT: { kind: 'conflict', when: 'The data is already tracked by Git.' },
  APPEND_ONLY_VIOLATION: { kind: 'conflict', when: '`dvs track` or `dvs checkpoint` of an append-only directory finds a file it already recorded changed or gone; nothing is written.' },
  APPEND_ONLY_NOT_DIRECTORY: { kind: 'usage', when: '`dvs track --append-only` names a file, or a path inside a tracked directory: only a tracked directory as a whole can be append-only.' },
  APPEND_ONLY_BASE_MISSING: { kind: 'notfound', when: 'The manifest an append-only directory was last recorded with is not in the cache, so dvs cannot tell what was appended.' },
  NOT_APPEND_ONLY: { kind: 'usage', when: '`dvs checkpoint` or `dvs lock` names data that is not an append-only tracked directory.' },
  CHECKPOINT_NO_AUDIT: { kind: 'usage', when: '`dvs checkpoint` with the audit trail turned off (`audit.enabled: false`): a checkpoint is an audit event.' },
  CHECKPOINT_MESSAGE: { kind: 'usage', when: '`dvs checkpoint` without `-m`, or with an empty message.' },
  LOCK_HELD: { kind: 'conflict', when: '`dvs lock` of a partition someone already holds, or `dvs track`/`dvs push` that would change a partition locked by someone else.' },
  LOCK_NOT_HELD: { kind: 'notfound', when: '`dvs unlock` of a partition nobody has locked.' },
  LOCK_NOT_OWNER: { kind: 'conflict', when: '`dvs unlock` of a lock someone else holds, without --force.' },
  LOCKS_UNSUPPORTED: { kind: 'remote', when: 'The remote cannot write an object only if it does not exist yet (create-only), so it cannot hold locks.' },
  LOCK_INVALID: { kind: 'input', when: 'A lock object on the remote is not a dvs lock (malformed JSON or missing members).' },
  INSIDE_TRACKED_DIR: { kind: 'conflict', when: 'A path inside a tracked directory was given where the directory is meant.' },
  TRACK_IGNORED: { kind: 'input', when: '`dvs track` of a path inside a tracked directory that .dvsignore leaves out of it.' },
  MOVE_TARGET_EXISTS: { kind: 'conflict', when: '`dvs move` to a path where data, a pointer or another file already is.' },
  MOVE_INTO_ITSELF: { kind: 'usage', when: '`dvs move` of a directory into itself, or of data onto itself.' },
  CONTAINS_TRACKED_DATA: { kind: 'conflict', when: 'A folder to track holds data tracked on its own.' },
  UNSAVED_CHANGES: { kind: 'conflict', when: 'Workspace data that is not saved in the cache would be overwritten or deleted (use --force).' },
  OBJECT_MISSING: { kind: 'notfound', when: 'An object the pointers need is not in the cache.' },
  OBJECT_CORRUPTED: { kind: 'input', when: 'A cache object\'s bytes do not hash to its name (it is moved to quarantine).' },
  MANIFEST_MISSING: { kind: 'notfound', when: 'A directory\'s manifest is neither in the cache nor on the remote.' },
  MANIFEST_HELD_BACK: { kind: 'partial', when: 'A push did not upload a directory\'s manifest because some of its files could not be sent.' },
  UNKNOWN_REVISION: { kind: 'notfound', when: 'A revision Git cannot resolve, or one that names neither a commit nor a tree.' },
  UNKNOWN_TARGET: { kind: 'notfound', when: 'A `dvs diff --targets` path names no tracked data on either side.' },

  // Remotes
  NO_REMOTE: { kind: 'notfound', when: 'No remote is configured, or several are and none is the default.' },
  REMOTE_NOT_FOUND: { kind: 'notfound', when: 'A remote name that is not configured.' },
  REMOTE_EXISTS: { kind: 'conflict', when: '`dvs remote add` of a name that exists (use --force to replace its URL), or `dvs remote rename` to a name in use.' },
  INVALID_REMOTE_NAME: { kind: 'usage', when: 'A remote name (`dvs remote add`, the new name of `dvs remote rename`) with characters other than letters, digits, "_" and "-".' },
  INVALID_REMOTE_URL: { kind: 'usage', when: 'A remote URL that cannot be parsed.' },
  UNSUPPORTED_REMOTE_URL: { kind: 'usage', when: 'A remote URL scheme other than a path, file://, s3://, gs://, azure://, ssh:// (sftp://), http:// or https://.' },
  UNKNOWN_REMOTE_OPTION: { kind: 'usage', when: '`dvs remote modify` of an option remotes do not have.' },
  REMOTE_READ_ONLY: { kind: 'usage', when: 'push, gc --remote or track --to-remote named a read-only remote (HTTP(S)).' },
  REMOTE_CANNOT_LIST: { kind: 'usage', when: 'A command that must list a remote was given one that cannot be listed (HTTP(S)). As a warning of `status --remote`: the HTTP(S) server does not list packs/, so packed objects cannot be found there.' },
  UNCONFIRMED_URL: { kind: 'input', when: 'The committed config sets the URL of an HTTP(S) remote that this machine would send credentials to, and this machine has not confirmed it.' },
  REMOTE_DIR_MISSING: { kind: 'remote', when: 'A directory remote\'s folder does not exist.' },
  REMOTE_NO_BUCKET: { kind: 'remote', when: 'The bucket of an S3 or GCS remote, or the container of an Azure remote, does not exist.' },
  REMOTE_NO_CREDENTIALS: { kind: 'remote', when: 'No credentials could be found for an S3, GCS, Azure or HTTP(S) remote.' },
  REMOTE_AUTH: { kind: 'remote', when: 'The remote refused the credentials.' },
  REMOTE_HOST_UNKNOWN: { kind: 'remote', when: 'The SSH server\'s host key is not in known_hosts: dvs never accepts one silently.' },
  REMOTE_HOST_KEY_CHANGED: { kind: 'remote', when: 'The SSH server\'s host key differs from the one known_hosts has for it (or is revoked there).' },
  REMOTE_CONFIG: { kind: 'remote', when: 'A remote lacks a setting it needs (an S3 region).' },
  REMOTE_UNREACHABLE: { kind: 'remote', when: 'The remote\'s endpoint cannot be reached (refused, DNS, no connection in 4 s).' },
  REMOTE_UNRESPONSIVE: { kind: 'remote', when: 'The remote stopped answering every request.' },
  REMOTE_NETWORK: { kind: 'remote', when: 'A request failed on the network (reset, timeout); it was retried.' },
  REMOTE_TIMEOUT: { kind: 'remote', when: 'A request made no progress for transfer.timeout seconds and was abandoned.' },
  REMOTE_THROTTLED: { kind: 'remote', when: 'The remote asked dvs to slow down (429, SlowDown); it was retried.' },
  REMOTE_SERVER_ERROR: { kind: 'remote', when: 'The remote answered with a server error (5xx); it was retried.' },
  REMOTE_REFUSED: { kind: 'remote', when: 'The remote refused a request for another reason.' },
  REMOTE_IO: { kind: 'remote', when: 'A directory remote failed to read or write.' },
  REMOTE_ERROR: { kind: 'remote', when: 'A remote failed in a way the others do not describe.' },
  REMOTE_DELETE_FAILED: { kind: 'remote', when: 'The remote refused to delete objects.' },
  REMOTE_ABORTED: { kind: 'remote', when: 'A request was cancelled because another one failed for good.' },
  REMOTE_OBJECT_MISSING: { kind: 'notfound', when: 'An object is not on the remote.' },
  REMOTE_OBJECT_CORRUPTED: { kind: 'input', when: 'The remote\'s copy of an object does not hash to its name.' },
  REMOTE_COPY_BAD: { kind: 'partial', when: 'The remote holds a bad copy of an object and this clone has no good one to send.' },
  REMOTE_SHORT_READ: { kind: 'remote', when: 'A download ended before all the object\'s bytes arrived.' },
  REMOTE_SIZE_MISMATCH: { kind: 'remote', when: 'The remote stored another number of bytes than was sent.' },
  SOURCE_CORRUPTED: { kind: 'input', when: 'A cache object to upload does not hash to its name (it is not sent).' },
  CACHE_READ_FAILED: { kind: 'environment', when: 'A cache object to upload cannot be read.' },
  FETCH_FAILED: { kind: 'partial', when: 'Objects a read-only command wanted could not be fetched.' },
  PUSH_INCOMPLETE: { kind: 'partial', when: 'The pre-push hook could not send everything the pushed commits need.' },

  // Lineage, runs and the audit trail
  NO_NAME: { kind: 'usage', when: '`dvs transform` without --name.' },
  NO_OUTPUTS: { kind: 'usage', when: '`dvs transform` without --output.' },
  NO_COMMAND: { kind: 'usage', when: '`dvs transform` without a command after --.' },
  NO_MODEL: { kind: 'usage', when: '`dvs run start` without --model.' },
  INVALID_TRANSFORM_NAME: { kind: 'usage', when: 'A transform name with characters dvs does not allow.' },
  DUPLICATE_INPUT: { kind: 'usage', when: 'An input is named twice.' },
  DUPLICATE_OUTPUT: { kind: 'usage', when: 'An output is named twice.' },
  OUTPUT_IS_INPUT: { kind: 'usage', when: 'A path is both an input and an output of a transform.' },
  OUTPUT_IS_POINTER: { kind: 'usage', when: 'An output names a pointer instead of data.' },
  OUTPUT_MISSING: { kind: 'notfound', when: 'A transform\'s command did not write an output.' },
  COMMAND_NOT_FOUND: { kind: 'notfound', when: 'The command of a transform does not exist.' },
  COMMAND_NOT_EXECUTABLE: { kind: 'environment', when: 'The command of a transform may not be run.' },
  TRANSFORM_FAILED: { kind: 'environment', when: 'The command of a transform failed (its exit status is in data.exitCode); nothing was recorded.' },
  INPUT_MODIFIED: { kind: 'conflict', when: 'A transform input differs from its pointer (track it first).' },
  INPUT_CHANGED_BY_COMMAND: { kind: 'conflict', when: 'A transform\'s command changed one of its inputs; nothing was recorded.' },
  DATASET_MISSING: { kind: 'notfound', when: 'A dataset of a run or transform is not in the workspace.' },
  DATASET_MODIFIED: { kind: 'conflict', when: 'A dataset of a run differs from its pointer.' },
  DATASET_OBJECT_MISSING: { kind: 'notfound', when: 'A run\'s dataset has objects missing from the cache.' },
  DATASET_OBJECT_CORRUPTED: { kind: 'input', when: 'A run\'s dataset has corrupted objects in the cache.' },
  DUPLICATE_DATASET: { kind: 'usage', when: 'A dataset is named twice.' },
  INVALID_RUN_ID: { kind: 'usage', when: 'A run id with characters dvs does not allow.' },
  INVALID_RUN_REF: { kind: 'usage', when: 'A run reference `<id>@` without a revision.' },
  RUN_ARGUMENTS: { kind: 'usage', when: '`dvs run <action>` with the wrong number of arguments.' },
  RUN_EXISTS: { kind: 'conflict', when: '`dvs run start` of an id that has a record.' },
  RUN_FINISHED: { kind: 'conflict', when: '`dvs run finish` of a run that is finished.' },
  RUN_NOT_FOUND: { kind: 'notfound', when: 'No record of that run in the workspace or at that revision.' },
  ...prefixed('RUN_RECORD', parsed('A run record', 'the record')),
  RUN_RECORD_TAMPERED: { kind: 'input', when: 'A run record was edited after its audit event was written.' },
  ...prefixed('AUDIT_EVENT', parsed('An audit event', 'the event file')),
  ...prefixed('LINEAGE', parsed('A lineage record', 'the pointer')),
  ROW_INDEX_INVALID: { kind: 'input', when: 'A row index object (the row provenance of a transform output) is not in the documented format.' },
  ROW_INDEX_UNSUPPORTED: { kind: 'environment', when: 'Row indexes are little-endian; this machine cannot read or write them.' },
  ROW_DATA_UNREADABLE: { kind: 'input', when: 'The rows of a tabular file could not be read to index or trace them (not valid gzip or Parquet, or not read alike by the record canonicalisation).' },
  ROW_ID_NOT_FOUND: { kind: 'input', when: 'The --row-id column is not in a tabular input or output of the transform.' },
  ROW_NOT_FOUND: { kind: 'notfound', when: '`dvs lineage trace`: the row number or key names no row of the dataset.' },
  ROW_INDEX_MISSING: { kind: 'notfound', when: '`dvs lineage trace`: the step that made the dataset recorded no row index, or its index is neither in the cache nor on the remote.' },
  TRACE_OPTIONS: { kind: 'usage', when: '`dvs lineage trace` needs a dataset or --source, and exactly one of --row and --key.' },
  LINEAGE_VERSION_NOT_FOUND: { kind: 'notfound', when: 'A version a lineage record names is in no pointer of the history.' },
  // Parameters from a file (transform --params, repro)
  ...prefixed('PARAMS', parsed('A params file', 'the file')),
  INVALID_PARAMS_SPEC: { kind: 'usage', when: '`--params` is not `<file>:<key>`.' },
  PARAMS_FILE_NOT_FOUND: { kind: 'notfound', when: 'A params file named by `--params` or by a lineage record does not exist.' },
  PARAMS_KEY_NOT_FOUND: { kind: 'notfound', when: 'The key named by `--params file:key` is not in the file.' },
  // Reproducing data from its lineage (repro)
  NO_LINEAGE: { kind: 'notfound', when: '`dvs repro` of a dataset with no recorded transform to re-run (raw data, or tracked with dvs track).' },
  STEP_NOT_RUNNABLE: { kind: 'conflict', when: 'A stale step was recorded with `dvs lineage record` (it ran elsewhere): dvs has no command to re-run and no stored result.' },
  STEP_FAILED: { kind: 'environment', when: 'The command of a step of `dvs repro` failed (its exit status is in data.exitCode); later steps were not run.' },
  OUTPUT_MODIFIED: { kind: 'conflict', when: 'An output `dvs repro` would rebuild differs from its pointer and is not saved (track it, or use --force).' },
  SOURCE_VERSION_DIFFERS: { kind: 'conflict', when: '`dvs repro --rev`: a raw input in the workspace is not the version the lineage at that revision used.' },
  REPRO_OBJECTS_MISSING: { kind: 'notfound', when: '`dvs repro --check` needs a recorded input version whose objects are neither in the cache nor on the remote.' },
  // Data registries (list, get, import, update)
  SOURCE_URL_INVALID: { kind: 'usage', when: 'A source repository URL dvs will not clone (empty, starting with "-", a `transport::` command URL, control characters).' },
  SOURCE_UNREACHABLE: { kind: 'remote', when: 'The source repository cannot be cloned (wrong URL or path, no access, network).' },
  SOURCE_NOT_TRACKED: { kind: 'notfound', when: 'The path given is not data tracked by dvs in the source repository at that revision.' },
  SOURCE_NO_REMOTE: { kind: 'notfound', when: 'The source repository names no default dvs remote in its committed config and has no cache to read from.' },
  SOURCE_REMOTE_UNUSABLE: { kind: 'input', when: "The source's remote is a relative directory path, which means nothing outside a clone of the source." },
  SOURCE_OBJECTS_MISSING: { kind: 'remote', when: "Objects the source's pointer names are on none of the places it shares data from (its remote, its cache)." },
  TARGET_EXISTS: { kind: 'conflict', when: '`dvs get` or `dvs import` would overwrite an existing path (use --force).' },
  NOT_IMPORTED: { kind: 'input', when: '`dvs update` of data that was not imported (its pointer has no `source:` record).' },
  IMPORT_MODIFIED: { kind: 'conflict', when: '`dvs update` would replace imported data that was changed here and is not saved (use --force).' },
});

/** The table's type, under the name the JSON Schemas' generator reads the codes from (scripts/schemas.mjs). */
declare const ERROR_CODES: ReturnType<typeof codeTable>;
export type ErrorCode = keyof typeof ERROR_CODES;

let codes: ReturnType<typeof codeTable> | undefined;

/** Every error code with its kind and when it happens. */
export function errorCodes(): ReturnType<typeof codeTable> {
  return (codes ??= codeTable());
}

export function kindOf(code: ErrorCode): ErrorKind {
  return errorCodes()[code].kind;
}

/**
 * Warnings: a command went on and succeeded, and says what the user should know (on stderr, and under
 * `warnings` in --json). They do not change the exit code.
 */
export const WARNING_CODES = {
  // Scanning tracked directories (track, status, checkout)
  BROKEN_LINK: 'A symbolic link inside a tracked directory points to nothing; it is skipped.',
  LINKED_DIRECTORY: 'A symbolic link to a folder inside a tracked directory; it is skipped (dvs follows links to files only).',
  SPECIAL_FILE: 'A socket, FIFO or device inside a tracked directory; it is skipped.',
  RESERVED_NAME: 'A folder or file named like .git or .dvs inside a tracked directory is never data; it is skipped.',
  // Data whose pointer is gone (checkout, pull over the whole repository)
  POINTER_GONE_MODIFIED: 'Data whose pointer is gone was changed, replaced or added to since dvs placed it; that part is left in the workspace.',
  POINTER_GONE_UNSAVED: 'Data whose pointer is gone is not in the cache, so it exists nowhere else; it is left in the workspace.',
  // The repository
  DVS_FILE_FROM_GIT: 'A part of .dvs/ that belongs to this machine (config.local, tmp/, cache/) is committed to Git; it is ignored.',
  // Diffs
  LOCKS_UNCHECKED: 'An append-only directory was tracked or pushed without checking partition locks, because the remote could not be asked.',
  NOT_IN_WORKSPACE: '`dvs diff` against the workspace: data missing from it is shown as deleted.',
  OBJECTS_MISSING: 'Objects a read-only command needs are not in the cache, and no remote is set to fetch them from.',
  NOT_TABULAR: '`dvs hash --records`: files that are not tabular data were left out of the record hash.',
  RECORD_HASH_FAILED: 'The record hash of changed tabular data could not be computed; the diff goes on without it.',
  // Remotes
  SOURCE_STORE_UNUSABLE: "`dvs get`/`import`: the source's cache could not be read; its remote was used instead.",
  REMOTE_NOT_REPAIRED: 'verify --remote found bad copies on a read-only remote (HTTP(S)) and could not delete them.',
  REMOTE_PACK_INDEX_BAD: 'A pack index on the remote does not hash to its name or does not parse (docs/remote-format.md); its objects are taken as not there, and gc --remote removes it.',
  REMOTE_NOT_TOLD: 'A pull found objects missing from the remote but could not withdraw the manifests that vouch for them (read-only credentials).',
  // Lineage and runs
  LINEAGE_OUTDATED: 'A dataset was changed after the transform that made it; its recorded lineage describes an older version.',
  LINEAGE_INPUT_UNREADABLE: 'The pointer of a recorded input cannot be read; the lineage walk stops there.',
  ROW_INDEX_SKIPPED: 'A tabular output got no row index (its --row-id column is missing, or the data could not be read); its lineage is recorded without one.',
  ROW_VALUES_UNREAD: '`dvs lineage trace`: the traced row\'s values could not be read (its data is not in the cache), so parameters are shown without them.',
  STALE_LINEAGE: 'An input of a transform changed after the transform ran; its record names an older version.',
  RUN_RECORD_SKIPPED: '`dvs gc --force` could not read a run record; the data it names was not kept for it.',
  RUN_RECORD_UNRECORDED: 'A run record has no matching audit event (written by hand, or the trail is incomplete).',
} as const satisfies Record<string, string>;

export type WarningCode = keyof typeof WARNING_CODES | ErrorCode;
