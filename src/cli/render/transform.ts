import type { LineageIO } from '../../lineage/record.js';
import { formatParams } from '../../lineage/params.js';
import { removedPercent } from '../../lineage/walk.js';
import type { TransformResult } from '../../ops/history/transform.js';
import { formatBytes, formatCount, groupDigits, warningNote } from '../format.js';
import type { Renderer } from './types.js';

export function formatRows(rows: number | null): string {
  return rows === null ? 'rows unknown' : `${groupDigits(rows)} ${rows === 1 ? 'row' : 'rows'}`;
}

export function formatPercent(p: number): string {
  return `${p.toFixed(2)}%`;
}

function io(kind: 'in ' | 'out', x: LineageIO): string {
  return `  ${kind}  ${x.path}  ${x.oid.slice(0, 10)}  ${x.kind === 'dir' ? `${formatCount(x.files ?? 0, 'file')}, ` : ''}${formatBytes(x.size)}, ${formatRows(x.rows)}`;
}

/** `dvs transform` and `dvs lineage record`. */
export const renderTransform: Renderer<TransformResult> = (r) => {
  const params = formatParams(r.params);
  const what = `${r.transform}${params ? ` (${params})` : ''}`;
  const took = r.duration !== null ? ` in ${groupDigits(r.duration)} s` : '';
  const lines = [r.ran === 'here' ? `ran ${what}${took}` : `recorded ${what} (ran elsewhere${took ? `,${took}` : ''})`];
  for (const i of r.inputs) lines.push(io('in ', i));
  for (const o of r.outputs) lines.push(io('out', o));
  const rowsIn = r.inputs.every((i) => i.rows !== null) ? r.inputs.reduce((n, i) => n + (i.rows ?? 0), 0) : null;
  const rowsOut = r.outputs.every((o) => o.rows !== null) ? r.outputs.reduce((n, o) => n + (o.rows ?? 0), 0) : null;
  const removed = r.inputs.length ? removedPercent(rowsIn, rowsOut) : null;
  if (removed !== null) lines.push(`  ${removed >= 0 ? `${formatPercent(removed)} of rows removed` : `${formatPercent(-removed)} more rows`}`);
  lines.push(`Lineage recorded in ${r.track.items.map((i) => i.pointerPath).join(', ')}`);
  if (r.staged.length) lines.push(`Staged: ${r.staged.join(' ')}`);
  if (r.toStage.length) lines.push(`To record this in Git: git add ${r.toStage.join(' ')} .dvs/audit`);
  return { text: lines.join('\n') + '\n', notes: r.warnings.map((w) => warningNote(w.message, w.hint)) };
};
