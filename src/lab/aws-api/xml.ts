/** A tiny XML writer for the S3 and CloudWatch Query responses (no dependency needed). */

export function escapeXml(s: string): string {
  return s.replace(/[&<>"'\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case "'":
        return '&apos;';
      default:
        return `&#${c.charCodeAt(0)};`;
    }
  });
}

/** A node: element name plus children (text, nested nodes, or arrays of nodes). */
export type XmlChild = XmlNode | string | number | boolean | undefined | null;
export interface XmlNode {
  name: string;
  attrs?: Record<string, string> | undefined;
  children?: XmlChild[] | XmlChild | undefined;
}

export function el(name: string, ...children: (XmlChild | XmlChild[])[]): XmlNode {
  return { name, children: children.flat() };
}

export function elAttrs(
  name: string,
  attrs: Record<string, string>,
  ...children: (XmlChild | XmlChild[])[]
): XmlNode {
  return { name, attrs, children: children.flat() };
}

function render(node: XmlChild, out: string[]): void {
  if (node === undefined || node === null) return;
  if (typeof node !== 'object') {
    out.push(escapeXml(String(node)));
    return;
  }
  out.push('<', node.name);
  if (node.attrs) for (const [k, v] of Object.entries(node.attrs)) out.push(' ', k, '="', escapeXml(v), '"');
  const kids =
    node.children === undefined ? [] : Array.isArray(node.children) ? node.children : [node.children];
  const present = kids.filter((k) => k !== undefined && k !== null);
  if (present.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (const k of present) render(k, out);
  out.push('</', node.name, '>');
}

export function toXml(root: XmlNode): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
  render(root, out);
  return out.join('');
}
