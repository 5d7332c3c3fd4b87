import type { ProgressListener, Warning } from '../events.js';
import type { Manifest } from '../objects/manifest.js';
import type { Oid } from '../objects/oid.js';
import type { StatCache } from '../objects/stat-cache.js';
import type { ScannedFile } from './scan.js';

/**
 * What the workspace holds at a tracked path right now, compared with its pointer. Shared by status,
 * checkout and the hooks: one definition of "modified".
 */
export type WorkspaceStatus = 'unchanged' | 'modified' | 'missing';

export interface FileChanges {
  added: string[];
  removed: string[];
  modified: string[];
  /** Those of `modified` whose bytes match: only the executable bit differs. */
  modeOnly: string[];
}

export interface WorkspaceComparison {
  workspace: WorkspaceStatus;
  /** The oid of what is in the workspace (file content or directory manifest), when it exists. */
  currentOid?: Oid;
  /** Files: the bytes match the pointer and only the executable bit differs (the data is `modified`). */
  modeOnly?: boolean;
  /**
   * For directories: the workspace's files and their oids (in manifest order). Absent when the
   * directory's snapshot showed it unchanged without reading anything (then `recorded` is absent too).
   */
  current?: { files: ScannedFile[]; oids: Array<Oid | undefined>; manifest: Manifest };
  /** For directories: the pointer's manifest, when it is in the cache. */
  recorded?: Manifest;
  changes?: FileChanges;
  /**
   * Streamed comparisons (compare-stream.ts), which build no `current`: what the workspace holds at each
   * path of `changes.added` and `changes.modified`, and at a path of `changes.removed` where a file stands
   * that could not be read (no oid: its content is unknown, so it is no file to overwrite).
   */
  changedFiles?: Map<string, { oid?: Oid; exec: boolean }>;
  /** Streamed comparisons: how many entries the manifest has. */
  entries?: number;
  warnings: Warning[];
  /** For directories: dvs temp files found inside (see DirectoryScan.temps). */
  temps?: string[];
}

export interface CompareOptions {
  state: StatCache;
  onProgress?: ProgressListener;
  /**
   * Also compute `currentOid` of a modified directory (serialising and hashing its whole manifest).
   * Status does not need it; diff does.
   */
  needOid?: boolean;
  /**
   * The caller reads only `workspace`, `currentOid` and `changes`: a directory with a big manifest is
   * then compared as a stream (compare-stream.ts), without `current` and `recorded`.
   */
  changesOnly?: boolean;
  /** Manifests above this many bytes are streamed when `changesOnly` (tests set 0; default in compare.ts). */
  streamAbove?: number;
}
