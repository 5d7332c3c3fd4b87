import type { Warning } from '../../events.js';
import type { LinkType } from '../../objects/link.js';
import type { OpContext } from '../context.js';
import { applyCheckoutPlan } from '../../workspace/checkout-apply.js';
import { planCheckout, type CheckoutFailure, type CheckoutPlan } from '../../workspace/checkout-plan.js';
import { selectTargets, type Target, type TargetSelection } from '../../workspace/targets.js';
import { afterCheckout, type OrphanRemoval } from '../../workspace/orphans.js';
import { hasPlacedRecord } from '../../workspace/placed.js';

export type { CheckoutFailure, CheckoutPlan } from '../../workspace/checkout-plan.js';

export interface CheckoutOptions {
  targets?: string[];
  /** Overwrite or delete workspace data that is not saved in the cache. */
  force?: boolean;
  /** Place again, with the configured `cache.type`, files whose bytes already match. */
  relink?: boolean;
  /** Only these pointers (already resolved), e.g. those a hook found changed between two refs. */
  pointers?: Target[];
}

export interface CheckoutResult {
  added: string[];
  modified: string[];
  deleted: string[];
  /** Files whose bytes already matched, placed again (`--relink`). */
  relinked: string[];
  unchanged: number;
  failures: CheckoutFailure[];
  /** Link types actually used, with counts. */
  links: Partial<Record<LinkType, number>>;
  warnings: Warning[];
  /** Data removed because its pointer is gone (checkout of the whole repository; see workspace/orphans.ts). */
  orphaned: OrphanRemoval[];
}

/** `dvs checkout --dry-run`: the plan, nothing done. */
export interface CheckoutPreview extends CheckoutPlan {
  dryRun: true;
}

/**
 * Make the workspace match the pointers, touching only what differs: plan every target first, then
 * apply the plan. Workspace data that exists nowhere else (its content is not in the cache) is never
 * overwritten or deleted without `force`; a file that cannot be checked out is reported and the rest
 * goes on.
 */
export async function checkout(ctx: OpContext, options: CheckoutOptions = {}): Promise<CheckoutResult> {
  const { repo } = ctx;
  const { targets, refused } = chooseTargets(ctx, options);
  const result: CheckoutResult = { added: [], modified: [], deleted: [], relinked: [], unchanged: 0, failures: refusals(refused), links: {}, warnings: [], orphaned: [] };
  const wholeRepository = !options.pointers && !options.targets?.length;
  if (targets.length === 0 && !(wholeRepository && hasPlacedRecord(repo))) return result;
  return repo.withLock({ ...ctx.lock, command: 'dvs checkout' }, async () => {
    const state = await repo.statCache();
    // Many targets: one read of every stamp beats a query each (a directory's files are preloaded by
    // hashFiles when it needs them). A hook syncing one pointer makes one query.
    if (targets.length > 64) state.preload();
    try {
      const plan = await planCheckout(repo, targets, { state, force: options.force, relink: options.relink });
      const applied = await applyCheckoutPlan(repo, plan, { state, onProgress: ctx.onProgress });
      result.added = applied.added;
      result.modified = applied.modified;
      result.deleted = applied.deleted;
      result.relinked = applied.relinked;
      result.links = applied.links;
      result.unchanged = plan.targets.reduce((n, tp) => n + tp.unchanged, 0);
      result.failures.push(...plan.failures, ...applied.failures);
      result.warnings.push(...plan.warnings);
      // Relinked files are new inodes: their stamps in the placed-data record change too.
      const changed = { added: result.added, modified: [...result.modified, ...result.relinked], deleted: result.deleted };
      const orphans = await afterCheckout(repo, state, { targets, refused: refused.map((r) => r.pointerPath), changed, wholeRepository });
      result.orphaned = orphans.removed;
      result.warnings.push(...orphans.warnings);
      return result;
    } finally {
      state.flush();
    }
  });
}

/**
 * What `checkout` would do with the same options, changing nothing in the workspace. Takes no lock:
 * like status, it only reads (and keeps the stat cache up to date).
 */
export async function previewCheckout(ctx: OpContext, options: CheckoutOptions = {}): Promise<CheckoutPreview> {
  const { repo } = ctx;
  const { targets, refused } = chooseTargets(ctx, options);
  const preview: CheckoutPreview = { dryRun: true, targets: [], failures: refusals(refused), warnings: [] };
  if (targets.length === 0) return preview;
  const state = await repo.statCache();
  try {
    const plan = await planCheckout(repo, targets, { state, force: options.force, relink: options.relink });
    return { ...preview, targets: plan.targets, failures: [...preview.failures, ...plan.failures], warnings: plan.warnings };
  } finally {
    state.flush();
  }
}

function chooseTargets(ctx: OpContext, options: CheckoutOptions): TargetSelection {
  return options.pointers ? { targets: options.pointers, refused: [] } : selectTargets(ctx.repo, ctx.cwd, options.targets);
}

function refusals(refused: TargetSelection['refused']): CheckoutFailure[] {
  return refused.map((r) => ({ path: r.pointerPath, code: r.error.code, message: r.error.message, hint: r.error.hint }));
}
