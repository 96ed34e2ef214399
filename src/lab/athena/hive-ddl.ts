/**
 * The statements the lab's Athena understands, read from their text: Hive DDL for databases and
 * external tables (RegexSerDe with partition projection, as AWS documents for ALB logs), and the
 * SQL queries DuckDB runs. Pure: no I/O.
 */

export class AthenaStatementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AthenaStatementError';
  }
}

export type HiveType =
  | 'string'
  | 'int'
  | 'integer'
  | 'bigint'
  | 'double'
  | 'float'
  | 'boolean'
  | 'smallint'
  | 'tinyint';

export interface ExternalTable {
  database: string;
  name: string;
  columns: { name: string; type: HiveType }[];
  partitions: { name: string; type: 'string' }[];
  serde: string;
  serdeProperties: Record<string, string>;
  location: string;
  properties: Record<string, string>;
}

export type Statement =
  | { kind: 'create-database'; name: string; ifNotExists: boolean }
  | { kind: 'drop-database'; name: string; ifExists: boolean }
  | { kind: 'create-table'; table: ExternalTable; ifNotExists: boolean }
  | { kind: 'drop-table'; database: string | undefined; name: string; ifExists: boolean }
  | { kind: 'query'; sql: string };

const HIVE_TYPES = new Set([
  'string',
  'int',
  'integer',
  'bigint',
  'double',
  'float',
  'boolean',
  'smallint',
  'tinyint',
]);

/**
 * A Hive SQL string literal's text, as Hive reads it (BaseSemanticAnalyzer.unescapeSQLString):
 * `\\` is one backslash, `\"` and `\'` are quotes, `\n` `\t` `\r` `\b` `\0` `\Z` their characters,
 * `\%` and `\_` keep their backslash, and any other escaped character stands for itself (so the
 * 2023 AWS regex's `[^\s]` means `[^s]`; the current AWS text writes `[^\\s]`).
 */
export function unescapeHiveString(body: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== '\\' || i + 1 >= body.length) {
      out += c;
      continue;
    }
    const n = body[++i] as string;
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', '0': '\0', Z: '\x1a' };
    if (n in map) out += map[n];
    else if (n === '%' || n === '_') out += `\\${n}`;
    else out += n;
  }
  return out;
}

/** A statement the lab does not run at all (Athena's InvalidRequestException, not a failed query). */
export class UnsupportedStatementError extends AthenaStatementError {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedStatementError';
  }
}

type Token = { t: 'word' | 'string' | 'punct' | 'quoted'; v: string };

/** Words (lower-cased), 'strings' and "strings" (Hive unescaped), `identifiers`, punctuation. */
function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length && sql[j] !== c) j += sql[j] === '\\' ? 2 : 1;
      if (j >= sql.length) throw new AthenaStatementError(`line ${lineOf(sql, i)}: unterminated string`);
      tokens.push({ t: 'string', v: unescapeHiveString(sql.slice(i + 1, j)) });
      i = j + 1;
    } else if (c === '`') {
      const end = sql.indexOf('`', i + 1);
      if (end < 0) throw new AthenaStatementError(`line ${lineOf(sql, i)}: unterminated identifier`);
      tokens.push({ t: 'quoted', v: sql.slice(i + 1, end).toLowerCase() });
      i = end + 1;
    } else if (/[A-Za-z0-9_$]/.test(c)) {
      let j = i;
      while (j < sql.length && /[A-Za-z0-9_$]/.test(sql[j] as string)) j++;
      tokens.push({ t: 'word', v: sql.slice(i, j).toLowerCase() });
      i = j;
    } else {
      tokens.push({ t: 'punct', v: c });
      i++;
    }
  }
  return tokens;
}

function lineOf(sql: string, at: number): number {
  return sql.slice(0, at).split('\n').length;
}

class Reader {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}
  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }
  done(): boolean {
    return this.i >= this.tokens.length;
  }
  next(what: string): Token {
    const t = this.tokens[this.i++];
    if (!t) throw new AthenaStatementError(`unexpected end of statement, expected ${what}`);
    return t;
  }
  word(...words: string[]): boolean {
    for (let k = 0; k < words.length; k++) {
      const t = this.tokens[this.i + k];
      if (t?.t !== 'word' || t.v !== words[k]) return false;
    }
    this.i += words.length;
    return true;
  }
  expectWord(...words: string[]): void {
    if (!this.word(...words)) {
      throw new AthenaStatementError(
        `expected ${words.join(' ').toUpperCase()}, got "${this.peek()?.v ?? 'end'}"`,
      );
    }
  }
  punct(p: string): boolean {
    const t = this.peek();
    if (t?.t === 'punct' && t.v === p) {
      this.i++;
      return true;
    }
    return false;
  }
  expectPunct(p: string): void {
    if (!this.punct(p)) throw new AthenaStatementError(`expected "${p}", got "${this.peek()?.v ?? 'end'}"`);
  }
  name(what: string): string {
    const t = this.next(what);
    if (t.t !== 'word' && t.t !== 'quoted') throw new AthenaStatementError(`expected ${what}, got "${t.v}"`);
    return t.v;
  }
  string(what: string): string {
    const t = this.next(what);
    if (t.t !== 'string') throw new AthenaStatementError(`expected ${what} as a quoted string, got "${t.v}"`);
    return t.v;
  }
  /** `name` or `db.name`. */
  qualifiedName(what: string): { database: string | undefined; name: string } {
    const first = this.name(what);
    if (this.punct('.')) return { database: first, name: this.name(what) };
    return { database: undefined, name: first };
  }
  properties(): Record<string, string> {
    const out: Record<string, string> = {};
    this.expectPunct('(');
    do {
      const key = this.string('a property name');
      this.expectPunct('=');
      out[key] = this.string(`the value of "${key}"`);
    } while (this.punct(','));
    this.expectPunct(')');
    return out;
  }
}

const SUPPORTED =
  'the lab runs SELECT and WITH queries, CREATE/DROP DATABASE, CREATE EXTERNAL TABLE (RegexSerDe) and DROP TABLE';

/** What a statement is; queries are handed to DuckDB as written. */
export function parseStatement(sql: string, contextDatabase: string): Statement {
  const tokens = tokenize(sql.replace(/;\s*$/, ''));
  const r = new Reader(tokens);
  const first = r.peek();
  if (!first) throw new AthenaStatementError('the query string is empty');
  if (first.t === 'word' && (first.v === 'select' || first.v === 'with')) return { kind: 'query', sql };
  if (first.t === 'punct' && first.v === '(') return { kind: 'query', sql };
  if (r.word('create', 'database') || r.word('create', 'schema')) {
    const ifNotExists = r.word('if', 'not', 'exists');
    const name = r.name('a database name');
    return { kind: 'create-database', name, ifNotExists };
  }
  if (r.word('drop', 'database') || r.word('drop', 'schema')) {
    const ifExists = r.word('if', 'exists');
    const name = r.name('a database name');
    return { kind: 'drop-database', name, ifExists };
  }
  if (r.word('drop', 'table')) {
    const ifExists = r.word('if', 'exists');
    const { database, name } = r.qualifiedName('a table name');
    return { kind: 'drop-table', database, name, ifExists };
  }
  if (r.word('create', 'external', 'table')) {
    const ifNotExists = r.word('if', 'not', 'exists');
    return { kind: 'create-table', ifNotExists, table: parseExternalTable(r, contextDatabase) };
  }
  const words = tokens
    .slice(0, 3)
    .map((t) => t.v.toUpperCase())
    .join(' ');
  throw new UnsupportedStatementError(`${SUPPORTED}; "${words} ..." is not supported by this test double`);
}

function parseExternalTable(r: Reader, contextDatabase: string): ExternalTable {
  const { database, name } = r.qualifiedName('a table name');
  const columns: ExternalTable['columns'] = [];
  r.expectPunct('(');
  do {
    const col = r.name('a column name');
    const type = r.name(`the type of ${col}`);
    if (!HIVE_TYPES.has(type)) {
      throw new AthenaStatementError(
        `column ${col}: type ${type} is not supported by the lab (string, int, bigint, double, boolean)`,
      );
    }
    columns.push({ name: col, type: type as HiveType });
  } while (r.punct(','));
  r.expectPunct(')');
  const table: ExternalTable = {
    database: database ?? contextDatabase,
    name,
    columns,
    partitions: [],
    serde: '',
    serdeProperties: {},
    location: '',
    properties: {},
  };
  while (!r.done()) {
    if (r.word('partitioned', 'by')) {
      r.expectPunct('(');
      do {
        const col = r.name('a partition column');
        const type = r.name(`the type of ${col}`);
        if (type !== 'string')
          throw new AthenaStatementError(`partition ${col}: the lab supports STRING partitions only`);
        table.partitions.push({ name: col, type: 'string' });
      } while (r.punct(','));
      r.expectPunct(')');
    } else if (r.word('row', 'format', 'serde')) {
      table.serde = r.string('the SerDe class');
    } else if (r.word('with', 'serdeproperties')) {
      table.serdeProperties = r.properties();
    } else if (r.word('location')) {
      table.location = r.string('the location');
    } else if (r.word('tblproperties')) {
      table.properties = r.properties();
    } else if (r.word('stored', 'as')) {
      const format = r.name('a storage format');
      if (format !== 'textfile')
        throw new AthenaStatementError(`STORED AS ${format.toUpperCase()}: the lab reads text files only`);
    } else if (r.word('comment')) {
      r.string('a comment');
    } else {
      throw new AthenaStatementError(`unexpected "${r.peek()?.v}" in CREATE EXTERNAL TABLE`);
    }
  }
  validateTable(table);
  return table;
}

/** How many capturing groups a (Java or RE2) regex has: `(` not escaped, not `(?`, not in a class. */
export function captureGroupCount(regex: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i];
    if (c === '\\') {
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      if (regex[i + 1] === '^') i++;
      if (regex[i + 1] === ']') i++;
    } else if (c === '(' && regex[i + 1] !== '?') {
      n++;
    }
  }
  return n;
}

function validateTable(t: ExternalTable): void {
  if (t.serde !== 'org.apache.hadoop.hive.serde2.RegexSerDe') {
    throw new AthenaStatementError(
      `ROW FORMAT SERDE '${t.serde || '(none)'}': the lab supports org.apache.hadoop.hive.serde2.RegexSerDe only`,
    );
  }
  const regex = t.serdeProperties['input.regex'];
  if (!regex) throw new AthenaStatementError(`RegexSerDe needs the SERDEPROPERTIES 'input.regex'`);
  const groups = captureGroupCount(regex);
  if (groups !== t.columns.length) {
    // Athena accepts this table, and then (reported, not documented) returns every column NULL.
    throw new AthenaStatementError(
      `input.regex has ${groups} capture groups for ${t.columns.length} columns: RegexSerDe needs one group per column (make extra groups non-capturing, (?: ...))`,
    );
  }
  if (!/^s3:\/\/[^/]+\/.*/.test(t.location))
    throw new AthenaStatementError(`LOCATION must be s3://bucket/prefix/, got "${t.location}"`);
  if (t.partitions.length > 0) {
    if (t.properties['projection.enabled'] !== 'true') {
      throw new AthenaStatementError(
        'partitioned tables need partition projection in the lab ("projection.enabled" = "true")',
      );
    }
    for (const p of t.partitions) {
      const type = t.properties[`projection.${p.name}.type`];
      const format = t.properties[`projection.${p.name}.format`];
      if (type !== 'date' || format !== 'yyyy/MM/dd') {
        throw new AthenaStatementError(
          `partition ${p.name}: the lab projects "date" partitions in the format yyyy/MM/dd only`,
        );
      }
    }
    const template = t.properties['storage.location.template'];
    if (!template || !/^s3:\/\/[^/]+\//.test(template)) {
      throw new AthenaStatementError(
        `partition projection needs "storage.location.template" = "s3://bucket/.../\${day}"`,
      );
    }
    for (const p of t.partitions) {
      if (!template.includes(`\${${p.name}}`)) {
        throw new AthenaStatementError(`"storage.location.template" does not use \${${p.name}}`);
      }
    }
  }
}

/** A day range and/or a set of days a query's `day` comparisons allow (ANDed; an IN or = list is a union). */
export interface DayConstraint {
  from?: string | undefined;
  to?: string | undefined;
  days?: Set<string> | undefined;
}

/**
 * The partition values a query asks for, from its comparisons of the partition column with
 * string literals (`= 'x'`, `IN ('x', ...)`, `BETWEEN 'a' AND 'b'`, `>=`, `>`, `<=`, `<`). This is
 * how the lab prunes partitions; a query without such comparisons reads every day.
 */
export function partitionConstraint(sql: string, column: string): DayConstraint {
  const c: DayConstraint = {};
  const col = `(?:\\b\\w+\\.)?(?:"${column}"|\\b${column}\\b)`;
  const lit = `'([^']*)'`;
  const addDay = (v: string) => {
    c.days ??= new Set();
    c.days.add(v);
  };
  const raise = (v: string) => {
    if (c.from === undefined || v > c.from) c.from = v;
  };
  const lower = (v: string) => {
    if (c.to === undefined || v < c.to) c.to = v;
  };
  for (const m of sql.matchAll(new RegExp(`${col}\\s+between\\s+${lit}\\s+and\\s+${lit}`, 'gi'))) {
    raise(m[1] as string);
    lower(m[2] as string);
  }
  for (const m of sql.matchAll(new RegExp(`${col}\\s*(>=|<=|=|>|<)\\s*${lit}`, 'gi'))) {
    const [, op, v] = m as unknown as [string, string, string];
    if (op === '=') addDay(v);
    else if (op === '>=' || op === '>') raise(v);
    else lower(v);
  }
  for (const m of sql.matchAll(new RegExp(`${col}\\s+in\\s*\\(([^)]*)\\)`, 'gi'))) {
    for (const v of (m[1] as string).matchAll(/'([^']*)'/g)) addDay(v[1] as string);
  }
  return c;
}

export function dayAllowed(day: string, c: DayConstraint): boolean {
  if (c.from !== undefined && day < c.from) return false;
  if (c.to !== undefined && day > c.to) return false;
  if (c.days !== undefined && !c.days.has(day)) return false;
  return true;
}
