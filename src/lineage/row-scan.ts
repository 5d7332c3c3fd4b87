import { DvsError } from '../errors.js';
import type { Cell } from '../diff/content/types.js';
import { fingerprintOfText, rowIdNotFound, scanTextRows, type FingerprintMode, type RowFormat, type RowScan } from './row-index.js';

/**
 * Reading the rows of any indexed format for a row index: CSV/TSV/JSONL plain or gzip-compressed (by
 * their bytes, row-index.ts), and Parquet (through the content-diff engine's reader, loaded lazily). In
 * the `records` fingerprint mode every format is read by the record hash's canonicalisation, so a row
 * fingerprints the same whatever file format holds it.
 */

/** How a file's rows are read: its format, and for text whether it is gzip-compressed. */
export type RowFile = { format: RowFormat; gzip: boolean } | { format: 'parquet'; gzip: false };

export function isTextFile(file: RowFile): file is { format: RowFormat; gzip: boolean } {
  return file.format !== 'parquet';
}

function unreadable(label: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  // System errors stay as they are; the content engine's parse errors (ContentParseError: not Parquet, a
  // broken record) and zlib's (a bad gzip stream) say the data cannot be read.
  if (err instanceof DvsError || !(err instanceof Error) || (code !== undefined && !code.startsWith('Z_'))) return err;
  return new DvsError('ROW_DATA_UNREADABLE', `${label}: ${err.message}`);
}

/** A cell as the text a row id compares: what a CSV holds, a JSON string's text, a number's shortest form. */
function cellText(v: Cell | string | undefined): string {
  return v === null || v === undefined ? '' : typeof v === 'string' ? v : String(v);
}

/**
 * Each row of a Parquet file, cells in the order of `names` (its flattened columns), 1-based row
 * numbers; the visitor returns false to stop.
 */
export async function forEachParquetRow(abs: string, label: string, visit: (names: readonly string[], values: readonly (Cell | string)[], rowNumber: number) => boolean | void): Promise<void> {
  try {
    const { fileSource } = await import('../diff/content/file-source.js');
    const { openParquet, readParquetRows } = await import('../diff/content/parquet.js');
    const { Columns } = await import('../diff/content/reader.js');
    const source = await fileSource(abs, label);
    const pf = await openParquet(source);
    const columns = new Columns();
    for (const c of pf.columns) columns.indexOf(c.name);
    const sink = {
      values: (values: readonly (Cell | string)[], rowNumber: number) => visit(columns.names, values, rowNumber) !== false,
      spans: () => true,
    };
    await readParquetRows({ source, columns, sink, notes: [] }, pf);
  } catch (err) {
    throw unreadable(label, err);
  }
}

/** Grows two typed arrays of fingerprints, one row at a time. */
class Fingerprints {
  fps = new Uint32Array(1 << 12);
  rows = 0;

  push(lo: number, hi: number): void {
    if (this.rows * 2 + 2 > this.fps.length) {
      const f = new Uint32Array(this.fps.length * 2);
      f.set(this.fps);
      this.fps = f;
    }
    this.fps[this.rows * 2] = lo;
    this.fps[this.rows * 2 + 1] = hi;
    this.rows++;
  }
}

/** The first 64 bits of each record digest of a file, in file order (the record hash's reading of it). */
async function recordFingerprints(abs: string, label: string): Promise<Fingerprints> {
  const out = new Fingerprints();
  try {
    const { fileSource } = await import('../diff/content/file-source.js');
    const { RecordAccumulator, addRecords } = await import('../diff/content/record-hash.js');
    // The accumulator serialises and hashes each record; only its digest is kept here, not summed.
    class RowDigests extends RecordAccumulator {
      override add(d: Buffer): void {
        out.push(d.readUInt32LE(0), d.readUInt32LE(4));
      }
    }
    await addRecords(new RowDigests(false), await fileSource(abs, label));
  } catch (err) {
    throw unreadable(label, err);
  }
  return out;
}

/** The rows of a Parquet file: row n is at "line" n (there are no lines). */
async function scanParquet(abs: string, mode: FingerprintMode, label: string): Promise<RowScan> {
  let out: Fingerprints;
  if (mode.rowId !== undefined) {
    const rowId = mode.rowId;
    out = new Fingerprints();
    let column = -1;
    await forEachParquetRow(abs, label, (names, values) => {
      if (column < 0) {
        column = names.indexOf(rowId);
        if (column < 0) throw rowIdNotFound(rowId, label);
      }
      out.push(...fingerprintOfText(cellText(values[column])));
    });
  } else out = await recordFingerprints(abs, label);
  return { rows: out.rows, fps: out.fps.slice(0, out.rows * 2), lineBase: 1 };
}

/**
 * Fingerprint every data row of a file of any indexed format. In `records` mode a text file's lines come
 * from its bytes and its fingerprints from the record hash's reading; the two must agree on the rows
 * (they do unless a JSONL line is not an object, or a CSV row is ragged), else the file is unreadable.
 */
export async function scanFileRows(abs: string, file: RowFile, mode: FingerprintMode, label = abs): Promise<RowScan> {
  if (!isTextFile(file)) return scanParquet(abs, mode, label);
  const scan = await scanTextRows(abs, file, mode.records ? {} : mode, label);
  if (!mode.records || mode.rowId !== undefined) return scan;
  const records = await recordFingerprints(abs, label);
  if (records.rows !== scan.rows) {
    throw new DvsError('ROW_DATA_UNREADABLE', `${label}: ${scan.rows} lines of data but ${records.rows} records as the record hash reads them`, { hint: 'Make every line a record (a JSON object; a CSV row with a header), or name rows by a column: --row-id.' });
  }
  return { ...scan, fps: records.fps.slice(0, records.rows * 2) };
}
