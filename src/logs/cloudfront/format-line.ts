import {
  type CloudFrontField,
  type CloudFrontLayout,
  cloudFrontFileHeader,
  standardLayout,
} from './fields.js';
import type { CloudFrontLogRecord } from './record.js';
import { encodeCloudFrontValue } from './url-encoding.js';

const DEFAULT_LAYOUT = standardLayout();

function fieldText(value: unknown, kind: CloudFrontField['kind']): string {
  if (value === null || value === undefined) return '-';
  switch (kind) {
    case 'status':
      return String(value).padStart(3, '0');
    case 'integer':
      return String(value);
    case 'seconds':
      return (value as number).toFixed(3);
    case 'date':
    case 'time':
      return value as string;
    default:
      return value === '' ? '-' : encodeCloudFrontValue(value as string);
  }
}

/**
 * Writes a record as CloudFront writes it: the layout's columns (the 33 documented fields by
 * default) up to the record's `fieldCount`, TAB-separated, text URL-encoded, absent values `-`,
 * then any trailing cells verbatim. format(parse(line, layout), layout) === line for every line
 * `parseCloudFrontLine` accepts (without a trailing CR).
 */
export function formatCloudFrontLine(
  record: CloudFrontLogRecord,
  layout: CloudFrontLayout = DEFAULT_LAYOUT,
): string {
  const count = Math.min(record.fieldCount, layout.names.length);
  const verbatim = record.verbatim;
  const fields = layout.fields;
  const values = record as unknown as Record<string, unknown>;
  // One string built in place: the lab writes a line per viewer request.
  let line = '';
  for (let i = 0; i < count; i++) {
    if (i > 0) line += '\t';
    const kept = verbatim === undefined ? undefined : verbatim[layout.names[i] as string];
    if (kept !== undefined) line += kept;
    else {
      const field = fields[i];
      line += field ? fieldText(values[field.key], field.kind) : '-';
    }
  }
  const extra = record.extra;
  if (extra) for (let i = 0; i < extra.length; i++) line += count > 0 || i > 0 ? `\t${extra[i]}` : extra[i];
  return line;
}

/** A whole (uncompressed) log file: the two header lines, then one line per record. */
export function formatCloudFrontFile(
  records: readonly CloudFrontLogRecord[],
  layout: CloudFrontLayout = DEFAULT_LAYOUT,
): string {
  let out = cloudFrontFileHeader(layout);
  for (const r of records) out += `${formatCloudFrontLine(r, layout)}\n`;
  return out;
}
