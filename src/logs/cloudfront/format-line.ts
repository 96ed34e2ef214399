import {
  CLOUDFRONT_FIELDS,
  type CloudFrontField,
  type CloudFrontLayout,
  cloudFrontFileHeader,
  standardLayout,
} from './fields.js';
import type { CloudFrontLogRecord } from './record.js';
import { encodeCloudFrontValue } from './url-encoding.js';

const BY_NAME = new Map(CLOUDFRONT_FIELDS.map((x) => [x.name, x]));
const DEFAULT_LAYOUT = standardLayout();

function fieldText(record: CloudFrontLogRecord, field: CloudFrontField): string {
  const value = (record as unknown as Record<string, unknown>)[field.key];
  if (value === null || value === undefined) return '-';
  switch (field.kind) {
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
  const parts: string[] = new Array(count);
  const verbatim = record.verbatim;
  for (let i = 0; i < count; i++) {
    const name = layout.names[i] as string;
    const kept = verbatim?.[name];
    if (kept !== undefined) parts[i] = kept;
    else {
      const field = BY_NAME.get(name);
      parts[i] = field ? fieldText(record, field) : '-';
    }
  }
  if (record.extra && record.extra.length > 0) parts.push(...record.extra);
  return parts.join('\t');
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
