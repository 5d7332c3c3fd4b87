import { DvsError } from '../errors.js';
import type { AuditLogResult, AuditReportResult } from '../ops/history/audit-log.js';
import type { AuditVerifyResult } from '../ops/history/audit-verify.js';
import { repeatable, single } from './options.js';
import { defineCommand } from './types.js';

export interface AuditArgs {
  action: 'log' | 'report' | 'verify';
  path?: string;
  rev?: string[];
  maxCount?: number;
  md: boolean;
}

export type AuditCommandResult = ({ action: 'log' } & AuditLogResult) | ({ action: 'report' } & AuditReportResult) | ({ action: 'verify' } & AuditVerifyResult);

export const auditCommand = defineCommand<AuditArgs, AuditCommandResult>({
  name: 'audit',
  command: 'audit <action> [path]',
  describe: 'The hash-chained audit trail: list events, report a dataset version\'s chain of custody, verify',
  builder: (y) =>
    y
      .usage('dvs audit log [path] [-n <count>]\ndvs audit report <path> [--rev <rev>]\ndvs audit verify [--rev <rev>]...\n\nThe audit trail: one committed event per track, remove, transform, push, pull, gc and run start/finish, each naming the hashes of the events it follows.')
      .positional('action', { choices: ['log', 'report', 'verify'] as const, describe: 'log: events, newest first; report: custody of one dataset version; verify: check the chain' })
      .positional('path', { type: 'string', describe: 'log, report: the data path' })
      .option('rev', repeatable('report: the version its pointer names at this revision; verify: also require the trail committed there'))
      .option('max-count', single('number', 'log: at most this many events', { alias: 'n' }))
      .option('md', { type: 'boolean', default: false, describe: 'report: markdown' })
      .example('dvs audit log data/train -n 5', 'the last five events about data/train')
      .example('dvs audit report data/train --md', 'who tracked, transformed, pushed and trained on this version, as markdown')
      .example('dvs audit verify --rev origin/main', 'check the trail, and that every event committed on origin/main is still there'),
  async run(args, env) {
    const revs = args.rev ?? [];
    if (args.action === 'verify') {
      if (args.path) throw new DvsError('UNEXPECTED_ARGUMENT', `dvs audit verify checks the whole trail; it takes no path (${args.path})`);
      const { auditVerify } = await import('../ops/history/audit-verify.js');
      return { action: 'verify', ...(await auditVerify(await env.context(), { revs })) };
    }
    const { auditLog, auditReport } = await import('../ops/history/audit-log.js');
    if (args.action === 'log') {
      if (revs.length) throw new DvsError('UNEXPECTED_OPTION', 'dvs audit log lists the workspace trail; --rev is for report and verify');
      return { action: 'log', ...(await auditLog(await env.context(), { target: args.path, limit: args.maxCount })) };
    }
    if (!args.path) throw new DvsError('NO_TARGET', 'Name the dataset: dvs audit report <path> [--rev <rev>]');
    if (revs.length > 1) throw new DvsError('ONE_REVISION', 'dvs audit report takes one --rev');
    return { action: 'report', ...(await auditReport(await env.context(), { target: args.path, rev: revs[0] })) };
  },
});
