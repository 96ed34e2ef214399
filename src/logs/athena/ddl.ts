/**
 * The Athena table over ALB access logs, as AWS documents it ("Create the table for ALB access
 * logs in Athena using partition projection", ../shared/reference/athena-alb-ddl.sql block 1):
 * one column per field, RegexSerDe, `day` projected as yyyy/MM/dd under the region folder.
 * One change, on purpose: AWS's trailing `?( .*)?` is a capturing group, which makes 35 groups
 * for 34 columns, and a SerDe that finds more groups than columns returns every column NULL
 * (cloudfront-athena-facts.md B1). Ours is non-capturing, `?(?: .*)?`: the same lines match, and
 * fields ALB adds later are still ignored, as AWS intends.
 */
import { UsageError } from '../../common/errors.js';

/** The documented columns, in order, with their Hive types. */
export const ALB_ATHENA_COLUMNS: readonly (readonly [
  name: string,
  type: 'string' | 'int' | 'bigint' | 'double',
])[] = [
  ['type', 'string'],
  ['time', 'string'],
  ['elb', 'string'],
  ['client_ip', 'string'],
  ['client_port', 'int'],
  ['target_ip', 'string'],
  ['target_port', 'int'],
  ['request_processing_time', 'double'],
  ['target_processing_time', 'double'],
  ['response_processing_time', 'double'],
  ['elb_status_code', 'int'],
  ['target_status_code', 'string'],
  ['received_bytes', 'bigint'],
  ['sent_bytes', 'bigint'],
  ['request_verb', 'string'],
  ['request_url', 'string'],
  ['request_proto', 'string'],
  ['user_agent', 'string'],
  ['ssl_cipher', 'string'],
  ['ssl_protocol', 'string'],
  ['target_group_arn', 'string'],
  ['trace_id', 'string'],
  ['domain_name', 'string'],
  ['chosen_cert_arn', 'string'],
  ['matched_rule_priority', 'string'],
  ['request_creation_time', 'string'],
  ['actions_executed', 'string'],
  ['redirect_url', 'string'],
  ['lambda_error_reason', 'string'],
  ['target_port_list', 'string'],
  ['target_status_code_list', 'string'],
  ['classification', 'string'],
  ['classification_reason', 'string'],
  ['conn_trace_id', 'string'],
];

/**
 * AWS's `input.regex` as written inside the DDL's SQL string (Hive unescapes `\"` and `\\`), with
 * the trailing group made non-capturing (see the file comment).
 */
export const ALB_INPUT_REGEX_LITERAL =
  '([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*):([0-9]*) ([^ ]*)[:-]([0-9]*) ([-.0-9]*) ([-.0-9]*) ([-.0-9]*) (|[-0-9]*) (-|[-0-9]*) ([-0-9]*) ([-0-9]*) \\"([^ ]*) (.*) (- |[^ ]*)\\" \\"([^\\"]*)\\" ([A-Z0-9-_]+) ([A-Za-z0-9.-]*) ([^ ]*) \\"([^\\"]*)\\" \\"([^\\"]*)\\" \\"([^\\"]*)\\" ([-.0-9]*) ([^ ]*) \\"([^\\"]*)\\" \\"([^\\"]*)\\" \\"([^ ]*)\\" \\"([^\\\\s]+?)\\" \\"([^\\\\s]+)\\" \\"([^ ]*)\\" \\"([^ ]*)\\" ?([^ ]*)? ?(?: .*)?';

/** `s3://bucket/[prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/` */
const LOCATION =
  /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/((?:[^\s']*\/)?AWSLogs\/\d{12}\/elasticloadbalancing\/[a-z0-9-]+)\/?$/;
/** Athena database and table names: lower-case letters, digits, underscore. */
const NAME = /^[a-z0-9_]{1,255}$/;

export interface AthenaTableSpec {
  /** The ALB's region folder, `s3://bucket/[prefix/]AWSLogs/<account>/elasticloadbalancing/<region>/`. */
  location: string;
  database: string;
  table: string;
  /** First projected day, `yyyy/MM/dd` (AWS's example: 2022/01/01). */
  firstDay?: string | undefined;
}

/** Checks a database or table name; Athena folds names to lower case, so upper case is refused. */
export function checkAthenaName(what: 'database' | 'table', name: string): string {
  if (!NAME.test(name)) {
    throw new UsageError(
      `--${what} "${name}": expected lower-case letters, digits and _ (Athena ${what} names), at most 255`,
    );
  }
  return name;
}

/** The region folder without its trailing slash, checked. */
export function normaliseLogLocation(location: string): string {
  const m = LOCATION.exec(location);
  if (!m) {
    throw new UsageError(
      `athena-table: expected the ALB's log folder s3://bucket/[prefix/]AWSLogs/<12-digit account>/elasticloadbalancing/<region>/, got "${location}"`,
    );
  }
  return `s3://${m[1]}/${m[2]}`;
}

/** The two statements to run, in order: the database, then the table. */
export function albAthenaDdl(spec: AthenaTableSpec): string[] {
  const database = checkAthenaName('database', spec.database);
  const table = checkAthenaName('table', spec.table);
  const root = normaliseLogLocation(spec.location);
  const firstDay = spec.firstDay ?? '2022/01/01';
  if (!/^\d{4}\/\d{2}\/\d{2}$/.test(firstDay))
    throw new UsageError(`first day "${firstDay}": expected yyyy/MM/dd`);
  const columns = ALB_ATHENA_COLUMNS.map(([n, t]) => `            ${n} ${t}`).join(',\n');
  return [
    `CREATE DATABASE IF NOT EXISTS ${database}`,
    `CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.${table} (
${columns}
            )
            PARTITIONED BY
            (
             day STRING
            )
            ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'
            WITH SERDEPROPERTIES (
            'serialization.format' = '1',
            'input.regex' =
        '${ALB_INPUT_REGEX_LITERAL}'
            )
            LOCATION '${root}/'
            TBLPROPERTIES
            (
             "projection.enabled" = "true",
             "projection.day.type" = "date",
             "projection.day.range" = "${firstDay},NOW",
             "projection.day.format" = "yyyy/MM/dd",
             "projection.day.interval" = "1",
             "projection.day.interval.unit" = "DAYS",
             "storage.location.template" = "${root}/\${day}"
            )`,
  ];
}
