import { AitrailError } from '../../errors.js';
import { checkOptionalString, checkStrictKeys, checkString } from '../../instrument/options.js';
import type { AuditStore } from '../audit-store.js';

/** The shortest retention allowed without a documented override: EU AI Act Art. 19 / 26(6). */
export const DEFAULT_RETENTION_FLOOR_MONTHS = 6;

/** The policy key that applies to every tenant without a policy of its own (and to no tenant). */
export const EVERY_TENANT = '*';

export interface RetentionPolicy {
  /** A tenant id, or `*` for every tenant without a policy of its own. */
  tenantId: string;
  keepMonths: number;
  overrideReason: string | null;
}

export interface SetRetentionPolicyOptions {
  tenantId: string;
  keepMonths: number;
  /** Required to go below the floor: why (a documented legal basis). */
  overrideReason?: string;
  /** Default 6 months. */
  floorMonths?: number;
}

/**
 * Sets how long a tenant's rows are kept (default, without any policy: forever). A period
 * shorter than the floor is refused unless an override reason is given.
 */
export async function setRetentionPolicy(
  store: AuditStore,
  options: SetRetentionPolicyOptions,
): Promise<RetentionPolicy> {
  checkStrictKeys('setRetentionPolicy', options, [
    'tenantId',
    'keepMonths',
    'overrideReason',
    'floorMonths',
  ]);
  checkString('setRetentionPolicy', 'tenantId', options.tenantId);
  checkOptionalString('setRetentionPolicy', 'overrideReason', options.overrideReason);
  const floor = options.floorMonths ?? DEFAULT_RETENTION_FLOOR_MONTHS;
  if (!Number.isInteger(floor) || floor < 1) {
    throw new TypeError(
      `setRetentionPolicy: floorMonths must be a whole number >= 1, got ${floor}`,
    );
  }
  if (!Number.isInteger(options.keepMonths) || options.keepMonths < 1) {
    throw new TypeError(
      `setRetentionPolicy: keepMonths must be a whole number of months >= 1, got ${String(options.keepMonths)}`,
    );
  }
  if (options.keepMonths < floor && options.overrideReason === undefined) {
    throw new AitrailError(
      'RETENTION_BELOW_FLOOR',
      `a retention of ${options.keepMonths} month(s) is below the floor of ${floor} (logs of high-risk AI systems are kept at least 6 months, EU AI Act Art. 19 and 26(6)); give an override reason to go below it`,
    );
  }
  await store.query(
    `INSERT INTO audit_retention_policies (tenant_id, keep_months, override_reason, updated_at)
     VALUES ($1, $2, $3, now())
     ON CONFLICT (tenant_id) DO UPDATE SET keep_months = excluded.keep_months,
       override_reason = excluded.override_reason, updated_at = now()`,
    [options.tenantId, options.keepMonths, options.overrideReason ?? null],
  );
  return {
    tenantId: options.tenantId,
    keepMonths: options.keepMonths,
    overrideReason: options.overrideReason ?? null,
  };
}

export async function listRetentionPolicies(store: AuditStore): Promise<RetentionPolicy[]> {
  const rows = await store.query<{
    tenant_id: string;
    keep_months: number;
    override_reason: string | null;
  }>('SELECT tenant_id, keep_months, override_reason FROM audit_retention_policies ORDER BY 1');
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    keepMonths: Number(r.keep_months),
    overrideReason: r.override_reason,
  }));
}
