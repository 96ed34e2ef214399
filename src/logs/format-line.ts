import { ALB_FIELDS, type AlbField } from './fields.js';
import { escapeQuoted } from './parse-line.js';
import type { AlbLogRecord } from './record.js';

function fieldText(record: AlbLogRecord, field: AlbField): string {
  const value = (record as unknown as Record<string, unknown>)[field.key];
  switch (field.kind) {
    case 'seconds':
      return value === null || value === undefined ? '-1' : (value as number).toFixed(3);
    case 'address': {
      if (value === null || value === undefined) return '-';
      const port = (record as unknown as Record<string, unknown>)[`${field.key}Port`];
      return `${value as string}:${port as number}`;
    }
    case 'integer':
      return value === null || value === undefined ? '-' : String(value);
    default: {
      if (value === null || value === undefined) return field.quoted ? '"-"' : '-';
      return field.quoted ? `"${escapeQuoted(value as string)}"` : (value as string);
    }
  }
}

/**
 * Writes a record as the ALB writes it: the documented fields in order, up to the record's
 * `fieldCount` (so older layouts stay older), then any unknown trailing fields verbatim.
 * format(parse(line)) === line for every line `parseAlbLine` accepts.
 */
export function formatAlbLine(record: AlbLogRecord): string {
  const count = Math.min(record.fieldCount, ALB_FIELDS.length);
  const verbatim = record.verbatim;
  const parts: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const field = ALB_FIELDS[i] as AlbField;
    const kept = verbatim?.[field.name];
    parts[i] = kept ?? fieldText(record, field);
  }
  if (record.extra && record.extra.length > 0) parts.push(...record.extra);
  return parts.join(' ');
}
