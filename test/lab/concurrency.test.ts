import { describe, expect, test } from 'vitest';
import { ThrottleReason } from '../../src/common/concurrency/aws-limits.js';
import { PoolConfigError } from '../../src/common/concurrency/pool.js';
import { LambdaMetric, Namespace } from '../../src/lab/telemetry.js';
import { fixed, scenarioWith, sleep, testLab } from './helpers.js';

const count = (statuses: number[], s: number) => statuses.filter((x) => x === s).length;

describe('lab concurrency: exact throttling', () => {
  test('N simultaneous requests above the account limit: exactly N - limit throttled', async () => {
    // Prepare: limit 10, one function of fixed 1 s duration, 15 requests at once.
    const lab = await testLab(
      scenarioWith([fixed('slow', 1000)], { account: { concurrencyLimit: 10, unreservedMinimum: 1 } }),
    );
    try {
      // Act
      const results = await Promise.all(Array.from({ length: 15 }, () => lab.get('/slow')));
      await lab.flush();
      // Assess
      const statuses = results.map((r) => r.status);
      expect(count(statuses, 200)).toBe(10);
      expect(count(statuses, 502)).toBe(5);
      expect(lab.snapshot().alb.byErrorReason.LambdaThrottling).toBe(5);
      const fn = lab.snapshot().functions[0]!;
      expect(fn.throttles).toBe(5);
      expect(fn.invocations).toBe(10);
      const dims = [{ name: 'FunctionName', value: 'slow' }];
      expect(
        lab.metrics.total({
          namespace: Namespace.lambda,
          metricName: LambdaMetric.throttles,
          dimensions: dims,
        }),
      ).toBe(5);
      expect(
        lab.metrics.total({
          namespace: Namespace.lambda,
          metricName: LambdaMetric.invocations,
          dimensions: dims,
        }),
      ).toBe(10);
      const peak = lab.metrics.query(
        { namespace: Namespace.lambda, metricName: LambdaMetric.concurrentExecutions, dimensions: [] },
        'Maximum',
        60,
        0,
        Number.MAX_SAFE_INTEGER,
      );
      expect(Math.max(...peak.values)).toBe(10);
    } finally {
      await lab.close();
    }
  });

  test('reserved concurrency guarantees capacity while another function saturates the pool', async () => {
    // Prepare: limit 10; vip reserves 3, so the shared pool is 7.
    const lab = await testLab(
      scenarioWith([fixed('hog', 1000), fixed('vip', 1000, { reservedConcurrency: 3 })], {
        account: { concurrencyLimit: 10, unreservedMinimum: 1 },
      }),
    );
    try {
      // Act: the hog asks for 12 at once, then vip for 4.
      const hog = Array.from({ length: 12 }, () => lab.get('/hog'));
      await sleep(100);
      const vip = Array.from({ length: 4 }, () => lab.get('/vip'));
      const [h, v] = await Promise.all([Promise.all(hog), Promise.all(vip)]);
      // Assess: hog capped at the shared 7; vip gets exactly its 3, the 4th hits its own cap.
      expect(
        count(
          h.map((r) => r.status),
          200,
        ),
      ).toBe(7);
      expect(
        count(
          h.map((r) => r.status),
          502,
        ),
      ).toBe(5);
      expect(
        count(
          v.map((r) => r.status),
          200,
        ),
      ).toBe(3);
      expect(
        count(
          v.map((r) => r.status),
          502,
        ),
      ).toBe(1);
      expect(lab.snapshot().pool.functions.find((f) => f.name === 'vip')!.reserved).toBe(3);
    } finally {
      await lab.close();
    }
  });

  test('reserved 0 throttles every call, sync Invoke answers 429 with the reserved reason', async () => {
    const lab = await testLab(scenarioWith([fixed('off', 10, { reservedConcurrency: 0 })]));
    try {
      const results = await Promise.all(Array.from({ length: 5 }, () => lab.get('/off')));
      expect(results.every((r) => r.status === 502)).toBe(true);
      const r = await lab.backend.lambda.invoke('off', Buffer.from('{}'), 'RequestResponse');
      expect(r.statusCode).toBe(429);
      expect(r.error?.type).toBe('TooManyRequestsException');
      expect(r.error?.reason).toBe(ThrottleReason.reserved);
      expect(lab.snapshot().functions[0]!.throttles).toBe(6);
    } finally {
      await lab.close();
    }
  });

  test('the account pool throttles Invoke with ConcurrentInvocationLimitExceeded', async () => {
    const lab = await testLab(
      scenarioWith([fixed('f', 500)], { account: { concurrencyLimit: 3, unreservedMinimum: 1 } }),
    );
    try {
      const rs = await Promise.all(
        Array.from({ length: 5 }, () =>
          lab.backend.lambda.invoke('f', Buffer.from('{"a":1}'), 'RequestResponse'),
        ),
      );
      expect(rs.filter((r) => r.statusCode === 200)).toHaveLength(3);
      const throttled = rs.filter((r) => r.statusCode === 429);
      expect(throttled).toHaveLength(2);
      expect(throttled.every((r) => r.error?.reason === ThrottleReason.account)).toBe(true);
    } finally {
      await lab.close();
    }
  });

  test('the scaling rate limit throttles a burst with FunctionInvocationRateLimitExceeded', async () => {
    // Prepare: 3 new environments per 10 s (scaled-down AWS rule), plenty of pool.
    const lab = await testLab(
      scenarioWith([fixed('burst', 300)], {
        account: {
          concurrencyLimit: 100,
          unreservedMinimum: 10,
          scalingRate: { increment: 3, interval: '10s' },
        },
      }),
    );
    try {
      const rs = await Promise.all(
        Array.from({ length: 5 }, () =>
          lab.backend.lambda.invoke('burst', Buffer.alloc(0), 'RequestResponse'),
        ),
      );
      expect(rs.filter((r) => r.statusCode === 200)).toHaveLength(3);
      const throttled = rs.filter((r) => r.statusCode === 429);
      expect(throttled).toHaveLength(2);
      expect(throttled.every((r) => r.error?.reason === ThrottleReason.scaling)).toBe(true);
    } finally {
      await lab.close();
    }
  });

  test('PutFunctionConcurrency takes effect on live traffic; AWS refusals are PoolConfigErrors', async () => {
    const lab = await testLab(
      scenarioWith([fixed('a', 400), fixed('b', 400)], {
        account: { concurrencyLimit: 10, unreservedMinimum: 2 },
      }),
    );
    try {
      lab.backend.lambda.putReserved('a', 2);
      expect(lab.backend.lambda.getFunction('a')!.reserved).toBe(2);
      expect(lab.backend.lambda.account().unreservedConcurrentExecutions).toBe(8);
      const rs = await Promise.all(Array.from({ length: 4 }, () => lab.get('/a')));
      expect(
        count(
          rs.map((r) => r.status),
          200,
        ),
      ).toBe(2);
      expect(() => lab.backend.lambda.putReserved('b', 7)).toThrow(PoolConfigError);
      expect(() => lab.backend.lambda.putReserved('nope', 1)).toThrow(/Function not found/);
      lab.backend.lambda.deleteReserved('a');
      expect(lab.backend.lambda.getFunction('a')!.reserved).toBeUndefined();
      const again = await Promise.all(Array.from({ length: 4 }, () => lab.get('/a')));
      expect(
        count(
          again.map((r) => r.status),
          200,
        ),
      ).toBe(4);
    } finally {
      await lab.close();
    }
  });
});

describe('lab asynchronous invocations', () => {
  test('throttled Event invokes are retried with backoff 1 s, 2 s, 4 s ... until the maximum event age', async () => {
    // Prepare: lab time 1000x; reserved 0 so every attempt throttles; maximum event age 60 s.
    const lab = await testLab(
      scenarioWith([fixed('q', 10, { reservedConcurrency: 0, async: { maximumEventAge: '60s' } })], {
        timeScale: 1000,
      }),
    );
    try {
      // Act
      const r = await lab.backend.lambda.invoke('q', Buffer.from('{}'), 'Event');
      expect(r.statusCode).toBe(202);
      await sleep(300);
      // Assess: attempts at 0, 1, 3, 7, 15, 31 s; the next (63 s) is past the age: dropped.
      const dims = [{ name: 'FunctionName', value: 'q' }];
      expect(
        lab.metrics.total({
          namespace: Namespace.lambda,
          metricName: LambdaMetric.throttles,
          dimensions: dims,
        }),
      ).toBe(6);
      expect(
        lab.metrics.total({
          namespace: Namespace.lambda,
          metricName: LambdaMetric.asyncEventsDropped,
          dimensions: dims,
        }),
      ).toBe(1);
      expect(
        lab.metrics.total({
          namespace: Namespace.lambda,
          metricName: LambdaMetric.asyncEventsReceived,
          dimensions: dims,
        }),
      ).toBe(1);
    } finally {
      await lab.close();
    }
  });

  test('an async event runs once the function has room; failures are retried twice', async () => {
    const lab = await testLab(
      scenarioWith(
        [
          fixed('ok', 10),
          {
            name: 'bad',
            timeout: 5,
            synthetic: { duration: { kind: 'fixed', value: '10ms' }, errorRate: 1 },
          },
        ],
        { timeScale: 1000 },
      ),
    );
    try {
      await lab.backend.lambda.invoke('ok', Buffer.from('{}'), 'Event');
      await lab.backend.lambda.invoke('bad', Buffer.from('{}'), 'Event');
      // Errors retried after 60 s and 120 s of lab time: 180 ms of wall time at 1000x.
      await sleep(450);
      const snap = lab.snapshot();
      expect(snap.functions.find((f) => f.name === 'ok')!.invocations).toBe(1);
      expect(snap.functions.find((f) => f.name === 'bad')!.invocations).toBe(3);
      expect(snap.functions.find((f) => f.name === 'bad')!.errors).toBe(3);
    } finally {
      await lab.close();
    }
  });
});
