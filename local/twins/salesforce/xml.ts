/**
 * A small namespace-aware XML reader, enough for SOAP envelopes: elements, attributes, text, CDATA,
 * comments, the XML declaration and a leading byte order mark. No DTDs, no entities beyond the five
 * predefined ones and character references. It exists so the twin can read a listener's SOAP reply (and
 * tests can read the twin's messages) without a dependency; it throws on malformed input.
 */

export interface XmlElement {
  /** The qualified name as written, e.g. `soapenv:Envelope`. */
  name: string;
  local: string;
  /** The resolved namespace URI, or '' when none is in scope. */
  namespace: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The concatenated text directly inside the element. */
  text: string;
}

export class XmlParseError extends Error {
  override readonly name = 'XmlParseError';
}

const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|lt|gt|amp|quot|apos);/g, (_, entity: string) => {
    switch (entity) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
      default:
        return String.fromCodePoint(
          entity.startsWith('#x')
            ? Number.parseInt(entity.slice(2), 16)
            : Number.parseInt(entity.slice(1), 10),
        );
    }
  });
}

export function parseXml(input: string): XmlElement {
  const xml = input.replace(/^\uFEFF/, '');
  let i = 0;
  const stack: Array<{ element: XmlElement; scope: Map<string, string> }> = [];
  let root: XmlElement | undefined;

  const fail = (message: string): never => {
    throw new XmlParseError(`${message} at offset ${i}`);
  };

  while (i < xml.length) {
    if (xml.startsWith('<?', i)) {
      const end = xml.indexOf('?>', i);
      if (end < 0) fail('unterminated processing instruction');
      i = end + 2;
      continue;
    }
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
      continue;
    }
    if (xml.startsWith('<![CDATA[', i)) {
      const end = xml.indexOf(']]>', i);
      if (end < 0) fail('unterminated CDATA');
      const top = stack[stack.length - 1];
      if (!top) fail('CDATA outside the root element');
      else top.element.text += xml.slice(i + 9, end);
      i = end + 3;
      continue;
    }
    if (xml.startsWith('<!', i)) fail('DTDs are not supported');
    if (xml.startsWith('</', i)) {
      const match = NAME.exec(xml.slice(i + 2));
      const top = stack.pop();
      if (!match || !top || top.element.name !== match[0]) fail('mismatched closing tag');
      i += 2 + (match?.[0].length ?? 0);
      while (/\s/.test(xml.charAt(i))) i++;
      if (xml.charAt(i) !== '>') fail('expected >');
      i++;
      continue;
    }
    if (xml.charAt(i) === '<') {
      i++;
      const match = NAME.exec(xml.slice(i));
      if (!match) return fail('expected an element name');
      const name = match[0];
      i += name.length;
      const attributes: Record<string, string> = {};
      for (;;) {
        while (/\s/.test(xml.charAt(i))) i++;
        const c = xml.charAt(i);
        if (c === '>' || c === '/') break;
        const attr = NAME.exec(xml.slice(i));
        if (!attr) return fail('expected an attribute name');
        i += attr[0].length;
        while (/\s/.test(xml.charAt(i))) i++;
        if (xml.charAt(i) !== '=') fail('expected =');
        i++;
        while (/\s/.test(xml.charAt(i))) i++;
        const quote = xml.charAt(i);
        if (quote !== '"' && quote !== "'") fail('expected a quoted attribute value');
        const end = xml.indexOf(quote, i + 1);
        if (end < 0) fail('unterminated attribute value');
        attributes[attr[0]] = decodeEntities(xml.slice(i + 1, end));
        i = end + 1;
      }
      const selfClosing = xml.charAt(i) === '/';
      i += selfClosing ? 2 : 1;
      if (selfClosing && xml.charAt(i - 1) !== '>') fail('expected />');

      const parentScope = stack[stack.length - 1]?.scope ?? new Map<string, string>();
      const scope = new Map(parentScope);
      for (const [attr, value] of Object.entries(attributes)) {
        if (attr === 'xmlns') scope.set('', value);
        else if (attr.startsWith('xmlns:')) scope.set(attr.slice(6), value);
      }
      const colon = name.indexOf(':');
      const prefix = colon < 0 ? '' : name.slice(0, colon);
      const namespace = scope.get(prefix);
      if (namespace === undefined && prefix !== '') fail(`undeclared namespace prefix ${prefix}`);
      const element: XmlElement = {
        name,
        local: colon < 0 ? name : name.slice(colon + 1),
        namespace: namespace ?? '',
        attributes,
        children: [],
        text: '',
      };
      const parent = stack[stack.length - 1];
      if (parent) parent.element.children.push(element);
      else if (root) fail('more than one root element');
      else root = element;
      if (!selfClosing) stack.push({ element, scope });
      continue;
    }
    const next = xml.indexOf('<', i);
    const text = xml.slice(i, next < 0 ? xml.length : next);
    const top = stack[stack.length - 1];
    if (top) top.element.text += decodeEntities(text);
    else if (text.trim() !== '') fail('text outside the root element');
    i = next < 0 ? xml.length : next;
  }
  if (stack.length > 0) fail('unclosed element');
  if (!root) return fail('no root element');
  return root;
}

/** The first child with this local name (and namespace, when given). */
export function child(
  element: XmlElement | undefined,
  local: string,
  namespace?: string,
): XmlElement | undefined {
  return element?.children.find(
    (c) => c.local === local && (namespace === undefined || c.namespace === namespace),
  );
}
