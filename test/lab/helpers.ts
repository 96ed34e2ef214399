import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { Clock } from '../../src/common/clock.js';
import type { AccessLogOptions } from '../../src/lab/access-log.js';
import type { LabObjectStore } from '../../src/lab/backend.js';
import { type Lab, type StartLabOptions, startLab } from '../../src/lab/index.js';
import { type Scenario, type ScenarioInput, validateScenario } from '../../src/lab/scenario.js';

export const HANDLERS_DIR = fileURLToPath(new URL('../fixtures/handlers/', import.meta.url));

type FnInput = ScenarioInput['functions'][number];

/**
 * A scenario with one target group per function, routed by `/<function name>` and `/<name>/*`;
 * the first function is also the default rule's target.
 */
export function scenarioWith(
  functions: FnInput[],
  extra: Partial<Omit<ScenarioInput, 'functions'>> & { multiValueHeaders?: string[] } = {},
): Scenario {
  const { multiValueHeaders = [], ...rest } = extra;
  const input: ScenarioInput = {
    name: 'test',
    timeScale: 1,
    account: { concurrencyLimit: 50, unreservedMinimum: 5 },
    functions,
    loadBalancer: {
      name: 'test-alb',
      targetGroups: functions.map((f) => ({
        name: `${f.name}-tg`,
        function: f.name,
        multiValueHeaders: multiValueHeaders.includes(f.name),
      })),
      rules: functions.map((f, i) => ({
        priority: i + 1,
        path: [`/${f.name}`, `/${f.name}/*`],
        targetGroup: `${f.name}-tg`,
      })),
      defaultTargetGroup: `${functions[0]!.name}-tg`,
    },
    ...rest,
  };
  return validateScenario(input, { baseDir: HANDLERS_DIR });
}

export const fixed = (name: string, ms: number, more: Partial<FnInput> = {}): FnInput => ({
  name,
  timeout: 30,
  synthetic: { duration: { kind: 'fixed', value: `${ms}ms` } },
  ...more,
});

export const handler = (name: string, module: string, more: Partial<FnInput> = {}): FnInput => ({
  name,
  timeout: 5,
  handler: { module, maxWorkers: 4 },
  ...more,
});

export interface TestLab extends Lab {
  http: Pool;
  get(path: string, headers?: Record<string, string>): Promise<HttpResult>;
  request(opts: {
    path: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
  }): Promise<HttpResult>;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

export async function testLab(scenario: Scenario, opts: StartLabOptions = {}): Promise<TestLab> {
  const lab = await startLab(scenario, { sources: false, ...opts });
  const http = new Pool(lab.albUrl, { connections: 64 });
  const request: TestLab['request'] = async (o) => {
    const r = await http.request({
      path: o.path,
      method: (o.method ?? 'GET') as 'GET',
      headers: o.headers,
      body: o.body,
      headersTimeout: 20_000,
      bodyTimeout: 20_000,
    });
    const body = Buffer.from(await r.body.arrayBuffer());
    return { status: r.statusCode, headers: r.headers, body, text: body.toString('utf8') };
  };
  const labClose = lab.close;
  const close = async () => {
    await http.destroy();
    await labClose();
  };
  return Object.assign(lab, {
    http,
    request,
    get: (path: string, headers?: Record<string, string>) => request({ path, headers }),
    close,
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An ALB access-log writer's options for tests: bucket `logs`, one load balancer, 5-minute intervals. */
export const accessLogOptions = (
  store: LabObjectStore,
  clock: Clock,
  more: Partial<AccessLogOptions> = {},
): AccessLogOptions => ({
  store,
  bucket: 'logs',
  prefix: '',
  accountId: '123456789012',
  region: 'us-east-1',
  lbName: 'lab',
  lbId: '0123456789abcdef',
  nodeIp: '10.0.0.1',
  intervalMs: 300_000,
  clock,
  ...more,
});
