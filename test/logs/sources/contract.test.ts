/**
 * The LogSource contract, one suite run against every implementation: local directories, stdin,
 * and S3 through the real AWS SDK v3 client over HTTP against the lab's S3 API (also with two
 * keys a ListObjectsV2 page, so that listing follows continuation tokens).
 */
import { mkdir, mkdtemp, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { type AwsEndpoint, startAwsEndpoint } from '../../../src/lab/aws-api/server.js';
import {
  LocalLogSource,
  type LogObject,
  type LogSource,
  type S3LogObject,
  S3LogSource,
  StdinLogSource,
} from '../../../src/logs/sources/index.js';
import { type ReadOptions, readAlbLogs, readLogSources } from '../../../src/logs/sources.js';
import { lambdaLine, shopLogKey } from '../../helpers/alb-lines.js';
import { createMemoryBackend, type MemoryBackend, REGION } from '../../helpers/memory-backend.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const MIN = 60_000;
/** The window every windowed case reads: 10:00 to 10:30. */
const WINDOW = { sinceMs: T0, untilMs: T0 + 30 * MIN };

/** An object as stored, with what reading it must give. */
interface Stored {
  /** Its name below the source's root (a path, or an S3 key below the prefix). */
  rel: string;
  bytes: Buffer;
  lines: number;
  malformed: number;
  /** Its AWS name puts it outside WINDOW. */
  late: boolean;
}

const awsKey = (endMs: number, random: string) => shopLogKey('', endMs, random);

const gz = (lines: string[]) => gzipSync(`${lines.join('\n')}\n`);

/** Delivered at 10:05, entries from 10:00: read in the window. */
const INSIDE: Stored = {
  rel: awsKey(T0 + 5 * MIN, 'in1'),
  bytes: gz([
    lambdaLine(T0 + 1000),
    lambdaLine(T0 + 2000, { reason: 'LambdaThrottling' }),
    lambdaLine(T0 + 3000),
  ]),
  lines: 3,
  malformed: 0,
  late: false,
};
/** Delivered at 13:00: its name alone keeps it out of the window. */
const LATE: Stored = {
  rel: awsKey(T0 + 180 * MIN, 'late1'),
  bytes: gz([lambdaLine(T0 + 179 * MIN), lambdaLine(T0 + 179 * MIN + 1)]),
  lines: 2,
  malformed: 0,
  late: true,
};
/** Not named as AWS names logs: read whatever the window, lines filtered one by one. */
const PLAIN: Stored = {
  rel: 'plain/app.log',
  bytes: Buffer.from(`${lambdaLine(T0 + 10_000)}\r\nnot an alb line\r\n${lambdaLine(T0 + 11_000)}`),
  lines: 2,
  malformed: 1,
  late: false,
};
const ALL = [INSIDE, LATE, PLAIN];

interface Fixture {
  source: LogSource;
  /** The name the source gives the object stored as `rel`. */
  nameOf(rel: string): string;
  /** The same source as readAlbLogs takes it. */
  spec: string;
  readOptions: ReadOptions;
  /** Makes a listed object unreadable (removed since it was listed); returns what to open. */
  gone?(object: LogObject): Promise<LogObject>;
}

interface Implementation {
  name: string;
  /** False for a source of one object without a name (stdin). */
  named: boolean;
  make(objects: Stored[]): Promise<Fixture>;
  /** A source whose location does not exist, and the words its failure must name. */
  missing?(): Promise<{ source: LogSource; names: string }>;
}

let endpoint: AwsEndpoint | undefined;
let backend: MemoryBackend | undefined;
let buckets = 0;
async function lab(): Promise<{ backend: MemoryBackend; endpoint: AwsEndpoint }> {
  backend ??= createMemoryBackend();
  endpoint ??= await startAwsEndpoint(backend, { port: 0 });
  return { backend, endpoint };
}
afterAll(async () => endpoint?.close());

function s3Implementation(name: string, listPageSize: number | undefined): Implementation {
  return {
    name,
    named: true,
    async make(objects) {
      const { backend, endpoint } = await lab();
      const bucket = `contract-${++buckets}`;
      for (const o of objects) backend.addObject(bucket, `alb/${o.rel}`, o.bytes);
      const aws = { endpointUrl: endpoint.url, region: REGION };
      const spec = `s3://${bucket}/alb/`;
      return {
        source: new S3LogSource(spec, { aws, listPageSize }),
        nameOf: (rel) => `s3://${bucket}/alb/${rel}`,
        spec,
        readOptions: { aws },
        async gone(object) {
          // The lab keeps every object: a key that was never stored reads as one deleted since.
          const o = object as S3LogObject;
          return { ...o, key: `${o.key}.gone`, name: `${o.name}.gone` } satisfies S3LogObject;
        },
      };
    },
    async missing() {
      const { endpoint } = await lab();
      const spec = 's3://no-such-bucket/alb/';
      return {
        source: new S3LogSource(spec, { aws: { endpointUrl: endpoint.url, region: REGION }, listPageSize }),
        names: 'no-such-bucket',
      };
    },
  };
}

const implementations: Implementation[] = [
  {
    name: 'local directory',
    named: true,
    async make(objects) {
      const dir = await mkdtemp(join(tmpdir(), 'ts-contract-'));
      for (const o of objects) {
        await mkdir(dirname(join(dir, o.rel)), { recursive: true });
        await writeFile(join(dir, o.rel), o.bytes);
      }
      return {
        source: new LocalLogSource(dir),
        nameOf: (rel) => join(dir, rel),
        spec: dir,
        readOptions: {},
        async gone(object) {
          await unlink(object.name);
          return object;
        },
      };
    },
    async missing() {
      const dir = join(tmpdir(), 'ts-contract-no-such-dir', String(process.pid));
      return { source: new LocalLogSource(dir), names: dir };
    },
  },
  {
    name: 'stdin',
    named: false,
    async make(objects) {
      const [only] = objects as [Stored];
      // Bytes in small chunks, as a pipe delivers them.
      const chunks = Array.from({ length: Math.ceil(only.bytes.length / 7) }, (_, i) =>
        only.bytes.subarray(i * 7, i * 7 + 7),
      );
      const stdin = () => Readable.from(chunks);
      return {
        source: new StdinLogSource(stdin()),
        nameOf: () => 'stdin',
        spec: '-',
        get readOptions() {
          return { stdin: stdin() };
        },
      };
    },
  },
  s3Implementation('s3 (lab endpoint, real SDK client)', undefined),
  s3Implementation('s3, two keys a ListObjectsV2 page', 2),
];

async function list(source: LogSource, window = {}): Promise<LogObject[]> {
  const out: LogObject[] = [];
  for await (const o of source.list(window)) out.push(o);
  return out;
}

async function drain(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

describe.each(implementations)('LogSource contract: $name', (impl) => {
  const stored = impl.named ? ALL : [INSIDE];
  const byName = (fixture: Fixture) => new Map(stored.map((o) => [fixture.nameOf(o.rel), o]));

  it('lists every object once, in name order, and opens each to exactly the bytes stored', async () => {
    const fixture = await impl.make(stored);
    try {
      const listed = await list(fixture.source);
      const names = listed.map((o) => o.name);
      expect(names).toEqual([...byName(fixture).keys()].sort());
      for (const object of listed) {
        const want = byName(fixture).get(object.name) as Stored;
        expect(object.outsideWindow ?? false).toBe(false);
        if (object.size !== undefined) expect(object.size).toBe(want.bytes.length);
        const opened = await fixture.source.open(object);
        try {
          // Read whole or streamed, the bytes are the stored ones: gzip is the reader's to decode.
          expect(opened.bytes ?? (await drain(opened.stream()))).toEqual(want.bytes);
        } finally {
          await opened.close();
        }
      }
      if (impl.named) {
        // Read whole, the stream is there too, from the start (for files that must be streamed after all).
        const opened = await fixture.source.open(listed[0] as LogObject);
        expect(await drain(opened.stream())).toEqual(byName(fixture).get(listed[0]?.name as string)?.bytes);
        await opened.close();
      }
    } finally {
      fixture.source.close();
    }
  });

  it('lists an object whose AWS name puts it outside the window as such, and keeps what its name cannot judge', async () => {
    const fixture = await impl.make(stored);
    try {
      const listed = await list(fixture.source, WINDOW);
      const outside = listed.filter((o) => o.outsideWindow).map((o) => o.name);
      expect(outside).toEqual(stored.filter((o) => o.late).map((o) => fixture.nameOf(o.rel)));
      expect(listed).toHaveLength(stored.length);
    } finally {
      fixture.source.close();
    }
  });

  it('is read by readAlbLogs (named as on the command line) and by readLogSources (as made) to the same counts, skipping only what is outside the window', async () => {
    for (const window of [{}, WINDOW]) {
      const read = 'sinceMs' in window ? stored.filter((o) => !o.late) : stored;
      const want = {
        files: read.length,
        skippedFiles: stored.length - read.length,
        lines: read.reduce((n, o) => n + o.lines, 0),
        malformed: read.reduce((n, o) => n + o.malformed, 0),
        outsideWindow: 0,
        bytes: read.reduce((n, o) => n + o.bytes.length, 0),
        errors: [],
      };
      const fixture = await impl.make(stored);
      const records: number[] = [];
      const viaSpec = await readAlbLogs(
        [fixture.spec],
        { record: (r) => records.push(r.timeMs) },
        { ...fixture.readOptions, ...window },
      );
      expect(viaSpec).toEqual(want);
      expect(records).toHaveLength(want.lines);
      let fields = 0;
      const viaSource = await readLogSources(
        [fixture.source],
        {
          fields: () => {
            fields++;
          },
        },
        window,
      );
      expect(viaSource).toEqual(want);
      expect(fields).toBe(want.lines);
    }
  });

  it.runIf(impl.missing !== undefined)(
    'rejects listing a location that does not exist, with a message naming it',
    async () => {
      const { source, names } = await (impl.missing as NonNullable<Implementation['missing']>)();
      try {
        const error = await list(source).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeDefined();
        expect(source.failureMessage(error)).toContain(names);
        expect(source.failureMessage(error)).not.toContain('\n');
      } finally {
        source.close();
      }
    },
  );

  it.runIf(impl.named)(
    'rejects reading an object gone since it was listed, with a message naming it',
    async () => {
      const fixture = await impl.make(stored);
      try {
        const [first] = await list(fixture.source);
        const gone = await (fixture.gone as NonNullable<Fixture['gone']>)(first as LogObject);
        const error = await fixture.source.open(gone).then(
          async (opened) => {
            await drain(opened.stream());
            return undefined;
          },
          (e: unknown) => e,
        );
        expect(error).toBeDefined();
        const message = fixture.source.failureMessage(error, gone);
        expect(message).toContain(gone.name);
        expect(message).not.toContain('\n');
      } finally {
        fixture.source.close();
      }
    },
  );
});
