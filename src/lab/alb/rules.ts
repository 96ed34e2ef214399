import type { ListenerRule } from '../scenario.js';

/**
 * ALB listener rule matching: rules are evaluated in priority order (lowest first), a rule
 * matches when all of its conditions match, and the listener's default rule (priority "default",
 * logged as 0) catches the rest.
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
 * - path-pattern: case-sensitive, against the path without the query string; `*` matches 0 or
 *   more characters, `?` exactly one.
 * - host-header: case-insensitive, same wildcards; the port is not part of the match.
 * - http-request-method: case-sensitive, exact.
 * Each condition may list up to 5 values; one matching value is enough.
 */

export interface CompiledRule {
  priority: number;
  targetGroup: string;
  match(method: string, path: string, host: string): boolean;
}

/** `/api/*` -> /^\/api\/.*$/ ; everything except `*` and `?` is literal. */
export function wildcardToRegExp(pattern: string, caseInsensitive = false): RegExp {
  let re = '^';
  for (const ch of pattern) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/-]/g, '\\$&');
  }
  return new RegExp(`${re}$`, caseInsensitive ? 'is' : 's');
}

const list = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : Array.isArray(v) ? v : [v];

export function compileRule(rule: ListenerRule): CompiledRule {
  const paths = list(rule.path)?.map((p) => wildcardToRegExp(p));
  const hosts = list(rule.host)?.map((h) => wildcardToRegExp(h, true));
  const methods = list(rule.method);
  return {
    priority: rule.priority,
    targetGroup: rule.targetGroup,
    match(method, path, host) {
      if (methods && !methods.includes(method)) return false;
      if (paths && !paths.some((r) => r.test(path))) return false;
      if (hosts && !hosts.some((r) => r.test(host))) return false;
      return true;
    },
  };
}

export interface RouteResult {
  targetGroup: string;
  /** 0 for the default rule, as the access log writes it. */
  priority: number;
}

export class Router {
  private readonly rules: CompiledRule[];
  /** One result object per rule (callers only read them). */
  private readonly results: RouteResult[];
  private readonly fallback: RouteResult;
  /** Whether any rule looks at the host (else the Host header is not even parsed). */
  private readonly needsHost: boolean;
  constructor(rules: readonly ListenerRule[], defaultTargetGroup: string) {
    this.rules = rules.map(compileRule).sort((a, b) => a.priority - b.priority);
    this.results = this.rules.map((r) => ({ targetGroup: r.targetGroup, priority: r.priority }));
    this.fallback = { targetGroup: defaultTargetGroup, priority: 0 };
    this.needsHost = rules.some((r) => r.host !== undefined);
  }

  route(method: string, path: string, hostHeader: string | undefined): RouteResult {
    const rules = this.rules;
    if (rules.length === 0) return this.fallback;
    const host = this.needsHost ? stripPort(hostHeader ?? '') : '';
    for (let i = 0; i < rules.length; i++) {
      if (rules[i]!.match(method, path, host)) return this.results[i]!;
    }
    return this.fallback;
  }
}

/** `example.com:8080` -> `example.com`; `[::1]:80` -> `[::1]`. */
export function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}
