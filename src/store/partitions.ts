import type { SealedAuditRecord } from './audit-record.js';

type Query = (text: string, params: unknown[]) => Promise<unknown>;

const UNDEFINED_FUNCTION = '42883';
const INSUFFICIENT_PRIVILEGE = '42501';

/**
 * Makes sure the month of every record has its partition before the insert (the migration
 * creates months ahead; a writer running past them creates the next one itself). Remembers
 * the months it has seen, so it costs one statement per new month per process. A database
 * without the function (not migrated to 0004) or a role without EXECUTE falls back to the
 * DEFAULT partition, which takes any row.
 */
export class PartitionKeeper {
  private readonly known = new Set<string>();
  private available = true;

  constructor(private readonly query: Query) {}

  async ensureFor(records: readonly SealedAuditRecord[]): Promise<void> {
    if (!this.available) return;
    for (const record of records) {
      const month = record.occurredAt.slice(0, 7);
      if (this.known.has(month)) continue;
      try {
        await this.query('SELECT aitrail_ensure_partitions($1::timestamptz, 1)', [
          `${month}-01T00:00:00Z`,
        ]);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code !== UNDEFINED_FUNCTION && code !== INSUFFICIENT_PRIVILEGE) throw error;
        this.available = false;
        return;
      }
      this.known.add(month);
    }
  }
}

/** `audit_logs_p2026_11` for November 2026 (UTC). */
export function partitionName(parent: 'audit_logs' | 'audit_personal_data', month: Date): string {
  const year = month.getUTCFullYear();
  const m = String(month.getUTCMonth() + 1).padStart(2, '0');
  return `${parent}_p${year}_${m}`;
}
