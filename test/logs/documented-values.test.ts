import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyseAlbLogs } from '../../src/logs/analyse.js';
import { ALB_FIELDS } from '../../src/logs/fields.js';
import { formatAlbLine } from '../../src/logs/format-line.js';
import { AlbParseError, parseAlbLine } from '../../src/logs/parse-line.js';
import { albRecord } from '../../src/logs/record.js';
import { type AlbLineFields, AlbLineScanner } from '../../src/logs/scan-line.js';
import { WasmBlockScanner, type WasmLineFields } from '../../src/logs/wasm-scanner.js';
import { projectFields } from '../helpers/alb-arbitraries.js';
import {
  DOC_AUTH_NONCE_INVALID,
  DOC_AUTH_NONCE_MISSING,
  DOC_AUTH_TOKEN_TIMEOUT,
  DOC_HTTPS,
} from '../helpers/alb-lines.js';

// Every value the AWS field table documents (aws-facts.md §1.2, from ALB-LOGS), one by one, through
// the parser, the writer and both line scanners. Each case starts from the documentation's HTTPS
// example in the current layout (conn_trace_id and the three transform fields appended) and
// replaces the fields the case is about.

const BASE_TOKENS = (
  `${DOC_HTTPS} TID_3180a73013c8ca4bac2f731159d4b0fe "-" "-" "-"`.match(/"(?:[^"\\]|\\.)*"|[^ ]+/g) ?? []
).slice();
const COLUMN = new Map<string, number>(ALB_FIELDS.map((f, i) => [f.name, i]));

/** The base line with the named fields replaced by the given tokens (as written in the log). */
function withFields(values: Record<string, string>): string {
  const tokens = BASE_TOKENS.slice();
  for (const [name, token] of Object.entries(values)) {
    const column = COLUMN.get(name);
    if (column === undefined) throw new Error(`no field ${name}`);
    tokens[column] = token;
  }
  return tokens.join(' ');
}

const wasm = WasmBlockScanner.create();

/** The WebAssembly scanner's reading of one line: its fields, or 'handed back' to the JavaScript scanner. */
function viaWasm(line: string): AlbLineFields | 'handed back' {
  if (wasm === null) throw new Error('the WebAssembly scanner is not built (npm run build:wasm)');
  const body = Buffer.from(`${line}\n`);
  let out: AlbLineFields | 'handed back' | undefined;
  wasm.read(body, 0, body.length, {
    fields: (f: WasmLineFields) => {
      out = projectFields(f);
    },
    empty: () => {
      out = 'handed back';
    },
    other: () => {
      out = 'handed back';
    },
  });
  if (out === undefined) throw new Error('the WebAssembly scanner saw no line');
  return out;
}

const viaJs = (line: string): AlbLineFields => projectFields(new AlbLineScanner().scanLine(line));

/** Parser, writer and JavaScript scanner accept the line and agree; the WebAssembly scanner agrees or hands it back. */
function expectAccepted(line: string, wasmMustAccept: boolean) {
  const record = parseAlbLine(line);
  expect(formatAlbLine(record)).toBe(line);
  const js = viaJs(line);
  expect(js).toEqual(projectFields(record));
  const w = viaWasm(line);
  if (wasmMustAccept) expect(w).toEqual(js);
  else if (w !== 'handed back') expect(w).toEqual(js);
  return record;
}

describe('matched_rule_priority -1 (an error during rules evaluation)', () => {
  it.each([
    ['AuthMissingAWSALBAuthNonce', DOC_AUTH_NONCE_MISSING, 401],
    ['AuthInvalidAWSALBAuthNonce', DOC_AUTH_NONCE_INVALID, 401],
    ['AuthTokenEpRequestTimeout', DOC_AUTH_TOKEN_TIMEOUT, 500],
  ])('an authentication failure (%s) parses in the parser and both scanners', (reason, line, status) => {
    const r = expectAccepted(line, true);
    expect(r.matchedRulePriority).toBe(-1);
    expect(r.elbStatusCode).toBe(status);
    expect(r.errorReason).toBe(reason);
    expect(r.actionsExecuted).toBe('authenticate');
    expect([r.target, r.targetGroupArn, r.targetStatusCode]).toEqual([null, null, null]);
    expect([r.requestProcessingTime, r.targetProcessingTime, r.responseProcessingTime]).toEqual([
      null,
      null,
      null,
    ]);
    const w = viaWasm(line);
    expect(w).not.toBe('handed back');
    expect((w as AlbLineFields).elbStatusCode).toBe(status);
    expect((w as AlbLineFields).errorReason).toBe(reason);
  });

  it('the writer writes -1 back, and the other documented priorities too', () => {
    for (const p of [-1, 0, 1, 50_000]) {
      const line = formatAlbLine(
        albRecord({
          type: 'https',
          time: '2018-07-02T22:23:00.186641Z',
          elb: 'app/x/1',
          matchedRulePriority: p,
        }),
      );
      expect(line.split(' ')[20]).toBe(String(p));
      expect(parseAlbLine(line).matchedRulePriority).toBe(p);
    }
    expect(expectAccepted(withFields({ matched_rule_priority: '-' }), true).matchedRulePriority).toBeNull();
  });

  it.each(['-2', '-0', '-01', '-1.0', '--1', '-1-'])(
    'still rejects %s (no other negative value is documented), in both scanners alike',
    (token) => {
      const line = withFields({ matched_rule_priority: token });
      expect(() => parseAlbLine(line)).toThrow(AlbParseError);
      expect(() => viaJs(line)).toThrow(/matched_rule_priority \(column 21\)/);
      expect(viaWasm(line)).toBe('handed back');
    },
  );

  it('names -1 among the accepted values when a priority is wrong', () => {
    expect(() => parseAlbLine(withFields({ matched_rule_priority: 'x' }))).toThrow(
      'field matched_rule_priority (column 21): expected an integer, -1 or -, got "x"',
    );
  });

  it('counts the authentication failures by status and reason in an analysis of a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ts-auth-'));
    const file = join(dir, 'auth.log');
    await writeFile(file, `${[DOC_AUTH_NONCE_MISSING, DOC_AUTH_NONCE_INVALID, DOC_HTTPS].join('\n')}\n`);
    const { summary } = await analyseAlbLogs([file], {});
    expect(summary.malformed).toBe(0);
    expect(summary.lines).toBe(3);
    expect(summary.byElbStatus).toEqual({ '200': 1, '401': 2 });
    expect(summary.byErrorReason).toEqual({ AuthMissingAWSALBAuthNonce: 1, AuthInvalidAWSALBAuthNonce: 1 });
  });
});

describe('every documented value of the field table', () => {
  // [what, fields to replace, whether the WebAssembly scanner reads it itself, checks on the record]
  const cases: [string, Record<string, string>, boolean, (r: ReturnType<typeof parseAlbLine>) => void][] = [
    ...['http', 'https', 'h2', 'grpcs', 'ws', 'wss'].map((t): (typeof cases)[number] => [
      `type ${t}`,
      { type: t },
      true,
      (r) => expect(r.type).toBe(t),
    ]),
    // AWS: "ignore any other value"; it is kept, not rejected.
    ['a type AWS may add later', { type: 'h3' }, true, (r) => expect(r.type).toBe('h3')],
    [
      'IPv6 client without brackets (port after the last colon)',
      { 'client:port': '2001:db8::7:51234' },
      true,
      (r) => expect([r.client, r.clientPort]).toEqual(['2001:db8::7', 51234]),
    ],
    [
      'IPv6 client in brackets',
      { 'client:port': '[2001:db8::7]:51234' },
      true,
      (r) => expect([r.client, r.clientPort]).toEqual(['[2001:db8::7]', 51234]),
    ],
    [
      'IPv6 target, both forms',
      { 'target:port': '[2001:db8::9]:80', 'target:port_list': '"2001:db8::9:80"' },
      true,
      (r) =>
        expect([r.target, r.targetPort, r.targetPortList]).toEqual(['[2001:db8::9]', 80, '2001:db8::9:80']),
    ],
    [
      'target - (a Lambda target, an incomplete request, a WAF block)',
      { 'target:port': '-', 'target:port_list': '"-"', target_status_code_list: '"-"' },
      true,
      (r) => expect([r.target, r.targetPort, r.targetPortList]).toEqual([null, null, null]),
    ],
    [
      'processing times -1 (not dispatched, no answer)',
      { request_processing_time: '-1', target_processing_time: '-1', response_processing_time: '-1' },
      true,
      (r) => expect(r.requestProcessingTime).toBeNull(),
    ],
    [
      'a real LambdaInvalidResponse timing: 0.008 0.042 -1',
      { request_processing_time: '0.008', target_processing_time: '0.042', response_processing_time: '-1' },
      true,
      (r) =>
        expect([r.requestProcessingTime, r.targetProcessingTime, r.responseProcessingTime]).toEqual([
          0.008,
          0.042,
          null,
        ]),
    ],
    ...['460', '463', '464', '561', '403', '502', '503', '504'].map((s): (typeof cases)[number] => [
      `elb_status_code ${s}`,
      { elb_status_code: s, target_status_code: '-' },
      true,
      (r) => expect([r.elbStatusCode, r.targetStatusCode]).toEqual([Number(s), null]),
    ]),
    ['zero bytes', { received_bytes: '0', sent_bytes: '0' }, true, (r) => expect(r.sentBytes).toBe(0)],
    [
      'request "- - -" (malformed request)',
      { request: '"- - -"', elb_status_code: '400' },
      true,
      (r) => expect(r.request).toBe('- - -'),
    ],
    [
      'request "- http://host:80- -" (malformed request)',
      { request: '"- http://www.example.com:80- -"', elb_status_code: '400' },
      true,
      (r) => expect(r.request).toBe('- http://www.example.com:80- -'),
    ],
    [
      'request "- - -" on a 5xx (its path is counted)',
      { request: '"- - -"', elb_status_code: '502' },
      true,
      (r) => expect(r.request).toBe('- - -'),
    ],
    ['user_agent "-"', { user_agent: '"-"' }, true, (r) => expect(r.userAgent).toBeNull()],
    ['ssl fields -', { ssl_cipher: '-', ssl_protocol: '-' }, true, (r) => expect(r.sslCipher).toBeNull()],
    ['target_group_arn -', { target_group_arn: '-' }, true, (r) => expect(r.targetGroupArn).toBeNull()],
    ['domain_name "-"', { domain_name: '"-"' }, true, (r) => expect(r.domainName).toBeNull()],
    [
      'chosen_cert_arn "session-reused"',
      { chosen_cert_arn: '"session-reused"' },
      true,
      (r) => expect(r.chosenCertArn).toBe('session-reused'),
    ],
    [
      'matched_rule_priority 50000',
      { matched_rule_priority: '50000' },
      true,
      (r) => expect(r.matchedRulePriority).toBe(50_000),
    ],
    ...['waf', 'waf-failed', 'fixed-response', 'redirect', 'authenticate,forward', 'waf,forward'].map(
      (a): (typeof cases)[number] => [
        `actions_executed ${a}`,
        { actions_executed: `"${a}"` },
        true,
        (r) => expect(r.actionsExecuted).toBe(a),
      ],
    ),
    ['actions_executed "-"', { actions_executed: '"-"' }, true, (r) => expect(r.actionsExecuted).toBeNull()],
    [
      'redirect_url',
      { redirect_url: '"https://example.com:80/"' },
      true,
      (r) => expect(r.redirectUrl).toBe('https://example.com:80/'),
    ],
    [
      'target lists with more than one item',
      { 'target:port_list': '"10.0.0.1:80 10.0.0.2:80"', target_status_code_list: '"200 200"' },
      true,
      (r) => expect(r.targetStatusCodeList).toBe('200 200'),
    ],
    [
      'target lists unquoted (seen in some logs)',
      { 'target:port_list': '10.0.0.1:80', target_status_code_list: '200' },
      false,
      (r) => expect(r.targetPortList).toBe('10.0.0.1:80'),
    ],
    ...[
      ['Acceptable', 'SpaceInUri'],
      ['Ambiguous', 'DuplicateContentLength'],
      ['Severe', 'BadContentLength'],
    ].map(([c, reason]): (typeof cases)[number] => [
      `classification ${c}`,
      { classification: `"${c}"`, classification_reason: `"${reason}"` },
      true,
      (r) => expect([r.classification, r.classificationReason]).toEqual([c, reason]),
    ]),
    ['conn_trace_id -', { conn_trace_id: '-' }, true, (r) => expect(r.connTraceId).toBeNull()],
    [
      'transform fields with values',
      {
        transformed_host: '"api.example.com"',
        transformed_uri: '"/v2/cart"',
        request_transform_status: '"TransformSuccess"',
      },
      true,
      (r) => expect(r.requestTransformStatus).toBe('TransformSuccess'),
    ],
  ];

  it.each(cases)('%s', (_what, fields, wasmReads, check) => {
    check(expectAccepted(withFields(fields), wasmReads));
  });

  it('keeps trailing fields after conn_trace_id: the ALB node IP (a 34th field) and the pre-release "-"', () => {
    const base = withFields({});
    for (const tail of [' 10.0.3.17', ' -', ' 10.0.3.17 -', ' "-" "-"']) {
      const r = expectAccepted(base + tail, true);
      expect(r.extra).toEqual(tail.trim().split(' '));
      expect(r.fieldCount).toBe(ALB_FIELDS.length);
    }
    // A layout that stops right after conn_trace_id (2024-05 to 2025-08) parses too.
    const upToTid = BASE_TOKENS.slice(0, COLUMN.get('conn_trace_id')! + 1).join(' ');
    expect(expectAccepted(upToTid, true).connTraceId).toBe('TID_3180a73013c8ca4bac2f731159d4b0fe');
  });
});
