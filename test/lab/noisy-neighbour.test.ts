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
