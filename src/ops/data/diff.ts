import { existsSync, statSync } from 'node:fs';
import { DvsError, isDvsError } from '../../errors.js';
import type { Warning } from '../../events.js';
import { countChanges, diffVersions, emptyCounts, narrowFiles, pairRenames, type ChangeCounts, type DataDiff, type DataVersion, type VersionLineage } from '../../diff/data-diff.js';
import { lineageOf } from '../../lineage/record.js';
import { compareBytes, differingLines, type Manifest, loadManifest, type ValidManifests } from '../../objects/manifest.js';
import type { Oid } from '../../objects/oid.js';
import { dataPathOf, parsePointer, pointerPathOf, type Pointer } from '../../pointer/format.js';
import { checkPointerName, findPointers, readPointer } from '../../pointer/io.js';
import type { Repo } from '../../repo/repo.js';
import { RevisionReader } from '../../scm/revision-reader.js';
import { workspacePointers } from '../../workspace/targets.js';
import type { OpContext } from '../context.js';
import { fetchMissing } from './fetch-missing.js';
import { compareWorkspace } from '../../workspace/compare.js';

/** scm/git.ts, loaded when a Git process is needed: a diff of two commits usually needs none. */
const git = () => import('../../scm/git.js');

export interface DiffOptions {
  /** Older side; default HEAD. */
  revA?: string;
  /** Newer side; default the workspace. */
  revB?: string;
  /** Limit to these paths (tracked data, or paths inside tracked directories). */
  targets?: string[];
  /** Also compare the contents of tabular files (schema, statistics, rows). */
  content?: boolean;
  /** Content diff: sample size of added/removed rows. */
  rows?: number;
  /** Content diff: match rows by this column and show changed cells. */
  key?: string;
  /** Content diff: compare CSV/TSV numbers by value in the row diff (`1` = `1.0`). */
  normalizeNumbers?: boolean;
  /** Fetch manifests and objects missing from the cache from the default remote (default true). */
  fetch?: boolean;
}

export interface DiffSide {
  /** What the user named ("HEAD~1", "main", "workspace"). */
  rev: string;
  /** The commit it resolved to; absent for the workspace. */
  commit?: string;
}

export interface DiffResult {
  a: DiffSide;
  b: DiffSide;
  /** Every data path that changed, sorted by path. Unchanged data is left out. */
  changes: DataDiff[];
  summary: {
    /** Data paths (pointers) by change. */
    data: ChangeCounts;
    /** Files inside tracked directories, and tracked files, by change. */
    files: ChangeCounts;
    sizeDelta: number;
    /** Directories whose file list could not be read (manifest missing). */
    incomplete: number;
  };
  warnings: Warning[];
}

interface SideVersion extends DataVersion {
  pointerPath: string;
  /** Git blob of the pointer, to skip identical pointers without parsing them. */
  blob?: string;
}

/**
 * Compare tracked data between two revisions, or a revision and the workspace. Pointers are read from
 * Git's objects (no checkout); directory manifests from the cache, fetched from the default remote when
 * missing. Pointers whose blobs are identical on both sides are skipped unread, which is what keeps a
 * diff between revisions that touch one pointer out of thousands fast.
 */
export async function diff(ctx: OpContext, options: DiffOptions = {}): Promise<DiffResult> {
  const { repo } = ctx;
  const warnings: Warning[] = [];
  const revA = options.revA ?? 'HEAD';
  // Revisions and pointer blobs are read from Git's files (or one `git cat-file --batch` where dvs cannot).
  const reader = new RevisionReader(repo.root);
  try {
    const commitOf = async (rev: string) => (await reader.commitOf(rev)) ?? (await (await git()).resolveRevision(repo.root, rev, { treeish: true }));
    const a: DiffSide = { rev: revA, commit: await commitOf(revA) };
    const b: DiffSide = options.revB !== undefined ? { rev: options.revB, commit: await commitOf(options.revB) } : { rev: 'workspace' };
    const narrowing = (options.targets ?? []).map((t) => repo.resolve(ctx.cwd, t.replace(/\/+$/, '')).rel);
    await checkTargetsExist(ctx, narrowing, options.targets ?? [], [a.commit!, ...(b.commit ? [b.commit] : [])]);
    const inScope = (dataPath: string) =>
      narrowing.length === 0 || narrowing.some((t) => t === dataPath || dataPath.startsWith(t + '/') || t.startsWith(dataPath + '/'));

    const pending: Array<{ path: string; x?: SideVersion; y?: SideVersion }> = [];
    if (b.commit) {
      // Two commits: Git lists the pointers that differ, with their blobs; nothing else is read.
      for (const c of await reader.changedPointers(a.commit!, b.commit)) {
        const path = dataPathOf(c.path);
        if (!inScope(path) || refusedByName(c.path, warnings)) continue;
        const side = (blob?: string): SideVersion | undefined => (blob ? { pointerPath: c.path, blob, kind: 'file', oid: '', size: 0 } : undefined);
        pending.push({ path, x: side(c.oldBlob), y: side(c.newBlob) });
      }
    } else {
      const before = await revisionSide(repo, a.commit!, inScope, warnings);
      const after = await workspaceSide(ctx, inScope, warnings);
      for (const path of [...new Set([...before.keys(), ...after.keys()])].sort(compareBytes)) {
        const x = before.get(path);
        const y = after.get(path);
        if (x && y && !y.blob && x.blob && y.oid !== '' && (await sameAsWorkspace(reader, x, y))) continue;
        pending.push({ path, x, y });
      }
    }
    // Parse the pointers that differ, then load the directory manifests they need.
    for (const p of pending) {
      if (p.x) await parseSide(reader, p.x, `${p.x.pointerPath} at ${a.rev}`);
      if (p.y?.blob !== undefined) await parseSide(reader, p.y, `${p.y.pointerPath} at ${b.rev}`);
    }
    // A content diff of a big version scans it in a worker thread: started now, its start overlaps the
    // reading of the manifests and the loading of the content engine instead of delaying the scan. Only
    // for a version big enough to get one: an unused thread's start costs a small diff some 80 ms CPU.
    if (options.content) {
      const biggest = Math.max(0, ...pending.map((p) => p.y?.size ?? 0));
      (await import('../../diff/content/index.js')).prestartScanWorker(biggest);
    }
    // Two versions of a big directory: only the part of their manifests that differs is read (a
    // content diff needs every file of both: it reads them whole).
    if (!options.content) {
      const { manifestDelta } = await import('./manifest-delta.js');
      const { chunkListDir } = await import('../../transfer/chunk-list.js');
      const listDir = chunkListDir(repo.paths.tmp);
      for (const { x, y } of pending) {
        if (x?.kind !== 'dir' || y?.kind !== 'dir' || x.oid === y.oid || x.manifest || y.manifest) continue;
        const sides = [{ oid: x.oid, where: `manifest of ${x.pointerPath} (${x.oid.slice(0, 10)})` }, { oid: y.oid, where: `manifest of ${y.pointerPath} (${y.oid.slice(0, 10)})` }] as const;
        // Below the chunk lists' threshold (or without them): both read, only their differing lines decoded.
        const part = manifestDelta(repo.cache, listDir, ...sides) ?? differingIfValid(repo, ...sides, await repo.statCache());
        if (!part) continue;
        x.manifest = part.before;
        y.manifest = part.after;
      }
    }
    const wanted = pending.flatMap((p) => [p.x, p.y]).filter((v): v is SideVersion => !!v && v.kind === 'dir' && !v.manifest);
    await loadManifests(ctx, wanted, options.fetch !== false, warnings);

    let changes = pending.map((p) => diffVersions(p.path, p.x, p.y)).filter((d) => d.change !== 'unchanged');
    changes = pairRenames(changes);
    if (narrowing.length) {
      // A target inside a tracked directory keeps the directory, with only the files under the target(s).
      changes = changes.map((d) => {
        if (narrowing.some((t) => t === d.path || d.path.startsWith(t + '/'))) return d;
        const subs = narrowing.filter((t) => t.startsWith(d.path + '/')).map((t) => t.slice(d.path.length + 1));
        return subs.length ? narrowFiles(d, subs) : d;
      }).filter((d) => d.change !== 'unchanged');
    }
    if (options.content) {
      const { attachContentDiffs } = await import('./diff-content.js');
      // Directories: every file of both versions (a table's totals count its unchanged partitions too).
      const byPath = new Map(pending.map((p) => [p.path, p]));
      const manifests = new Map(changes.map((d) => [d.path, { before: byPath.get(d.oldPath ?? d.path)?.x?.manifest, after: byPath.get(d.path)?.y?.manifest }]));
      await attachContentDiffs(ctx, changes, { ...options, workspace: b.commit === undefined }, warnings, manifests);
    }
    return { a, b, changes, summary: summarize(changes), warnings };
  } finally {
    reader.close();
  }
}

/** differingLines of two manifests in the cache; undefined when either cannot be read so (loadManifests then says why). */
function differingIfValid(repo: Repo, before: { oid: Oid; where: string }, after: { oid: Oid; where: string }, valid: ValidManifests): { before: Manifest; after: Manifest } | undefined {
  if (!repo.cache.has(before.oid) || !repo.cache.has(after.oid)) return undefined;
  try {
    return differingLines(repo.cache, before, after, valid);
  } catch (err) {
    if (isDvsError(err)) return undefined;
    throw err;
  }
}

/** Whether the workspace version equals the committed pointer's (then the data is unchanged). */
async function sameAsWorkspace(reader: RevisionReader, x: SideVersion, y: SideVersion): Promise<boolean> {
  await parseSide(reader, x, x.pointerPath);
  return x.oid === y.oid && x.kind === y.kind && (x.exec ?? false) === (y.exec ?? false);
}

/** A pointer from Git whose data path is unsafe (repo/paths.ts): reported once and left out. */
function refusedByName(pointerPath: string, warnings: Warning[]): boolean {
  try {
    checkPointerName(pointerPath);
    return false;
  } catch (err) {
    if (!isDvsError(err)) throw err;
    if (!warnings.some((w) => w.path === pointerPath && w.code === err.code)) warnings.push({ code: err.code, message: err.message, path: pointerPath });
    return true;
  }
}

async function revisionSide(repo: Repo, commit: string, inScope: (p: string) => boolean, warnings: Warning[]): Promise<Map<string, SideVersion>> {
  const side = new Map<string, SideVersion>();
  for (const entry of await (await git()).pointersAtCommit(repo.root, commit)) {
    const dataPath = dataPathOf(entry.path);
    if (!inScope(dataPath) || refusedByName(entry.path, warnings)) continue;
    // Filled in by parseSide only if this pointer differs from the other side's.
    side.set(dataPath, { pointerPath: entry.path, blob: entry.blob, kind: 'file', oid: '', size: 0 });
  }
  return side;
}

async function parseSide(reader: RevisionReader, v: SideVersion, where: string): Promise<void> {
  if (v.oid !== '') return;
  const blob = await reader.read(v.blob!);
  if (!blob) throw new Error(`git object ${v.blob} for ${where} is missing`);
  const p = parsePointer(blob.toString('utf8'), where);
  Object.assign(v, versionOf(p));
}

function versionOf(p: Pointer): DataVersion {
  const lineage = lineageSummary(p);
  return { kind: p.kind, oid: p.oid, size: p.size, files: p.files, exec: p.exec, ...(p.source ? { source: p.source } : {}), ...(lineage ? { lineage } : {}) };
}

/** The pointer's lineage record in short, for reports; an unreadable record is left out here (lineage show reports it). */
function lineageSummary(p: Pointer): VersionLineage | undefined {
  const { record } = lineageOf(p);
  if (!record) return undefined;
  const rows = record.outputs.some((o) => o.rows !== null) ? record.outputs.reduce((n, o) => n + (o.rows ?? 0), 0) : null;
  return { transform: record.transform, params: record.params, inputs: record.inputs.map((i) => ({ path: i.path, oid: i.oid, rows: i.rows })), rows, started: record.started, commit: record.commit };
}

/**
 * The workspace as it is: each pointer's data hashed (through the stat cache) so that uncommitted
 * changes to data show up. Data missing from the workspace (not pulled) is compared by its pointer.
 */
async function workspaceSide(ctx: OpContext, inScope: (p: string) => boolean, warnings: Warning[]): Promise<Map<string, SideVersion>> {
  const { repo } = ctx;
  const side = new Map<string, SideVersion>();
  const scan = findPointers(repo.root, repo.ignore, repo.guard);
  for (const r of scan.refused) if (inScope(r.dataPath)) warnings.push({ code: r.error.code, message: r.error.message, path: r.pointerPath });
  const refs = scan.pointers.filter((r) => inScope(r.dataPath));
  if (refs.length === 0) return side;
  const state = await repo.statCache();
  const missing: string[] = [];
  for (const ref of refs) {
    const pointer = readPointer(repo.root, ref.pointerPath);
    const ds = await compareWorkspace(repo, ref.dataPath, pointer, { state, onProgress: ctx.onProgress, needOid: true });
    warnings.push(...ds.warnings);
    if (ds.workspace === 'missing') {
      // Gone from the workspace while its pointer stays: deleted, as DVC reports it.
      missing.push(ref.dataPath);
      continue;
    }
    if (ds.currentOid === undefined) {
      side.set(ref.dataPath, { pointerPath: ref.pointerPath, ...versionOf(pointer) });
      continue;
    }
    // A file whose bytes match but whose executable bit does not is modified, as status says.
    const v: SideVersion = { pointerPath: ref.pointerPath, kind: pointer.kind, oid: ds.currentOid, size: 0, exec: ds.modeOnly ? !pointer.exec : pointer.exec, ...(pointer.source ? { source: pointer.source } : {}) };
    // The pointer's lineage describes the workspace data only while that data is the pointer's.
    const lineage = ds.workspace === 'unchanged' ? lineageSummary(pointer) : undefined;
    if (lineage) v.lineage = lineage;
    if (pointer.kind === 'dir' && ds.current) {
      v.manifest = ds.current.manifest;
      v.size = ds.current.manifest.entries.reduce((n, e) => n + e.size, 0);
      v.files = ds.current.manifest.entries.length;
    } else {
      v.size = ds.workspace === 'unchanged' ? pointer.size : sizeOfWorkspaceFile(repo, ref.dataPath);
    }
    side.set(ref.dataPath, v);
  }
  state.flush();
  if (missing.length) {
    warnings.push({ code: 'NOT_IN_WORKSPACE', message: `${missing.length === 1 ? missing[0] : `${missing.length} data paths`}: not in the workspace, shown as deleted`, hint: 'dvs checkout (or dvs pull) brings data back from the cache (or the remote).' });
  }
  return side;
}

/**
 * Each --targets path must name tracked data (or a path inside tracked data, or a folder holding some)
 * at one of the revisions or in the workspace: a target that matches nothing is an error, as in DVC.
 */
async function checkTargetsExist(ctx: OpContext, rels: string[], args: string[], trees: string[]): Promise<void> {
  const { repo } = ctx;
  for (let i = 0; i < rels.length; i++) {
    const t = rels[i];
    const parts = t.split('/');
    const owners = parts.map((_, n) => pointerPathOf(parts.slice(0, n + 1).join('/')));
    if (owners.some((p) => existsSync(repo.abs(p))) || workspacePointers(repo, t).pointers.length) continue;
    let found = false;
    for (const tree of trees) {
      const out = await (await git()).runGit(repo.root, ['ls-tree', '-r', '--name-only', '-z', tree, '--', ...owners.map((p) => `:(literal)${p}`), `:(literal)${t}/`]).catch(() => '');
      if (out.split('\0').some((p) => p.endsWith('.dvs'))) {
        found = true;
        break;
      }
    }
    if (!found) {
      throw new DvsError('UNKNOWN_TARGET', `${args[i]}: not tracked data, nor inside tracked data, at any side of the diff`, {
        hint: 'Name a tracked path (dvs status lists them) or a file inside a tracked directory.',
        data: { path: t },
      });
    }
  }
}

function sizeOfWorkspaceFile(repo: Repo, dataPath: string): number {
  return statSync(repo.abs(dataPath)).size;
}

/** Load directory manifests from the cache, fetching the missing ones from the default remote first. */
async function loadManifests(ctx: OpContext, versions: SideVersion[], fetch: boolean, warnings: Warning[]): Promise<void> {
  const { repo } = ctx;
  const missing = [...new Set(versions.filter((v) => !repo.cache.has(v.oid)).map((v) => v.oid))];
  if (missing.length && fetch) await fetchMissing(ctx, missing, 'the diff', warnings);
  const loaded = new Map<Oid, Manifest | undefined>();
  // The stat cache remembers which manifests were found valid: not checked again line by line.
  const valid = versions.length ? await repo.statCache() : undefined;
  for (const v of versions) {
    if (!loaded.has(v.oid)) {
      try {
        loaded.set(v.oid, repo.cache.has(v.oid) ? loadManifest(repo.cache, v.oid, v.pointerPath, valid) : undefined);
      } catch (err) {
        if (!isDvsError(err)) throw err;
        warnings.push({ code: err.code, message: err.message, hint: err.hint });
        loaded.set(v.oid, undefined);
      }
    }
    v.manifest = loaded.get(v.oid);
  }
}

function summarize(changes: DataDiff[]): DiffResult['summary'] {
  const data = emptyCounts();
  const files = emptyCounts();
  let sizeDelta = 0;
  let incomplete = 0;
  for (const d of changes) {
    if (d.change !== 'unchanged') data[d.change]++;
    sizeDelta += d.sizeDelta;
    if (d.incomplete) incomplete++;
    if (d.files) {
      const c = d.fileCounts ?? countChanges(d.files);
      files.added += c.added;
      files.deleted += c.deleted;
      files.modified += c.modified;
      files.renamed += c.renamed;
    } else if (d.kind === 'file' && d.change !== 'unchanged') {
      files[d.change]++;
    }
  }
  return { data, files, sizeDelta, incomplete };
}
