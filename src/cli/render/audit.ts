import type { AuditCommandResult } from '../../commands/audit.js';
import type { AuditEventView, AuditLogResult, AuditReportResult } from '../../ops/history/audit-log.js';
import type { AuditVerifyResult } from '../../ops/history/audit-verify.js';
import { EXIT } from '../exit-codes.js';
import { formatCount, warningNote } from '../format.js';
import type { Rendered, Renderer } from './types.js';

const when = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function eventLine(e: AuditEventView): string {
  const paths = e.paths.map((p) => `${p.role === 'input' ? '<' : p.role === 'output' ? '>' : ''}${p.path} ${p.oid.slice(0, 10)}`).join(', ');
  const d = e.data;
  const extra = [d.transform, d.run && `run ${String(d.run)}`, d.remote && `remote ${String(d.remote)}`, typeof d.objects === 'number' && formatCount(d.objects, 'object')].filter(Boolean).join(', ');
  return `${when(e.time)}  ${e.type.padEnd(14)} ${e.user}  ${paths}${extra ? `  (${extra})` : ''}${d.local === true ? '  [this machine]' : ''}`;
}

function renderLog(r: AuditLogResult): Rendered {
  const lines = r.events.map(eventLine);
  if (r.events.length === 0) lines.push(`No audit events${r.path ? ` about ${r.path}` : ''}.`);
  else if (r.total > r.events.length) lines.push(`… ${formatCount(r.total - r.events.length, 'older event')} not shown`);
  const notes = r.unreadable ? [warningNote(`${formatCount(r.unreadable, 'file')} in .dvs/audit/ cannot be read as events`, 'run `dvs audit verify`')] : [];
  return { text: lines.join('\n') + '\n', notes };
}

function verdict(ok: boolean, first: string | undefined): string {
  return ok ? 'The audit trail verifies.' : `The audit trail does NOT verify. First bad event: ${first}`;
}

function renderReport(r: AuditReportResult, md: boolean): Rendered {
  const title = `Chain of custody of ${r.path} ${r.oid.slice(0, 10)}${r.rev ? ` (at ${r.rev})` : ''}`;
  const lines = [title];
  if (r.custody.length === 0) lines.push('  no audit events name this version');
  for (const c of r.custody) lines.push(`  ${when(c.event.time)}  ${c.event.user}  ${c.summary}${c.problem ? '  [FAILS VERIFICATION]' : ''}`);
  const s = r.summary;
  const facts = [
    s.trackedBy.length && `tracked by ${s.trackedBy.join(', ')}`,
    s.producedBy.length && `produced by ${s.producedBy.join(', ')}`,
    s.usedBy.length && `input of ${s.usedBy.join(', ')}`,
    s.pushedTo.length && `pushed to ${s.pushedTo.join(', ')}`,
    s.pulledBy.length && `pulled by ${s.pulledBy.join(', ')}`,
    s.trainedIn.length && `trained in ${s.trainedIn.join(', ')}`,
  ].filter(Boolean);
  if (facts.length) lines.push(`Summary: ${facts.join('; ')}.`);
  lines.push(verdict(r.verified, r.problems[0]?.message));
  const mdText = md
    ? [
        `### ${title.replace(r.path, `\`${r.path}\``)}`,
        '',
        '| when | who | what |',
        '|---|---|---|',
        ...r.custody.map((c) => `| ${when(c.event.time)} | ${c.event.user.replace(/</g, '&lt;')} | ${c.summary.replace(/\|/g, '\\|')}${c.problem ? ' ⚠️' : ''} |`),
        '',
        r.verified ? '✅ The audit trail verifies.' : `❌ The audit trail does not verify: ${r.problems[0]?.message}`,
        '',
      ].join('\n')
    : undefined;
  return { text: lines.join('\n') + '\n', md: mdText, exit: r.verified ? undefined : EXIT.differences };
}

function renderVerify(r: AuditVerifyResult): Rendered {
  const anchors = r.anchors.map((a) => `${a.rev} (${formatCount(a.events, 'event')})`).join(', ');
  const lines = [
    `Checked ${formatCount(r.events, 'event')} (${formatCount(r.heads, 'head')})${anchors ? ` against ${anchors}` : ''}, ${formatCount(r.records.runs, 'run record')} and ${formatCount(r.records.lineage, 'lineage record')}.`,
  ];
  for (const p of r.problems) lines.push(`  ${p.code.padEnd(17)} ${p.message}`);
  if (r.ok) lines.push('The audit trail verifies.');
  else {
    if (r.firstBad) lines.push(`First bad event: ${r.firstBad.file}${r.firstBad.event ? ` (${r.firstBad.event.type} by ${r.firstBad.event.user} at ${when(r.firstBad.event.time)})` : ''}`);
    lines.push(`The audit trail does NOT verify: ${formatCount(r.problems.length, 'problem')}.`);
  }
  return { text: lines.join('\n') + '\n', exit: r.ok ? undefined : EXIT.differences };
}

export const renderAudit: Renderer<AuditCommandResult> = (r, { args }) => {
  switch (r.action) {
    case 'log':
      return renderLog(r);
    case 'report':
      return renderReport(r, args.md === true);
    case 'verify':
      return renderVerify(r);
  }
};
