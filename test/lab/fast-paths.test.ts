import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Pool } from 'undici';
import { describe, expect, test } from 'vitest';
import { VirtualClock } from '../../src/common/clock.js';
import { ConcurrencyPool } from '../../src/common/concurrency/pool.js';
import { AccessLogWriter, LineBatch } from '../../src/lab/access-log.js';
import { buildAlbEvent } from '../../src/lab/alb/convert.js';
import {
  formatLabLine,
  isoMicros,
  LAB_LINE_TEMPLATE_CURRENT,
  type LabLogEntry,
  type LabLogLine,
  labLogLine,
  labRecord,
  putLabEntry,
  secondsText,
} from '../../src/lab/alb/log-line.js';
import { startLab } from '../../src/lab/index.js';
import { LambdaRuntime } from '../../src/lab/lambda/runtime.js';
import { MemoryMetricsStore, round4 } from '../../src/lab/metrics-store.js';
import { MemoryObjectStore } from '../../src/lab/object-store.js';
import { LabTelemetry, LambdaMetric, Namespace } from '../../src/lab/telemetry.js';
import { formatAlbLine } from '../../src/logs/format-line.js';
import { parseAlbLine } from '../../src/logs/parse-line.js';
import { accessLogOptions, fixed, handler, scenarioWith, sleep, testLab } from './helpers.js';

/**
 * The request path's shortcuts must not change what the lab produces: the access-log line
 * template against the generic writer, the seconds formatter against toFixed, the batched log
 * buffer against joined lines, synthetic functions that finish at once against the pool's
 * accounting, and the worker pool's reused timeout timer against real timeouts.
 */

const text = fc.string({ unit: 'binary', maxLength: 40 });
const seconds = fc.oneof(
  fc.constant(null),
  fc.double({ min: 0, max: 20_000, noNaN: true }),
  // Ties and near-ties at the third decimal, where rounding is decided.
  fc.integer({ min: 0, max: 20_000_000 }).map((k) => (k + 0.5) / 1000),
  fc.integer({ min: 0, max: 20_000_000 }).map((k) => k / 1000),
);
const line: fc.Arbitrary<LabLogLine> = fc.record({
  time: fc.constant('2026-11-25T10:00:00.123456Z'),
  timeMs: fc.constant(1_795_000_000_123),
  elb: fc.constant('app/lab/0123456789abcdef'),
  client: fc.oneof(fc.constant('127.0.0.1'), fc.constant('::1')),
  clientPort: fc.integer({ min: 0, max: 65_535 }),
  requestProcessingTime: seconds,
  targetProcessingTime: seconds,
  responseProcessingTime: seconds,
  elbStatusCode: fc.integer({ min: 100, max: 599 }),
  targetStatusCode: fc.option(fc.integer({ min: 100, max: 599 }), { nil: null }),
  receivedBytes: fc.nat(),
  sentBytes: fc.nat(),
  request: text,
  userAgent: fc.option(text, { nil: null }),
  targetGroupArn: fc.constant('arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/0123'),
  traceId: text,
  matchedRulePriority: fc.integer({ min: 0, max: 50_000 }),
  requestCreationTime: fc.constant('2026-11-25T10:00:00.100000Z'),
  errorReason: fc.option(text, { nil: null }),
  connTraceId: fc.option(fc.constant('TID_0123456789abcdef'), { nil: null }),
});

describe('access-log line template', () => {
  test('the template is in use (the shared field table has the layout it was written for)', () => {
    expect(LAB_LINE_TEMPLATE_CURRENT).toBe(true);
  });

  test('writes exactly what the generic writer writes, and the parser reads it back', () => {
    fc.assert(
      fc.property(line, (l) => {
        const written = formatLabLine(l);
        expect(written).toBe(formatAlbLine(labRecord(l)));
        expect(formatAlbLine(parseAlbLine(written))).toBe(written);
      }),
      { numRuns: 2000 },
    );
  });

  test('the line put as bytes is the template line in UTF-8, lone surrogates and escapes too', () => {
    // Any UTF-16 unit, lone surrogates included (a header value can carry any byte).
    const units = fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    });
    const anyText = fc.oneof(text, units);
    const ms = fc.oneof(
      fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) * 1000 }).map((us) => us / 1000),
      fc.double({ min: -1e14, max: 8.64e15, noNaN: true }),
    );
    const anyEntry = fc
      .record({
        rest: line,
        timeMs: ms,
        creationMs: ms,
        method: fc.oneof(fc.constantFrom('GET', 'POST'), anyText),
        host: fc.oneof(fc.constant('127.0.0.1'), anyText),
        port: fc.integer({ min: 0, max: 65_535 }),
        url: fc.oneof(fc.constant('/api?x=1'), anyText),
        httpVersion: fc.constantFrom('1.1', '1.0'),
        userAgent: fc.option(anyText, { nil: null }),
        traceId: anyText,
        errorReason: fc.option(units, { nil: null }),
      })
      .map(({ rest, ...e }): LabLogEntry => {
        const { time: _t, request: _r, requestCreationTime: _c, ...same } = rest;
        return { ...same, ...e };
      });
    // One batch for every run: each line lands after the ones before it, across chunk ends.
    const batch = new LineBatch();
    let lines = 0;
    fc.assert(
      fc.property(anyEntry, (e) => {
        const before = batch.bytes().length;
        putLabEntry(batch, e);
        lines++;
        const written = formatLabLine(labLogLine(e));
        expect(
          batch
            .bytes()
            .subarray(before)
            .equals(Buffer.from(`${written}\n`, 'utf8')),
        ).toBe(true);
      }),
      { numRuns: 3000 },
    );
    expect(batch.lines).toBe(lines);
  });

  test('a batch with a file header is the header, then every line, in one piece', () => {
    const batch = new LineBatch();
    const head = Buffer.from('#Version: 1.0\n#Fields: a b\n');
    expect(batch.bytes(head).equals(head)).toBe(true);
    // Past two 256 KiB chunks, so the lines span full chunks and the one being written.
    const lines: string[] = [];
    for (let i = 0; i < 6000; i++) {
      const line = `line ${i} ${'x'.repeat(i % 151)}`;
      lines.push(line);
      batch.add(line);
    }
    const text = `${head.toString()}${lines.map((l) => `${l}\n`).join('')}`;
    expect(batch.bytes(head).toString()).toBe(text);
    expect(batch.bytes().toString()).toBe(text.slice(head.length));
    batch.add('one more');
    expect(batch.bytes(head).toString()).toBe(`${text}one more\n`);
  });

  test('isoMicros is toISOString with microseconds', () => {
    // Eighths of a millisecond are exact in binary: 0, 125, ... 875 microseconds past the millisecond.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }),
        fc.integer({ min: 0, max: 7 }),
        (ms, k) => {
          const iso = new Date(ms).toISOString();
          expect(isoMicros(ms + k / 8)).toBe(`${iso.slice(0, 23)}${String(k * 125).padStart(3, '0')}Z`);
        },
      ),
    );
  });

  test('seconds are toFixed(3), ties and all', () => {
    fc.assert(
      fc.property(seconds, (s) => {
        expect(secondsText(s)).toBe(s === null ? '-1' : s.toFixed(3));
      }),
      { numRuns: 20_000 },
    );
    for (const s of [0, 0.0005, 0.0015, 0.0025, 1.0005, 9999.9995, 10_000, 123_456.789]) {
      expect(secondsText(s)).toBe(s.toFixed(3));
    }
  });
});

describe('metric values to 4 significant digits', () => {
  test('round4 is Number(v.toPrecision(4)), ties and all', () => {
    const ties = fc
      .tuple(fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: -15, max: 15 }), fc.boolean())
      .map(([n, e, neg]) => (neg ? -1 : 1) * (n + 0.5) * 10 ** e);
    fc.assert(
      fc.property(fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), ties), (v) => {
        expect(Object.is(round4(v), Number(v.toPrecision(4)))).toBe(true);
      }),
      { numRuns: 50_000 },
    );
  });
});

describe('access-log buffers', () => {
  test('a delivered file is the lines joined by newlines, whatever their characters', async () => {
    const clock = new VirtualClock(1_795_000_000_000);
    const store = new MemoryObjectStore(() => clock.now());
    store.createBucket('logs');
    const w = new AccessLogWriter(accessLogOptions(store, clock));
    const lines = [
      'plain',
      'é and 漢字 and 🙂',
      'lone surrogates \ud800 and \udc00',
      'x'.repeat(300_000),
      '',
      ...Array.from({ length: 2000 }, (_, i) => `line ${i} ${'y'.repeat(i % 300)}`),
    ];
    for (const l of lines) w.writeLine(l, clock.now());
    expect(w.status().pendingLines).toBe(lines.length);
    await w.flush();
    const [object] = store.list('logs', '');
    expect(gunzipSync(object!.body).equals(Buffer.from(`${lines.join('\n')}\n`, 'utf8'))).toBe(true);
    expect(w.status()).toMatchObject({
      linesWritten: lines.length,
      linesDelivered: lines.length,
      pendingLines: 0,
    });
  });
});

describe('event building from the front', () => {
  test('names already lower case and the body headers given: the same event', () => {
    const raw = ['host', 'h', 'content-type', 'text/plain', 'x-a', '1', 'content-encoding', 'identity'];
    for (const multiValueHeaders of [false, true]) {
      const common = {
        method: 'POST',
        url: '/p?a=1&a=2&b',
        body: Buffer.from('hi'),
        targetGroupArn: 'arn:tg',
        multiValueHeaders,
      };
      expect(
        buildAlbEvent({
          ...common,
          rawHeaders: raw,
          namesLowerCase: true,
          contentType: 'text/plain',
          contentEncoding: 'identity',
        }),
      ).toEqual(buildAlbEvent({ ...common, rawHeaders: raw }));
    }
  });
});

describe('synthetic functions with no duration', () => {
  /** A runtime with one function: by default `f`, synthetic, no duration. */
  function runtimeFor(
    reserved?: number,
    fn = fixed('f', 0, reserved === undefined ? {} : { reservedConcurrency: reserved }),
  ) {
    const clock = new VirtualClock(0);
    const scenario = scenarioWith([fn]);
    const pool = new ConcurrencyPool({ accountLimit: 10, unreservedMinimum: 0 }, [
      { name: fn.name, reserved },
    ]);
    const metrics = new MemoryMetricsStore();
    const runtime = new LambdaRuntime({
      functions: scenario.functions,
      pool,
      clock,
      timeScale: 1,
      telemetry: new LabTelemetry(metrics, 'app/lab/0123456789abcdef'),
      region: 'us-east-1',
      accountId: '123456789012',
    });
    return { runtime, pool, metrics };
  }

  test('the outcome is there at once; the slot is held until the next microtask, then counted', async () => {
    const { runtime, pool, metrics } = runtimeFor();
    const started = runtime.start('f', {}, 'alb');
    if (started.kind !== 'started') throw new Error(started.kind);
    expect(started.outcome).toMatchObject({ kind: 'ok', durationMs: 0 });
    expect(pool.inFlightOf(0)).toBe(1);
    expect(runtime.counters('f')?.invocations).toBe(0);
    expect(await started.done).toBe(started.outcome);
    expect(pool.inFlightOf(0)).toBe(0);
    expect(runtime.counters('f')?.invocations).toBe(1);
    const invocations = { namespace: Namespace.lambda, metricName: LambdaMetric.invocations };
    expect(metrics.total({ ...invocations, dimensions: [{ name: 'FunctionName', value: 'f' }] })).toBe(1);
    expect(metrics.total({ ...invocations, dimensions: [] })).toBe(1);
    await runtime.close(0);
  });

  test('answer from their model without an event (the ALB skips building it); a handler reads it', async () => {
    const { runtime } = runtimeFor();
    expect(runtime.readsEvent('f')).toBe(false);
    const started = runtime.start('f', undefined, 'alb');
    if (started.kind !== 'started') throw new Error(started.kind);
    expect(started.outcome).toMatchObject({ kind: 'ok', durationMs: 0 });
    await started.done;
    const { runtime: withHandler } = runtimeFor(undefined, handler('h', 'echo.mjs'));
    expect(withHandler.readsEvent('h')).toBe(true);
    await Promise.all([runtime.close(0), withHandler.close(0)]);
  });

  test('starting several in one go sees them all in flight, as before (reserved 2: the third throttles)', async () => {
    const { runtime, pool } = runtimeFor(2);
    const kinds = [1, 2, 3].map(() => runtime.start('f', {}, 'queue').kind);
    expect(kinds).toEqual(['started', 'started', 'throttled']);
    expect(pool.inFlightOf(0)).toBe(2);
    await Promise.resolve();
    expect(pool.inFlightOf(0)).toBe(0);
    await runtime.close(0);
  });
});

describe('ALB front under concurrent load', () => {
  test('every response arrives, with one log line and one count each', async () => {
    // Room for all 300 at once: throttling (the test scenarios' limit is 50) is not what this tests.
    const lab = await testLab(
      scenarioWith([fixed('instant', 0), handler('ok', 'ok.mjs')], {
        account: { concurrencyLimit: 400, unreservedMinimum: 5 },
      }),
    );
    try {
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => lab.get(i % 3 === 0 ? '/ok' : '/instant')),
      );
      expect({
        failed: results.filter((r) => r.status !== 200).length,
        reasons: lab.snapshot().alb.byErrorReason,
      }).toEqual({ failed: 0, reasons: {} });
      await lab.flush();
      const bucket = lab.scenario.loadBalancer.accessLogs.bucket;
      const logged = lab.backend.s3
        .list(bucket, '')
        .flatMap((o) => gunzipSync(o.body).toString('utf8').split('\n'))
        .filter((l) => l !== '');
      expect(logged).toHaveLength(300);
      expect(logged.every((l) => parseAlbLine(l).elbStatusCode === 200)).toBe(true);
      expect(lab.snapshot().alb.requests).toBe(300);
    } finally {
      await lab.close();
    }
  });

  test('close() lets requests in flight finish and sends their responses before it cuts connections', async () => {
    const lab = await startLab(scenarioWith([fixed('f', 50)]), { sources: false });
    const http = new Pool(lab.albUrl, { connections: 20 });
    try {
      const pending = Array.from({ length: 20 }, () =>
        http.request({ path: '/f', method: 'GET' }).then(async (r) => {
          await r.body.dump();
          return r.statusCode;
        }),
      );
      await sleep(20);
      const closing = lab.close();
      expect(await Promise.all(pending)).toEqual(Array(20).fill(200));
      await closing;
    } finally {
      await http.destroy();
      await lab.close();
    }
  });
});

describe('worker timeouts with the reused timer', () => {
  test('back-to-back invocations each get their own full timeout; a hang is still cut at its timeout', async () => {
    // Timeout 1 s; slow.mjs answers after 300 ms. Four in a row on one worker span 1.2 s, past
    // the first invocation's deadline: none may time out.
    const lab = await testLab(
      scenarioWith([
        handler('slow', 'slow.mjs', { timeout: 1, handler: { module: 'slow.mjs', maxWorkers: 1 } }),
      ]),
    );
    try {
      for (let i = 0; i < 4; i++) expect((await lab.get('/slow')).status).toBe(200);
      expect(lab.snapshot().functions[0]).toMatchObject({ workers: 1, coldStarts: 1, errors: 0 });
    } finally {
      await lab.close();
    }
    const hang = await testLab(
      scenarioWith([
        handler('hangs', 'hangs.mjs', { timeout: 1, handler: { module: 'hangs.mjs', maxWorkers: 1 } }),
      ]),
    );
    try {
      const t0 = performance.now();
      expect((await hang.get('/hangs')).status).toBe(502);
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(950);
      expect(took).toBeLessThan(2500);
      expect(hang.snapshot().functions[0]).toMatchObject({ workers: 0, errors: 1 });
    } finally {
      await hang.close();
    }
  });
});
