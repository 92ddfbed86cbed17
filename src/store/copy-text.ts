import type { SealedAuditRecord } from './audit-record.js';
import { type ColumnValue, rowValues, vaultValues } from './insert-sql.js';

const SPECIAL = /[\\\n\r\t]/;
const SPECIAL_GLOBAL = /[\\\n\r\t]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One field in COPY's text format: `\N` for NULL, backslash escapes for the four specials. */
function copyField(value: ColumnValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return SPECIAL.test(value) ? value.replace(SPECIAL_GLOBAL, (c) => ESCAPES[c] as string) : value;
}

/** The batch as COPY text-format lines, columns in `AUDIT_LOG_COLUMNS` order. */
export function toCopyText(records: readonly SealedAuditRecord[]): string {
  let out = '';
  for (const record of records) {
    out += `${rowValues(record).map(copyField).join('\t')}\n`;
  }
  return out;
}

/** The batch's vault rows as COPY text-format lines, columns in `VAULT_COLUMNS` order. */
export function toVaultCopyText(records: readonly SealedAuditRecord[]): string {
  let out = '';
  for (const record of records) {
    out += `${vaultValues(record).map(copyField).join('\t')}\n`;
  }
  return out;
}
