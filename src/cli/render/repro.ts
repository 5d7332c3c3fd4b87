import type { ReproCommandResult } from '../../commands/repro.js';
import { formatParams } from '../../lineage/params.js';
import type { StaleReason } from '../../lineage/repro-plan.js';
import type { CheckedOutput, ReproCheckResult } from '../../ops/history/repro-check.js';
import type { ReproResult, ReproStep } from '../../ops/history/repro.js';
import { EXIT } from '../exit-codes.js';
import { formatBytes, formatCount, groupDigits, warningNote } from '../format.js';
import type { Rendered, Renderer } from './types.js';

const short = (oid: string | null) => (oid ? oid.slice(0, 10) : 'none');
const value = (v: unknown) => (v === null ? 'unset' : typeof v === 'string' ? v : JSON.stringify(v));

export function describeReason(r: StaleReason): string {
  switch (r.kind) {
    case 'forced':
      return 'forced';
    case 'input':
      return r.current ? `${r.path} modified (${short(r.recorded)} → ${short(r.current)})` : `${r.path} is no longer tracked`;
    case 'upstream':
      return `${r.path} is rebuilt by ${r.step}`;
    case 'param':
      return `${r.key} ${value(r.recorded)} → ${value(r.current)}${r.file === '--param' ? '' : ` (${r.file})`}`;
    case 'output':
      return `${r.path} is ${short(r.current)} here, ${short(r.recorded)} at that revision`;
  }
}

function title(s: { transform: string; params: Record<string, unknown> }): string {
  const params = formatParams(s.params);
  return `${s.transform}${params ? ` (${params})` : ''}`;
}

function where(from: ReproStep['restoreFrom']): string {
  if (!from) return '';
  return from === 'run cache' ? 'the run cache' : from.commit ? `the lineage at commit ${from.commit.slice(0, 10)}` : 'the recorded lineage';
}

function stepLines(s: ReproStep, dryRun: boolean): string[] {
  const outputs = s.outputs.join(', ');
  if (s.status === 'up-to-date') return [`  up to date  ${title(s)} → ${outputs}`];
  const why = s.reasons.map(describeReason).join('; ');
  if (dryRun) {
    const action = s.restoreFrom ? `would restore from ${where(s.restoreFrom)}` : 'would run';
    return [`  stale       ${title(s)} → ${outputs}: ${why}`, `              ${action}`];
  }
  const versions = (s.versions ?? []).map((v) => `${v.path} ${short(v.before)} → ${short(v.after)}`).join(', ');
  const head = s.status === 'restored' ? `  restored    ${title(s)} from ${where(s.restoreFrom)} (not run)` : `  ran         ${title(s)}${s.duration !== null && s.duration !== undefined ? ` in ${groupDigits(s.duration)} s` : ''}`;
  return [head, `              ${why}`, `              ${versions}`];
}

function renderRun(r: ReproResult): Rendered {
  const lines: string[] = [];
  if (r.rev) lines.push(`Lineage at ${r.rev} (${r.commit?.slice(0, 10)})`);
  for (const s of r.steps) lines.push(...stepLines(s, r.dryRun));
  const stale = r.steps.filter((s) => s.status !== 'up-to-date');
  if (stale.length === 0) lines.push('Everything is up to date.');
  else if (r.dryRun) lines.push(`${formatCount(stale.length, 'stale step')} of ${r.steps.length}; run dvs repro without --dry-run to rebuild.`);
  else {
    const ran = stale.filter((s) => s.status === 'ran').length;
    const restored = stale.filter((s) => s.status === 'restored').length;
    lines.push(`${formatCount(ran, 'step')} ran, ${groupDigits(restored)} restored from earlier results.`);
    const staged = [...new Set(stale.flatMap((s) => s.staged ?? []))];
    const toStage = [...new Set(stale.flatMap((s) => s.toStage ?? []))];
    if (staged.length) lines.push(`Staged: ${staged.join(' ')}`);
    if (toStage.length) lines.push(`To record this in Git: git add ${toStage.join(' ')} .dvs/audit`);
  }
  return { text: lines.join('\n') + '\n', notes: r.warnings.map((w) => warningNote(w.message, w.hint)) };
}

function outputDifference(o: CheckedOutput): string {
  if (o.reproduced === null) return `${o.path}: not written`;
  if (o.rows) {
    const changed = o.rows.changed ?? Math.max(o.rows.added, o.rows.removed);
    const detail = o.rows.changed === null ? ` (${groupDigits(o.rows.added)} added, ${groupDigits(o.rows.removed)} removed)` : '';
    return `${o.path}: differs: ${o.rows.estimated ? 'about ' : ''}${groupDigits(changed)} ${changed === 1 ? 'row' : 'rows'} changed${detail}`;
  }
  return `${o.path}: differs: ${short(o.recorded)} → ${short(o.reproduced)}${o.size ? `, ${formatBytes(o.size.recorded)} → ${formatBytes(o.size.reproduced)}` : ''}`;
}

function renderCheck(r: ReproCheckResult): Rendered {
  const lines: string[] = [];
  for (const s of r.steps) {
    if (s.status === 'identical') lines.push(`  reproduced  ${title(s)}: ${s.outputs.map((o) => o.path).join(', ')} byte-identical`);
    else if (s.status === 'differs') {
      lines.push(`  differs     ${title(s)}`);
      for (const o of s.outputs) if (o.reproduced !== o.recorded) lines.push(`              ${outputDifference(o)}`);
    } else if (s.status === 'failed') lines.push(`  failed      ${title(s)}: ${s.reason ?? (s.signal ? `killed by ${s.signal}` : `exit status ${s.exitCode}`)}`);
    else lines.push(`  skipped     ${title(s)}: ${s.reason}`);
  }
  const bad = r.steps.filter((s) => s.status !== 'identical');
  lines.push(bad.length === 0 ? 'Reproduced byte-identical.' : `Not reproduced: ${bad.map((s) => s.transform).join(', ')}`);
  return { text: lines.join('\n') + '\n', exit: r.reproduced ? undefined : EXIT.differences, notes: r.warnings.map((w) => warningNote(w.message, w.hint)) };
}

export const renderRepro: Renderer<ReproCommandResult> = (r) => (r.action === 'check' ? renderCheck(r) : renderRun(r));
