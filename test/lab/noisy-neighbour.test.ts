import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { builtinScenario, loadScenarioFile, startLab } from '../../src/lab/index.js';

describe('built-in noisy-neighbour', () => {
  test('about one ALB request in five fails with 502 LambdaThrottling while the worker runs', async () => {
    // Prepare
    const scenario = builtinScenario('noisy-neighbour')!;
    const lab = await startLab(scenario);
    try {
      // Act: let the worker take its share, then measure a bounded window.
      await new Promise((r) => setTimeout(r, 600));
      const before = lab.snapshot();
      await new Promise((r) => setTimeout(r, 3500));
      const after = lab.snapshot();
      // Assess
      const requests = after.alb.requests - before.alb.requests;
      const throttled =
        (after.alb.byErrorReason.LambdaThrottling ?? 0) - (before.alb.byErrorReason.LambdaThrottling ?? 0);
      const rate = throttled / requests;
      console.log({
        requests,
        throttled,
        rate,
        snapshot: after.functions,
        bg: after.background,
        traffic: after.traffic,
      });
      expect(requests).toBeGreaterThan(200);
      // Every 5xx the ALB gave in the window is a throttle: nothing else fails in this scenario.
      expect(after.alb.byElbStatus['502'] ?? 0).toBe(after.alb.byErrorReason.LambdaThrottling ?? 0);
      expect(rate).toBeGreaterThan(0.1);
      expect(rate).toBeLessThan(0.35);
      const worker = after.functions.find((f) => f.name === 'reports-worker')!;
      expect(worker.inFlight).toBe(16);
    } finally {
      await lab.close();
    }
  });
});

describe('example scenario with real handler modules', () => {
  test('scenarios/real-handlers.yaml serves its traffic through worker-thread handlers', async () => {
    const scenario = loadScenarioFile(
      fileURLToPath(new URL('../../scenarios/real-handlers.yaml', import.meta.url)),
    );
    const lab = await startLab(scenario);
    try {
      await new Promise((r) => setTimeout(r, 1200));
      const s = lab.snapshot();
      const orders = s.functions.find((f) => f.name === 'orders')!;
      expect(orders.invocations).toBeGreaterThan(5);
      expect(orders.errors).toBe(0);
      expect(orders.coldStarts).toBeGreaterThan(0);
      // Before the runaway starts (at 60 s) nothing is throttled.
      expect(s.alb.byErrorReason).toEqual({});
      const r = await fetch(`${lab.albUrl}/orders?status=open`, {
        headers: { 'x-amzn-trace-id': 'Root=1-5c536348-3d683b8b04734faae651f476' },
      });
      expect(r.status).toBe(200);
      expect(r.headers.get('cache-control')).toBe('no-store');
      const body = (await r.json()) as { orders: { id: string }[]; trace: string };
      expect(body.orders.map((o) => o.id)).toEqual(['o-1']);
      expect(body.trace).toMatch(/;Root=1-5c536348-3d683b8b04734faae651f476$/);
    } finally {
      await lab.close();
    }
  });
});

describe('built-in noisy-neighbour behind CloudFront', () => {
  test('a throttle becomes a masked 502 that CloudFront replays to the next viewer with Age; the ALB stays reachable', async () => {
    const lab = await startLab(builtinScenario('noisy-neighbour')!);
    try {
      const cf = lab.cloudfront!;
      expect(cf.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await new Promise((r) => setTimeout(r, 600));
      // Bounded: at most 300 requests or 15 s until a viewer gets the error.
      let first: Response | undefined;
      const deadline = Date.now() + 15_000;
      for (let i = 0; i < 300 && Date.now() < deadline; i++) {
        const r = await fetch(`${cf.url}/api/orders`);
        if (r.status === 502) {
          first = r;
          break;
        }
        await r.arrayBuffer();
        expect(r.headers.get('x-cache')).toBe('Miss from cloudfront');
      }
      expect(first).toBeDefined();
      const page = await first!.text();
      expect(page).toContain('Sorry, something went wrong.');
      expect(first!.headers.get('server')).toBe('AmazonS3');
      expect(first!.headers.get('x-cache')).toBe('Error from cloudfront');
      const replay = await fetch(`${cf.url}/api/orders`);
      expect(replay.status).toBe(502);
      expect(Number(replay.headers.get('age'))).toBeGreaterThanOrEqual(0);
      expect(await replay.text()).toBe(page);

      const direct = await fetch(`${lab.albUrl}/api/orders`);
      await direct.arrayBuffer();
      expect([200, 502]).toContain(direct.status);
      if (direct.status === 502) expect(direct.headers.get('server')).toBe('awselb/2.0');
      expect(direct.headers.get('x-cache')).toBeNull();
    } finally {
      await lab.close();
    }
  });
});
