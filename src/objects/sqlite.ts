import { createRequire } from 'node:module';
import { DvsError } from '../errors.js';

/**
 * One small SQLite interface over two engines, chosen when the state cache first opens: Node's built-in
 * `node:sqlite` (Node 22.5+, no native build) where it loads, else the `better-sqlite3` addon (an
 * optional dependency, needed only on Node 20). Both write the same SQLite file, so a user who switches
 * Node versions keeps the cache. Rows are always arrays in column order (the cheapest shape in both).
 */
export type SqliteBackend = 'node:sqlite' | 'better-sqlite3';
export type SqlValue = number | string | Uint8Array | null;
export type SqlRow = SqlValue[];

export interface SqlStatement {
  get(...params: SqlValue[]): SqlRow | undefined;
  all(...params: SqlValue[]): SqlRow[];
  run(...params: SqlValue[]): void;
}

export interface SqlDatabase {
  readonly backend: SqliteBackend;
  exec(sql: string): void;
  prepare(sql: string): SqlStatement;
  close(): void;
}

const require = createRequire(import.meta.url);

/** Which engine `openSqlite` uses: the built-in one unless DVS_SQLITE names `better-sqlite3` (benchmarks). */
export function sqliteBackend(): SqliteBackend {
  if (process.env.DVS_SQLITE !== 'better-sqlite3' && nodeSqlite() !== undefined) return 'node:sqlite';
  return 'better-sqlite3';
}

export function openSqlite(path: string): SqlDatabase {
  return sqliteBackend() === 'node:sqlite' ? openNodeSqlite(path) : openBetterSqlite(path);
}

// --- node:sqlite

interface NodeStatement {
  get(...p: SqlValue[]): Record<string, SqlValue> | SqlRow | undefined;
  all(...p: SqlValue[]): Array<Record<string, SqlValue> | SqlRow>;
  run(...p: SqlValue[]): unknown;
  setReturnArrays?(on: boolean): void;
}
interface NodeSqliteModule {
  DatabaseSync: new (path: string) => { exec(sql: string): void; prepare(sql: string): NodeStatement; close(): void };
}

let nodeSqliteModule: NodeSqliteModule | null | undefined;

/**
 * node:sqlite, or undefined where Node lacks it (20) or keeps it behind a flag (22.5 to 22.12). Some
 * versions print an ExperimentalWarning when it loads: that one warning is dropped (stderr is dvs's own).
 */
function nodeSqlite(): NodeSqliteModule | undefined {
  if (nodeSqliteModule !== undefined) return nodeSqliteModule ?? undefined;
  const emitWarning = process.emitWarning;
  process.emitWarning = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type ?? (warning as Error).name;
    const message = typeof warning === 'string' ? warning : warning.message;
    if (type === 'ExperimentalWarning' && message.startsWith('SQLite')) return;
    return (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
  } as typeof process.emitWarning;
  try {
    nodeSqliteModule = require('node:sqlite') as NodeSqliteModule;
  } catch {
    nodeSqliteModule = null;
  } finally {
    process.emitWarning = emitWarning;
  }
  return nodeSqliteModule ?? undefined;
}

function openNodeSqlite(path: string): SqlDatabase {
  const db = new (nodeSqlite() as NodeSqliteModule).DatabaseSync(path);
  return {
    backend: 'node:sqlite',
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const stmt = db.prepare(sql);
      // setReturnArrays: Node 22.16+ and 24; before that, objects keep their columns in order.
      const arrays = typeof stmt.setReturnArrays === 'function';
      if (arrays) stmt.setReturnArrays!(true);
      const row = (r: Record<string, SqlValue> | SqlRow | undefined) => (r === undefined || arrays ? (r as SqlRow | undefined) : Object.values(r));
      return {
        get: (...p) => row(stmt.get(...p)),
        all: (...p) => (arrays ? (stmt.all(...p) as SqlRow[]) : stmt.all(...p).map((r) => Object.values(r))),
        run: (...p) => void stmt.run(...p),
      };
    },
    close: () => db.close(),
  };
}

// --- better-sqlite3

interface BetterStatement {
  raw(on: boolean): BetterStatement;
  get(...p: SqlValue[]): SqlRow | undefined;
  all(...p: SqlValue[]): SqlRow[];
  run(...p: SqlValue[]): unknown;
  reader: boolean;
}
type BetterDatabase = new (path: string, options: { nativeBinding?: object }) => { exec(sql: string): void; prepare(sql: string): BetterStatement; close(): void };

let betterSqlite: { Database: BetterDatabase; addon: object | undefined } | undefined;

/**
 * Load better-sqlite3 and its native addon, naming the addon directly: the package's default lookup (the
 * `bindings` package) probes a dozen paths, a cost every hook would pay. An addon that is missing or
 * built for another Node is an environment problem, told apart from an unreadable cache file (which is
 * thrown away and rebuilt).
 */
function loadBetterSqlite(): { Database: BetterDatabase; addon: object | undefined } {
  if (betterSqlite) return betterSqlite;
  try {
    const Database = require('better-sqlite3') as BetterDatabase;
    let addonPath: string | undefined;
    try {
      addonPath = require.resolve('better-sqlite3/build/Release/better_sqlite3.node');
    } catch {
      addonPath = undefined; // let the package find it
    }
    betterSqlite = { Database, addon: addonPath === undefined ? undefined : (require(addonPath) as object) };
    return betterSqlite;
  } catch (err) {
    const why = (err as Error).message.replace(/\s+/g, ' ').slice(0, 300);
    const builtin = process.env.DVS_SQLITE === 'better-sqlite3' ? 'DVS_SQLITE=better-sqlite3 is set' : `Node ${process.version} has no usable node:sqlite`;
    throw new DvsError('NO_SQLITE', `no SQLite engine for the state cache: ${builtin} and better-sqlite3 did not load (${why})`, {
      hint: 'Use Node 22.13 or later (built-in SQLite), or install better-sqlite3 for this Node: npm install better-sqlite3 (npm rebuild better-sqlite3 after changing Node)',
    });
  }
}

function openBetterSqlite(path: string): SqlDatabase {
  const { Database, addon } = loadBetterSqlite();
  const db = new Database(path, addon ? { nativeBinding: addon } : {});
  return {
    backend: 'better-sqlite3',
    exec: (sql) => db.exec(sql),
    prepare(sql) {
      const stmt = db.prepare(sql);
      // raw() is refused on statements that return no rows.
      if (stmt.reader) stmt.raw(true);
      return { get: (...p) => stmt.get(...p), all: (...p) => stmt.all(...p), run: (...p) => void stmt.run(...p) };
    },
    close: () => db.close(),
  };
}
