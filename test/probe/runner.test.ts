import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runProbe } from '../../src/probe/runner.js';
import { alb502, closedPortUrl, ok, startServer } from './servers.js';

const TRACE = /^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/;

/** Server-side truth for the streak server: which arrival numbers fail. */
function failsAt(n: number): boolean {
  return (n >= 6 && n <= 9) || (n >= 21 && n <= 23) || n === 30 || (n >= 41 && n <= 47);
}

function serverEpisodes(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 1; i <= n; i++) {
    if (!failsAt(i)) continue;
    const last = out[out.length - 1];
    if (last && last[1] === i - 1) last[1] = i;
    else out.push([i, i]);
  }
  return out;
}

describe('runProbe: closed loop against a server that fails in scripted streaks', () => {
  it('totals, failures and episode boundaries match the server exactly (C=1)', async () => {
    // Prepare
    const srv = await startServer((_req, res, n) => {
      if (failsAt(n)) {
        res.writeHead(n < 25 ? 502 : 503, { 'content-type': 'text/plain' });
        res.end('bad');
      } else ok(res);
    });
    try {
      // Act
      const { summary, run } = await runProbe({
        urls: [srv.url],
        concurrency: 1,
        count: 50,
        durationMs: 20_000,
      });
      // Assess
      const serverFailures = srv.seen.filter((_, i) => failsAt(i + 1)).length;
      expect(srv.seen).toHaveLength(50);
      expect(summary.total).toBe(50);
      expect(summary.failed).toBe(serverFailures);
      expect(summary.succeeded).toBe(50 - serverFailures);
      expect(summary.byStatus).toEqual({ '200': 50 - serverFailures, '502': 7, '503': 8 });
      expect(summary.episodes.map((e) => [e.firstSeq, e.lastSeq])).toEqual(serverEpisodes(50));
      expect(summary.episodes.map((e) => e.failures)).toEqual(serverEpisodes(50).map(([a, b]) => b - a + 1));
      expect(summary.longestStreak).toBe(7);
      expect(summary.byOrigin.application).toBe(serverFailures);
      expect(run.stoppedBy).toBe('count');
      // Every request carried a unique, well-formed trace id.
      const ids = srv.seen.map((r) => r.headers['x-amzn-trace-id']);
      expect(new Set(ids).size).toBe(50);
      for (const id of ids) expect(id).toMatch(TRACE);
    } finally {
      await srv.close();
    }
  });

  it('agrees with the server request by request at C=4 (matched by trace id)', async () => {
    const verdict = new Map<string, boolean>();
    const srv = await startServer((req, res, n) => {
      verdict.set(String(req.headers['x-amzn-trace-id']), failsAt(n));
      if (failsAt(n)) alb502(res);
      else ok(res);
    });
    try {
      const records: { traceId: string; ok: boolean; origin: string | null }[] = [];
      const { summary } = await runProbe(
        { urls: [srv.url], concurrency: 4, count: 60, durationMs: 20_000 },
        { onRecord: (r) => records.push(r) },
      );
      expect(summary.total).toBe(60);
      expect(summary.failed).toBe([...verdict.values()].filter(Boolean).length);
      expect(summary.byOrigin.alb).toBe(summary.failed);
      for (const r of records) {
        expect(verdict.get(r.traceId)).toBe(!r.ok);
        if (!r.ok) expect(r.origin).toBe('alb');
      }
      expect(summary.episodes.reduce((s, e) => s + e.failures, 0)).toBe(summary.failed);
    } finally {
      await srv.close();
    }
  });
});

describe('runProbe: transport failures are classified, never thrown', () => {
  it('classifies a connection reset as reset (network)', async () => {
    const srv = await startServer((req) => req.socket.destroy());
    try {
      const { summary } = await runProbe({ urls: [srv.url], concurrency: 1, count: 3, durationMs: 10_000 });
      expect(summary.total).toBe(3);
      expect(summary.failed).toBe(3);
      expect(summary.byError.reset).toBe(3);
      expect(summary.byOrigin.network).toBe(3);
    } finally {
      await srv.close();
    }
  });

  it('classifies a reset in the middle of the body as reset', async () => {
    const srv = await startServer((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => req.socket.destroy(), 10);
    });
    try {
      const { summary } = await runProbe({ urls: [srv.url], concurrency: 1, count: 2, durationMs: 10_000 });
      expect(summary.failed).toBe(2);
      expect(summary.byError.reset).toBe(2);
    } finally {
      await srv.close();
    }
  });

  it('classifies a silent server as timeout, with a short --timeout', async () => {
    const srv = await startServer(() => {
      /* never answers */
    });
    try {
      const t = performance.now();
      const { summary } = await runProbe({
        urls: [srv.url],
        concurrency: 1,
        count: 2,
        durationMs: 10_000,
        timeoutMs: 150,
      });
      expect(summary.byError.timeout).toBe(2);
      expect(summary.failureLatencyMs.max).toBeGreaterThanOrEqual(149);
      expect(performance.now() - t).toBeLessThan(9_000);
    } finally {
      await srv.close();
    }
  });

  it('classifies a closed port as refused', async () => {
    const url = await closedPortUrl();
    const { summary } = await runProbe({ urls: [url], concurrency: 1, count: 3, durationMs: 10_000 });
    expect(summary.byError.refused).toBe(3);
    expect(summary.findings.some((f) => f.includes('network'))).toBe(true);
  });

  it('classifies a TLS handshake failure as tls (https to a plain-HTTP port)', async () => {
    const srv = await startServer((_req, res) => ok(res));
    try {
      const { summary } = await runProbe({
        urls: [srv.url.replace('http:', 'https:')],
        concurrency: 1,
        count: 2,
        durationMs: 10_000,
        timeoutMs: 3_000,
      });
      expect(summary.byError.tls).toBe(2);
    } finally {
      await srv.close();
    }
  });

  it('classifies a malformed response as other', async () => {
    const sockets = new Set<Socket>();
    const raw = createServer();
    raw.removeAllListeners('connection');
    raw.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('data', () => s.end('HELLO WORLD\r\n\r\n'));
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/`;
    try {
      const codes: (string | undefined)[] = [];
      const { summary } = await runProbe(
        { urls: [url], concurrency: 1, count: 2, durationMs: 10_000 },
        { onRecord: (r) => codes.push(r.errorCode) },
      );
      expect(summary.failed).toBe(2);
      expect(summary.byError.other).toBe(2);
      expect(codes).toEqual(['HTTPParserError', 'HTTPParserError']);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });
});

describe('runProbe: origin attribution', () => {
  it('attributes an ALB-style 502 (Server: awselb/2.0) to the ALB and says where to look', async () => {
    const srv = await startServer((_req, res) => alb502(res));
    try {
      const { summary } = await runProbe({ urls: [srv.url], concurrency: 1, count: 4, durationMs: 10_000 });
      expect(summary.byStatus).toEqual({ '502': 4 });
      expect(summary.byOrigin.alb).toBe(4);
      expect(summary.findings.join('\n')).toContain(
        '502 from the ALB itself: read the ALB access logs for error_reason',
      );
    } finally {
      await srv.close();
    }
  });
});

describe('runProbe: open model', () => {
  it('keeps the schedule: intended times are exactly 1000/rate apart; latency = lag + service', async () => {
    const srv = await startServer((_req, res) => ok(res));
    try {
      const records: { intended: number; sent: number; latencyMs: number; serviceMs: number; seq: number }[] =
        [];
      const { summary, run } = await runProbe(
        { urls: [srv.url], rate: 50, count: 12, durationMs: 20_000 },
        { onRecord: (r) => records.push(r) },
      );
      expect(summary.total).toBe(12);
      records.sort((a, b) => a.seq - b.seq);
      const t0 = records[0]!.intended;
      records.forEach((r, k) => {
        expect(r.intended - t0).toBeCloseTo(k * 20, 2);
        expect(r.sent).toBeGreaterThanOrEqual(r.intended - 0.002);
        expect(r.latencyMs).toBeCloseTo(r.serviceMs + (r.sent - r.intended), 2);
      });
      expect(run.sendLagP99Ms).not.toBeNull();
    } finally {
      await srv.close();
    }
  });

  it('bounds the open model by duration through the schedule (rate × duration sends)', async () => {
    const srv = await startServer((_req, res) => ok(res));
    try {
      const { summary, run } = await runProbe({ urls: [srv.url], rate: 40, durationMs: 500 });
      expect(summary.total).toBe(20);
      expect(run.stoppedBy).toBe('duration');
    } finally {
      await srv.close();
    }
  });

  it('measures latency from the intended send time, so a stalled server cannot hide (no coordinated omission)', async () => {
    // One connection; the first request stalls 400 ms; the others were due every 50 ms meanwhile.
    const STALL = 400;
    const srv = await startServer((_req, res, n) => {
      if (n === 1) setTimeout(() => ok(res), STALL);
      else ok(res);
    });
    try {
      const records: { seq: number; latencyMs: number; serviceMs: number; intended: number }[] = [];
      await runProbe(
        { urls: [srv.url], rate: 20, connections: 1, count: 6, durationMs: 20_000, timeoutMs: 5_000 },
        { onRecord: (r) => records.push(r) },
      );
      records.sort((a, b) => a.seq - b.seq);
      expect(records).toHaveLength(6);
      for (const [k, r] of records.entries()) {
        // Request k was due k*50 ms after the first; nothing could finish before the stall ended.
        expect(r.latencyMs).toBeGreaterThanOrEqual(STALL - k * 50 - 5);
        expect(r.latencyMs).toBeGreaterThanOrEqual(r.serviceMs - 0.002);
      }
    } finally {
      await srv.close();
    }
  });

  it('probes several URLs side by side and sees their failure episodes overlap', async () => {
    let start = 0;
    const window = (n: number) => {
      if (n === 1 && start === 0) start = Date.now();
      const t = Date.now() - start;
      return t >= 150 && t <= 350;
    };
    const a = await startServer((_req, res, n) => (window(n) ? alb502(res) : ok(res)));
    const b = await startServer((_req, res, n) => (window(n) ? alb502(res) : ok(res)));
    try {
      const { summary } = await runProbe({ urls: [a.url, b.url], rate: 40, durationMs: 600 });
      expect(summary.urls).toHaveLength(2);
      expect(summary.urls[0]!.total).toBe(24);
      expect(summary.urls[1]!.total).toBe(24);
      expect(summary.urls[0]!.failed).toBeGreaterThan(0);
      expect(summary.urls[1]!.failed).toBeGreaterThan(0);
      expect(summary.overlaps[0]!.overlappingA).toBeGreaterThan(0);
      expect(summary.total).toBe(48);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('runProbe: request shape and bounds', () => {
  it('sends method, headers, body and the trace root as a query token', async () => {
    const seen: { req: IncomingMessage; body: string }[] = [];
    const srv = await startServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ req, body });
        ok(res);
      });
    });
    try {
      await runProbe({
        urls: [`${srv.url}path?x=1`],
        concurrency: 1,
        count: 2,
        method: 'post',
        headers: { 'X-Test': 'yes' },
        body: '{"a":1}',
        traceQuery: 'tsprobe',
        durationMs: 10_000,
      });
      expect(seen).toHaveLength(2);
      for (const { req, body } of seen) {
        expect(req.method).toBe('POST');
        expect(req.headers['x-test']).toBe('yes');
        expect(body).toBe('{"a":1}');
        const u = new URL(req.url ?? '', 'http://h');
        expect(u.pathname).toBe('/path');
        expect(u.searchParams.get('x')).toBe('1');
        expect(`Root=${u.searchParams.get('tsprobe')}`).toBe(req.headers['x-amzn-trace-id']);
      }
    } finally {
      await srv.close();
    }
  });

  it('opens a new connection per request with keepAlive off', async () => {
    let connections = 0;
    const srv = await startServer((_req, res) => ok(res));
    srv.server.on('connection', () => connections++);
    try {
      await runProbe({ urls: [srv.url], concurrency: 1, count: 4, keepAlive: false, durationMs: 10_000 });
      expect(connections).toBe(4);
    } finally {
      await srv.close();
    }
  });

  it('keeps exactly C connections open for a closed loop at concurrency C, and reuses them', async () => {
    let connections = 0;
    const srv = await startServer((_req, res) => ok(res));
    srv.server.on('connection', () => connections++);
    try {
      const { summary } = await runProbe({ urls: [srv.url], concurrency: 3, count: 60, durationMs: 10_000 });
      expect(summary.total).toBe(60);
      expect(summary.succeeded).toBe(60);
      expect(connections).toBe(3);
    } finally {
      await srv.close();
    }
  });

  it('stops and rethrows when recording a result throws (it never hangs the loop)', async () => {
    const srv = await startServer((_req, res) => ok(res));
    try {
      let seen = 0;
      const run = runProbe(
        { urls: [srv.url], concurrency: 2, count: 1000, durationMs: 10_000 },
        {
          onRecord: () => {
            if (++seen === 5) throw new Error('disk on fire');
          },
        },
      );
      await expect(run).rejects.toThrow('disk on fire');
      expect(seen).toBeLessThan(20);
    } finally {
      await srv.close();
    }
  });

  it('keeps probing a refused port at concurrency C, each attempt a classified failure', async () => {
    const url = await closedPortUrl();
    const { summary } = await runProbe({ urls: [url], concurrency: 3, count: 12, durationMs: 10_000 });
    expect(summary.total).toBe(12);
    expect(summary.byError.refused).toBe(12);
  });

  it('stops a closed loop at the duration', async () => {
    const srv = await startServer((_req, res) => ok(res));
    try {
      const t = performance.now();
      const { summary, run } = await runProbe({ urls: [srv.url], concurrency: 2, durationMs: 300 });
      expect(run.stoppedBy).toBe('duration');
      expect(summary.total).toBeGreaterThan(0);
      expect(performance.now() - t).toBeLessThan(10_000);
    } finally {
      await srv.close();
    }
  });

  it('stops on the abort signal (Ctrl-C), even with --forever, and reports it', async () => {
    const srv = await startServer((_req, res) => ok(res));
    try {
      const c = new AbortController();
      setTimeout(() => c.abort(), 200);
      const { summary, run, interrupted } = await runProbe(
        { urls: [srv.url], concurrency: 2, forever: true, graceMs: 100 },
        { signal: c.signal },
      );
      expect(interrupted).toBe(true);
      expect(run.stoppedBy).toBe('signal');
      expect(summary.total).toBeGreaterThan(0);
    } finally {
      await srv.close();
    }
  });

  it('reports progress per URL while running', async () => {
    const srv = await startServer((_req, res) => ok(res));
    try {
      const seen: number[] = [];
      await runProbe(
        { urls: [srv.url], rate: 50, durationMs: 400, progressIntervalMs: 100 },
        { onProgress: (p) => seen.push(p.urls[0]!.total) },
      );
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen[seen.length - 1]).toBeGreaterThan(0);
    } finally {
      await srv.close();
    }
  });
});
