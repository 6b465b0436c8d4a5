/**
 * The little XML S3 needs: a writer for response documents and a tolerant reader for the
 * three request bodies S3 clients send (CreateBucketConfiguration, Delete,
 * CompleteMultipartUpload). Neither is a general XML library.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/API/API_Operations_Amazon_Simple_Storage_Service.html
 */

/** The S3 document namespace. */
export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

/** Escapes text for element content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** An element: a name with text, or with children (undefined children are left out). */
export type XmlNode = readonly [
  name: string,
  content: string | number | boolean | readonly (XmlNode | undefined)[],
];

/** Serialises one element tree. */
function writeNode([name, content]: XmlNode): string {
  if (Array.isArray(content)) {
    let inner = '';
    for (const child of content as readonly (XmlNode | undefined)[]) {
      if (child !== undefined) inner += writeNode(child);
    }
    return `<${name}>${inner}</${name}>`;
  }
  return `<${name}>${escapeXml(String(content))}</${name}>`;
}

/** A whole document: declaration plus the root element, which carries the S3 namespace. */
export function xmlDocument(root: XmlNode, namespaced = true): string {
  const body = writeNode(root);
  const open = `<${root[0]}>`;
  const withNs = namespaced ? `<${root[0]} xmlns="${S3_XMLNS}">` + body.slice(open.length) : body;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${withNs}`;
}

/** A parsed element: local name (prefix dropped), its text and its child elements. */
export interface XmlElement {
  /** Local name. */
  readonly name: string;
  /** Concatenated text content of this element (not its children's). */
  text: string;
  /** Child elements in order. */
  readonly children: XmlElement[];
}

/** Thrown when a request body is not XML the reader understands. */
export class XmlParseError extends Error {
  override readonly name = 'XmlParseError';
}

const TOKEN =
  /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/gy;

/** Parses a document into its root element; tolerant of namespaces, prefixes and comments. */
export function parseXml(text: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(text);
    if (m === null) throw new XmlParseError(`Unexpected character at offset ${pos}.`);
    pos = TOKEN.lastIndex;
    const [, cdata, closing, rawName, , selfClosing, chars] = m;
    const top = stack[stack.length - 1];
    if (cdata !== undefined) {
      if (top !== undefined) top.text += cdata;
    } else if (chars !== undefined) {
      if (top !== undefined) top.text += decodeEntities(chars);
      else if (chars.trim() !== '') throw new XmlParseError('Text outside the root element.');
    } else if (rawName !== undefined) {
      const name = rawName.includes(':') ? rawName.slice(rawName.indexOf(':') + 1) : rawName;
      if (closing === '/') {
        const open = stack.pop();
        if (open === undefined || open.name !== name) throw new XmlParseError(`Unbalanced </${rawName}>.`);
      } else {
        const el: XmlElement = { name, text: '', children: [] };
        if (top !== undefined) top.children.push(el);
        else if (root === undefined) root = el;
        else throw new XmlParseError('More than one root element.');
        if (selfClosing !== '/') stack.push(el);
      }
    }
  }
  if (root === undefined || stack.length > 0) throw new XmlParseError('The XML is incomplete.');
  return root;
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e] ?? '';
  });
}

/** The first child element with this local name. */
export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

/** Every child element with this local name. */
export function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}
