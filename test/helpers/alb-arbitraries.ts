import fc from 'fast-check';
import { ALB_FIELDS, MIN_FIELD_COUNT } from '../../src/logs/fields.js';
import { formatAlbLine } from '../../src/logs/format-line.js';
import { albRecord } from '../../src/logs/record.js';
import type { AlbLineFields } from '../../src/logs/scan-line.js';
import {
  DOC_AUTH_NONCE_INVALID,
  DOC_AUTH_NONCE_MISSING,
  DOC_AUTH_TOKEN_TIMEOUT,
  DOC_HTTPS,
  DOC_LAMBDA_FAILED,
  lambdaLine,
  TG_API,
  TG_WEB,
  THROTTLED_NEW,
} from './alb-lines.js';

// Lines for property tests of the line scanners: real ones, written ones, and ones built to hit
// every fast path of a scanner and every way out of it.

/** The fields a scanner reads, as plain data (the request line only where aggregation reads it: 5xx). */
export const projectFields = (r: AlbLineFields): AlbLineFields => ({
  timeMs: r.timeMs,
  time: r.time,
  elbStatusCode: r.elbStatusCode,
  errorReason: r.errorReason,
  targetGroupArn: r.targetGroupArn,
  request: r.elbStatusCode !== null && r.elbStatusCode >= 500 ? r.request : null,
});

export const REAL_LINES = [
  DOC_LAMBDA_FAILED,
  DOC_HTTPS,
  THROTTLED_NEW,
  DOC_AUTH_NONCE_MISSING,
  DOC_AUTH_NONCE_INVALID,
  DOC_AUTH_TOKEN_TIMEOUT,
  lambdaLine(Date.parse('2026-11-24T10:00:00Z'), { reason: 'LambdaUnhandled', path: '/a?b=1' }),
  lambdaLine(Date.parse('2026-11-24T23:59:59Z'), { tg: TG_WEB }),
];

// Tokens chosen to hit every fast path and every way out of it, column by column.
export const TRICKY_TOKENS = [
  '-',
  '"-"',
  '""',
  '"',
  '"-',
  '-"',
  '--',
  '"--"',
  '-1',
  '"-1"',
  '-12',
  '-2',
  '-0',
  '-01',
  '-1.0',
  '-1-',
  '0',
  '00',
  '200',
  '502',
  '099',
  '1000',
  '99',
  '12a',
  '0.000',
  '0.0001',
  '1.',
  '.5',
  '1.2.3',
  '0.5x',
  '"0.001"',
  '2026-11-24T10:15:02.512003Z',
  '2026-11-24T10:15:02.512003Z"',
  '"2026-11-24T10:15:02.512003Z"',
  '2026-11-24T10:15:02Z',
  '2026-11-24T10:15:02.5Z',
  '2026-11-24T10:15:02.5120031Z',
  '2026-13-24T10:15:02.512003Z',
  '2026-11-24T24:15:02.512003Z',
  '2026-11-24T10:15:60.512003Z',
  '2026-11-24T10:15:61.512003Z',
  '0050-01-01T00:00:00.000000Z',
  '2026-02-31T10:15:02.512003Z',
  '2026-11-24t10:15:02.512003Z',
  '1.2.3.4:80',
  '1.2.3.4:',
  ':80',
  '1.2.3.4:08',
  '2001:db8::1:443',
  '[2001:db8::1]:443',
  '[::1]:80',
  '"1.2.3.4:80"',
  'http',
  'https',
  '"https"',
  'a"b',
  '"a\\"b"',
  '"a\\\\b"',
  '"\\x2d"',
  '"\\x41"',
  '"\\x"',
  '"\\q"',
  '"a b"',
  '"GET https://h:443/p?q=1 HTTP/1.1"',
  '"- - - "',
  '"- - -"',
  '"- http://host:80- -"',
  'LambdaThrottling',
  '"LambdaThrottling"',
  TG_API,
  TG_WEB,
  `"${TG_API}"`,
  '\r',
  '"\t"',
  'é',
  '"é\\"x"',
];

/** A line of `count` tricky tokens (or a real line's tokens with some replaced), joined by spaces. */
export const tokenSoup = fc
  .tuple(
    fc.array(fc.constantFrom(...TRICKY_TOKENS), { minLength: 0, maxLength: ALB_FIELDS.length + 3 }),
    fc.constantFrom(' ', ' ', ' ', '  '),
    fc.constantFrom('', '', ' ', '\r', ' \r'),
  )
  .map(([tokens, sep, end]) => tokens.join(sep) + end);

export const realWithReplacements = fc
  .tuple(
    fc.constantFrom(...REAL_LINES),
    fc.array(fc.tuple(fc.nat(), fc.constantFrom(...TRICKY_TOKENS)), { maxLength: 3 }),
    fc.nat(40),
  )
  .map(([line, replacements, cut]) => {
    // Split on spaces outside quotes (good enough for these lines) and swap tokens.
    const tokens = line.match(/"(?:[^"\\]|\\.)*"|[^ ]+/g) ?? [];
    for (const [at, token] of replacements) tokens[at % tokens.length] = token;
    // Sometimes drop trailing fields (older layouts, or too few).
    const keep = cut < 30 ? tokens.length : Math.max(0, tokens.length - (cut - 29) * 3);
    return tokens.slice(0, keep).join(' ');
  });

export const mutatedReal = fc
  .tuple(fc.constantFrom(...REAL_LINES), fc.nat(), fc.string({ unit: 'binary', maxLength: 4 }), fc.nat(3))
  .map(([line, at, insert, del]) => {
    const i = at % (line.length + 1);
    return line.slice(0, i) + insert + line.slice(i + del);
  });

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('-', 'a b', 'x"y', 'back\\slash', 'tab\tch', '\\x41'),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
/** Times as the ALB writes them (microseconds), and the shorter forms the parser also accepts. */
const iso = fc
  .tuple(
    fc.integer({ min: Date.parse('2016-08-11T00:00:00Z'), max: Date.parse('2030-01-01T00:00:00Z') }),
    fc.constantFrom(6, 6, 6, 0, 1, 2, 3, 9),
  )
  .map(([t, digits]) => {
    const base = new Date(t).toISOString().slice(0, 19);
    const frac = `${String(t % 1000).padStart(3, '0')}456789`.slice(0, digits);
    return digits === 0 ? `${base}Z` : `${base}.${frac}Z`;
  });

/** Valid entries written by our writer: every field kind, present and absent. */
export const writtenRecord = fc
  .record({
    type: fc.constantFrom('http', 'https', 'h2', 'grpcs', 'ws', 'wss'),
    time: iso,
    client: maybe(fc.constantFrom('10.0.0.1', '2001:db8::1', '::1')),
    target: maybe(fc.constantFrom('10.0.0.9', '2001:db8::9')),
    port: fc.integer({ min: 1, max: 65535 }),
    times: fc.tuple(
      maybe(fc.integer({ min: 0, max: 600_000 }).map((n) => n / 1000)),
      maybe(fc.integer({ min: 0, max: 600_000 }).map((n) => n / 1000)),
      maybe(fc.integer({ min: 0, max: 600_000 }).map((n) => n / 1000)),
    ),
    elbStatusCode: maybe(fc.integer({ min: 100, max: 999 })),
    request: maybe(
      fc.oneof(
        text,
        fc
          .tuple(fc.constantFrom('GET', 'POST'), fc.constantFrom('/', '/a b', '/p?q', 'https://h:443/x?y'))
          .map(([m, u]) => `${m} ${u} HTTP/1.1`),
      ),
    ),
    userAgent: maybe(text),
    targetGroupArn: maybe(fc.constantFrom(TG_API, TG_WEB, 'targetgroup/x/1', 'weird arn"')),
    errorReason: maybe(fc.oneof(text, fc.constantFrom('LambdaThrottling', 'LambdaUnhandled'))),
    requestCreationTime: maybe(iso),
    matchedRulePriority: maybe(fc.constantFrom(-1, 0, 1, 7, 50_000)),
    fieldCount: fc.integer({ min: MIN_FIELD_COUNT, max: ALB_FIELDS.length }),
    extra: fc.option(fc.array(fc.constantFrom('"future"', '42', 'x'), { minLength: 1, maxLength: 2 }), {
      nil: undefined,
    }),
  })
  .map((g) =>
    formatAlbLine(
      albRecord({
        type: g.type,
        time: g.time,
        elb: 'app/my-lb/50dc6c495c0c9188',
        client: g.client,
        clientPort: g.client === null ? null : g.port,
        target: g.target,
        targetPort: g.target === null ? null : g.port,
        requestProcessingTime: g.times[0],
        targetProcessingTime: g.times[1],
        responseProcessingTime: g.times[2],
        elbStatusCode: g.elbStatusCode,
        request: g.request,
        userAgent: g.userAgent,
        // Unquoted fields must not contain spaces or start with a quote to stay valid; the
        // weird ones still exercise both paths (both reject them the same way).
        targetGroupArn: g.targetGroupArn,
        matchedRulePriority: g.fieldCount > 20 ? g.matchedRulePriority : null,
        requestCreationTime: g.fieldCount > 21 ? g.requestCreationTime : null,
        errorReason: g.fieldCount > 24 ? g.errorReason : null,
        fieldCount: g.fieldCount,
        extra: g.fieldCount === ALB_FIELDS.length ? g.extra : undefined,
      }),
    ),
  );

export const neighbour = fc.oneof(
  fc.constant(''),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('"', ' ', '\\', 'ab"cd', '00 11', '"\\x41 "', 'Z '),
  fc.constantFrom(...REAL_LINES),
);
