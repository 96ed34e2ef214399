/**
 * The CloudWatch API subset (GetMetricData, ListMetrics) on both wire protocols clients use:
 * - AWS Query (form-encoded POST, XML responses): what the aws CLI (botocore) sends;
 * - AWS JSON 1.0 in "query-compatible" mode (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`,
 *   `x-amzn-query-mode: true`): what the AWS SDK for JavaScript v3 sends since it moved off Query.
 * Both are parsed into the same input and served by the same code; only the encoding differs.
 */
import { createHash } from 'node:crypto';
import type { LabBackend, MetricDimension, MetricId, MetricStat } from '../backend.js';
import { type AwsRequest, type AwsResponse, decodeToken, encodeToken, header, isoDate } from './http.js';
import {
  isQueryForm,
  memberList,
  members,
  QueryApiError,
  queryErrorResponse,
  queryResponse,
  readQueryRequest,
} from './query.js';
import { el, type XmlNode } from './xml.js';

export const CLOUDWATCH_TARGET_PREFIX = 'GraniteServiceVersion20100801.';
const CW_NS = 'http://monitoring.amazonaws.com/doc/2010-08-01/';
export const MAX_METRIC_DATA_QUERIES = 500;
const DEFAULT_MAX_DATAPOINTS = 100_800;
const LIST_METRICS_PAGE = 500;

/** An error in CloudWatch's Query-protocol vocabulary (`Code`), mapped to JSON shapes on the way out. */
export class CloudWatchApiError extends QueryApiError {}

/** The JSON protocol's error shape names for the Query codes (the SDK's `awsQueryError` traits). */
const JSON_ERROR_NAMES: Record<string, string> = {
  InvalidParameterValue: 'InvalidParameterValueException',
  MissingParameter: 'MissingRequiredParameterException',
  InvalidParameterCombination: 'InvalidParameterCombinationException',
  InvalidNextToken: 'InvalidNextToken',
  ValidationError: 'ValidationException',
  InternalServiceError: 'InternalServiceFault',
  InvalidAction: 'UnknownOperationException',
  InvalidQueryParameter: 'SerializationException',
};

type Protocol = 'query' | 'json';

// ---------------------------------------------------------------------------------------------
// Protocol-neutral inputs and the two operations.

type Json = unknown;

interface MetricDataQueryInput {
  Id?: Json;
  Label?: Json;
  ReturnData?: Json;
  Expression?: Json;
  Period?: Json;
  AccountId?: Json;
  MetricStat?: {
    Metric?: { Namespace?: Json; MetricName?: Json; Dimensions?: Json };
    Period?: Json;
    Stat?: Json;
    Unit?: Json;
  };
}

interface MetricResult {
  id: string;
  label: string;
  timestampsMs: number[];
  values: number[];
  statusCode: 'Complete' | 'PartialData';
}

const STAT_RE = /^(Sum|Average|Maximum|Minimum|SampleCount|p(100|\d{1,2}(\.\d{1,10})?))$/;
const ID_RE = /^[a-z][a-zA-Z0-9_]*$/;

function str(v: Json, field: string, required: true): string;
function str(v: Json, field: string, required?: false): string | undefined;
function str(v: Json, field: string, required = false): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (required) throw new CloudWatchApiError('MissingParameter', `The parameter ${field} is required.`);
    return undefined;
  }
  if (typeof v !== 'string')
    throw new CloudWatchApiError('InvalidParameterValue', `The parameter ${field} must be a string.`);
  return v;
}

function num(v: Json, field: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) {
    throw new CloudWatchApiError(
      'InvalidParameterValue',
      `The value ${String(v)} for parameter ${field} is not a number.`,
    );
  }
  return n;
}

function bool(v: Json, field: string): boolean | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw new CloudWatchApiError(
    'InvalidParameterValue',
    `The value ${String(v)} for parameter ${field} is not a boolean.`,
  );
}

function list(v: Json, field: string): Json[] {
  if (v === undefined || v === null || v === '') return [];
  if (!Array.isArray(v))
    throw new CloudWatchApiError('InvalidParameterValue', `The parameter ${field} must be a list.`);
  return v;
}

/** Epoch seconds (JSON) or ISO 8601 (Query); also accepts epoch seconds as a string. */
function timestamp(v: Json, field: string): number {
  if (v === undefined || v === null || v === '') {
    throw new CloudWatchApiError('MissingParameter', `The parameter ${field} is required.`);
  }
  let ms = Number.NaN;
  if (typeof v === 'number') ms = v * 1000;
  else if (typeof v === 'string') ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  if (!Number.isFinite(ms)) {
    throw new CloudWatchApiError(
      'InvalidParameterValue',
      `The parameter ${field} must be a valid timestamp, got ${String(v)}.`,
    );
  }
  return ms;
}

function dimensions(
  v: Json,
  field: string,
  valueRequired: boolean,
): { name: string; value?: string | undefined }[] {
  const dims = list(v, field).map((d, i) => {
    const o = (d ?? {}) as { Name?: Json; Value?: Json };
    const name = str(o.Name, `${field}.member.${i + 1}.Name`, true);
    const value = valueRequired
      ? str(o.Value, `${field}.member.${i + 1}.Value`, true)
      : str(o.Value, `${field}.member.${i + 1}.Value`);
    return { name, value };
  });
  if (dims.length > 30) {
    throw new CloudWatchApiError(
      'InvalidParameterValue',
      `The collection ${field} must not have a size greater than 30.`,
    );
  }
  return dims;
}

function validPeriod(p: number): boolean {
  return Number.isInteger(p) && p >= 1 && ([1, 5, 10, 20, 30].includes(p) || p % 60 === 0);
}

/** A fingerprint of the request, so a NextToken cannot be replayed against a different query. */
function fingerprint(input: Record<string, Json>): string {
  const { NextToken: _t, MaxDatapoints: _m, ...rest } = input;
  return createHash('sha256').update(JSON.stringify(rest)).digest('base64url').slice(0, 16);
}

export interface GetMetricDataOutput {
  results: MetricResult[];
  nextToken?: string | undefined;
}

export function getMetricData(backend: LabBackend, input: Record<string, Json>): GetMetricDataOutput {
  if (input.MetricDataQueries === undefined) {
    throw new CloudWatchApiError('MissingParameter', 'The parameter MetricDataQueries is required.');
  }
  const queries = list(input.MetricDataQueries, 'MetricDataQueries') as MetricDataQueryInput[];
  if (queries.length > MAX_METRIC_DATA_QUERIES) {
    throw new CloudWatchApiError(
      'ValidationError',
      `The collection MetricDataQueries must not have a size greater than ${MAX_METRIC_DATA_QUERIES}.`,
    );
  }
  const startMs = timestamp(input.StartTime, 'StartTime');
  const endMs = timestamp(input.EndTime, 'EndTime');
  if (!(startMs < endMs)) {
    throw new CloudWatchApiError(
      'ValidationError',
      'The parameter StartTime must be less than the parameter EndTime.',
    );
  }
  const scanBy = str(input.ScanBy, 'ScanBy') ?? 'TimestampDescending';
  if (scanBy !== 'TimestampDescending' && scanBy !== 'TimestampAscending') {
    throw new CloudWatchApiError(
      'ValidationError',
      `1 validation error detected: Value '${scanBy}' at 'scanBy' failed to satisfy constraint: Member must satisfy enum value set: [TimestampDescending, TimestampAscending]`,
    );
  }
  const maxDatapoints = num(input.MaxDatapoints, 'MaxDatapoints') ?? DEFAULT_MAX_DATAPOINTS;
  if (!Number.isInteger(maxDatapoints) || maxDatapoints < 1) {
    throw new CloudWatchApiError(
      'InvalidParameterValue',
      `The parameter MaxDatapoints must be a positive integer.`,
    );
  }

  const seen = new Set<string>();
  const evaluated: { id: string; label: string; timestampsMs: number[]; values: number[] }[] = [];
  queries.forEach((raw, i) => {
    const field = `MetricDataQueries.member.${i + 1}`;
    const q = (raw ?? {}) as MetricDataQueryInput;
    const id = str(q.Id, `${field}.Id`, true);
    if (!ID_RE.test(id) || id.length > 255) {
      throw new CloudWatchApiError(
        'ValidationError',
        `The value ${id} for parameter ${field}.Id is invalid: it must start with a lowercase letter and contain only letters, digits and underscores.`,
      );
    }
    if (seen.has(id)) {
      throw new CloudWatchApiError(
        'ValidationError',
        `The values for parameter id in MetricDataQueries are not unique: ${id}.`,
      );
    }
    seen.add(id);
    const expression = str(q.Expression, `${field}.Expression`);
    if (expression !== undefined && q.MetricStat !== undefined) {
      throw new CloudWatchApiError(
        'ValidationError',
        `The parameter ${field} must contain exactly one of MetricStat and Expression.`,
      );
    }
    if (expression !== undefined) {
      throw new CloudWatchApiError(
        'ValidationError',
        `Metric math expressions are not supported by the lab (${field}.Expression: ${expression}); query each metric with MetricStat.`,
      );
    }
    if (q.MetricStat === undefined) {
      throw new CloudWatchApiError(
        'ValidationError',
        `The parameter ${field} must contain exactly one of MetricStat and Expression.`,
      );
    }
    const ms = q.MetricStat;
    const metric = ms.Metric ?? {};
    const metricId: MetricId = {
      namespace: str(metric.Namespace, `${field}.MetricStat.Metric.Namespace`, true),
      metricName: str(metric.MetricName, `${field}.MetricStat.Metric.MetricName`, true),
      dimensions: dimensions(
        metric.Dimensions,
        `${field}.MetricStat.Metric.Dimensions`,
        true,
      ) as MetricDimension[],
    };
    const period = num(ms.Period, `${field}.MetricStat.Period`);
    if (period === undefined)
      throw new CloudWatchApiError(
        'MissingParameter',
        `The parameter ${field}.MetricStat.Period is required.`,
      );
    if (!validPeriod(period)) {
      throw new CloudWatchApiError(
        'InvalidParameterValue',
        `The parameter ${field}.MetricStat.Period must be 1, 5, 10, 20, 30, or any multiple of 60.`,
      );
    }
    const stat = str(ms.Stat, `${field}.MetricStat.Stat`, true);
    if (!STAT_RE.test(stat)) {
      throw new CloudWatchApiError(
        'InvalidParameterValue',
        `The statistic ${stat} in ${field}.MetricStat.Stat is not supported by the lab (use Sum, Average, Maximum, Minimum, SampleCount or pNN).`,
      );
    }
    if (bool(q.ReturnData, `${field}.ReturnData`) === false) return;
    const data = backend.cloudwatch.query(metricId, stat as MetricStat, period, startMs, endMs);
    const timestampsMs = [...data.timestampsMs];
    const values = [...data.values];
    if (scanBy === 'TimestampDescending') {
      timestampsMs.reverse();
      values.reverse();
    }
    evaluated.push({
      id,
      label: str(q.Label, `${field}.Label`) ?? metricId.metricName,
      timestampsMs,
      values,
    });
  });

  const fp = fingerprint(input);
  let offset = 0;
  const token = str(input.NextToken, 'NextToken');
  if (token !== undefined) {
    const decoded = decodeToken(token) as { o?: unknown; f?: unknown } | undefined;
    if (!decoded || typeof decoded.o !== 'number' || decoded.f !== fp) {
      throw new CloudWatchApiError(
        'InvalidNextToken',
        'The service returned an error with Error Code InvalidNextToken: the token is not valid for this request.',
      );
    }
    offset = decoded.o;
  }
  const pageEnd = offset + maxDatapoints;
  const results: MetricResult[] = [];
  let base = 0;
  let total = 0;
  for (const e of evaluated) {
    const n = e.values.length;
    const from = Math.max(0, offset - base);
    const to = Math.min(n, pageEnd - base);
    const slice = to > from;
    if (offset === 0 || slice) {
      results.push({
        id: e.id,
        label: e.label,
        timestampsMs: slice ? e.timestampsMs.slice(from, to) : [],
        values: slice ? e.values.slice(from, to) : [],
        statusCode: base + n > pageEnd ? 'PartialData' : 'Complete',
      });
    }
    base += n;
    total += n;
  }
  return { results, nextToken: total > pageEnd ? encodeToken({ o: pageEnd, f: fp }) : undefined };
}

export interface ListMetricsOutput {
  metrics: MetricId[];
  nextToken?: string | undefined;
}

export function listMetrics(backend: LabBackend, input: Record<string, Json>): ListMetricsOutput {
  const namespace = str(input.Namespace, 'Namespace');
  const metricName = str(input.MetricName, 'MetricName');
  const dims = dimensions(input.Dimensions, 'Dimensions', false);
  if (dims.length > 10) {
    throw new CloudWatchApiError(
      'InvalidParameterValue',
      'The collection Dimensions must not have a size greater than 10.',
    );
  }
  const recently = str(input.RecentlyActive, 'RecentlyActive');
  if (recently !== undefined && recently !== 'PT3H') {
    throw new CloudWatchApiError(
      'ValidationError',
      `1 validation error detected: Value '${recently}' at 'recentlyActive' failed to satisfy constraint: Member must satisfy enum value set: [PT3H]`,
    );
  }
  const filter: Parameters<LabBackend['cloudwatch']['list']>[0] = {};
  if (namespace !== undefined) filter.namespace = namespace;
  if (metricName !== undefined) filter.metricName = metricName;
  if (dims.length > 0) filter.dimensions = dims;
  const all = [...backend.cloudwatch.list(filter)].sort((a, b) => {
    const ka = metricKey(a);
    const kb = metricKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  let offset = 0;
  const token = str(input.NextToken, 'NextToken');
  if (token !== undefined) {
    const decoded = decodeToken(token) as { o?: unknown } | undefined;
    if (!decoded || typeof decoded.o !== 'number' || decoded.o < 0) {
      throw new CloudWatchApiError(
        'InvalidNextToken',
        'The service returned an error with Error Code InvalidNextToken: the token is not valid.',
      );
    }
    offset = decoded.o;
  }
  const metrics = all.slice(offset, offset + LIST_METRICS_PAGE);
  const next =
    offset + LIST_METRICS_PAGE < all.length ? encodeToken({ o: offset + LIST_METRICS_PAGE }) : undefined;
  return { metrics, nextToken: next };
}

function metricKey(m: MetricId): string {
  return [m.namespace, m.metricName, ...m.dimensions.map((d) => `${d.name}=${d.value}`)].join('\u0000');
}

// ---------------------------------------------------------------------------------------------
// Query protocol: XML encoding (decoding and the envelopes are ./query.ts).

function dimsXml(m: MetricId): XmlNode {
  return memberList(
    'Dimensions',
    m.dimensions.map((d) => [el('Name', d.name), el('Value', d.value)]),
  );
}

// ---------------------------------------------------------------------------------------------
// Dispatch.

function errorResponse(req: AwsRequest, protocol: Protocol, err: CloudWatchApiError): AwsResponse {
  if (protocol === 'json') {
    const type = err.status >= 500 ? 'Receiver' : 'Sender';
    const name = JSON_ERROR_NAMES[err.code] ?? err.code;
    return {
      status: err.status,
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'x-amzn-RequestId': req.requestId,
        'x-amzn-query-error': `${err.code};${type}`,
      },
      body: JSON.stringify({ __type: `com.amazonaws.cloudwatch#${name}`, message: err.message }),
    };
  }
  return queryErrorResponse(CW_NS, req, err);
}

/** True if the request is CloudWatch by its shape (used when no credential scope says so). */
export function looksLikeCloudWatch(req: AwsRequest): boolean {
  const target = header(req, 'x-amz-target');
  if (target?.startsWith(CLOUDWATCH_TARGET_PREFIX)) return true;
  if (req.rawPath.startsWith('/service/GraniteServiceVersion20100801/')) return true;
  return isQueryForm(req);
}

/** Handles one request already routed to CloudWatch. */
export function handleCloudWatch(backend: LabBackend, req: AwsRequest): AwsResponse {
  const target = header(req, 'x-amz-target');
  const protocol: Protocol = target !== undefined ? 'json' : 'query';
  try {
    if (req.rawPath.startsWith('/service/')) {
      const op = req.rawPath.split('/')[4] ?? '(unknown)';
      throw new CloudWatchApiError(
        'InvalidAction',
        `The lab's CloudWatch does not speak the smithy-rpc-v2-cbor protocol (operation ${op}); use the AWS Query or JSON 1.0 protocol.`,
      );
    }
    let op: string;
    let input: Record<string, Json>;
    if (protocol === 'json') {
      op = target!.startsWith(CLOUDWATCH_TARGET_PREFIX)
        ? target!.slice(CLOUDWATCH_TARGET_PREFIX.length)
        : target!;
      try {
        const text = req.body.toString('utf8');
        const parsed = text.trim() === '' ? {} : (JSON.parse(text) as unknown);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not an object');
        input = parsed as Record<string, Json>;
      } catch {
        throw new CloudWatchApiError('InvalidQueryParameter', 'The request body is not a valid JSON object.');
      }
    } else {
      ({ action: op, input } = readQueryRequest(req));
    }
    if (op === 'GetMetricData') {
      const out = getMetricData(backend, input);
      if (protocol === 'json') {
        return json(req, {
          MetricDataResults: out.results.map((r) => ({
            Id: r.id,
            Label: r.label,
            Timestamps: r.timestampsMs.map((t) => t / 1000),
            Values: r.values,
            StatusCode: r.statusCode,
          })),
          ...(out.nextToken ? { NextToken: out.nextToken } : {}),
          Messages: [],
        });
      }
      return queryResponse(CW_NS, 'GetMetricData', req, [
        memberList(
          'MetricDataResults',
          out.results.map((r) => [
            el('Id', r.id),
            el('Label', r.label),
            members('Timestamps', r.timestampsMs.map(isoDate)),
            members('Values', r.values.map(String)),
            el('StatusCode', r.statusCode),
          ]),
        ),
        out.nextToken ? el('NextToken', out.nextToken) : undefined,
        el('Messages'),
      ]);
    }
    if (op === 'ListMetrics') {
      const out = listMetrics(backend, input);
      if (protocol === 'json') {
        return json(req, {
          Metrics: out.metrics.map((m) => ({
            Namespace: m.namespace,
            MetricName: m.metricName,
            Dimensions: m.dimensions.map((d) => ({ Name: d.name, Value: d.value })),
          })),
          ...(out.nextToken ? { NextToken: out.nextToken } : {}),
        });
      }
      return queryResponse(CW_NS, 'ListMetrics', req, [
        memberList(
          'Metrics',
          out.metrics.map((m) => [el('Namespace', m.namespace), el('MetricName', m.metricName), dimsXml(m)]),
        ),
        out.nextToken ? el('NextToken', out.nextToken) : undefined,
      ]);
    }
    throw new CloudWatchApiError(
      'InvalidAction',
      op === ''
        ? 'The request names no Action; the lab serves GetMetricData and ListMetrics.'
        : `The action ${op} is not valid for this web service: the lab's CloudWatch serves GetMetricData and ListMetrics.`,
    );
  } catch (err) {
    if (err instanceof CloudWatchApiError) return errorResponse(req, protocol, err);
    const message = err instanceof Error ? err.message : String(err);
    return errorResponse(req, protocol, new CloudWatchApiError('InternalServiceError', message, 500));
  }
}

function json(req: AwsRequest, body: unknown): AwsResponse {
  return {
    status: 200,
    headers: { 'Content-Type': 'application/x-amz-json-1.0', 'x-amzn-RequestId': req.requestId },
    body: JSON.stringify(body),
  };
}
