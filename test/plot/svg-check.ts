// SPDX-License-Identifier: MIT
// Test helper: a strict-enough well-formedness check of SVG text (balanced tags, quoted attributes, known entities, no NaN).

/** Throws unless `svg` is one XML declaration and a balanced element tree; returns the elements' tag names in order. */
export function checkSvg(svg: string): string[] {
  if (!svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg '))
    throw new Error('no XML declaration and <svg> root');
  const body = svg.replace(/^<\?xml[^>]*\?>/, '');
  const stack: string[] = [];
  const names: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(body); m !== null; m = tag.exec(body)) {
    const text = body.slice(last, m.index);
    if (/[<>]/.test(text)) throw new Error(`malformed markup near: ${text.slice(0, 60)}`);
    if (/&(?!(amp|lt|gt|quot|#39);)/.test(text + m[3])) throw new Error(`raw & near: ${(text + m[3]).slice(0, 60)}`);
    last = tag.lastIndex;
    const [, close, name, , selfClose] = m;
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> closes the wrong element`);
    } else {
      names.push(name);
      if (!selfClose) stack.push(name);
    }
  }
  if (body.slice(last).trim() !== '') throw new Error(`text after the root: ${body.slice(last, last + 60)}`);
  if (stack.length !== 0) throw new Error(`unclosed: ${stack.join(', ')}`);
  if (names[0] !== 'svg') throw new Error('the root is not <svg>');
  if (/NaN|undefined|Infinity|null/.test(svg.replace(/<text[^>]*>[^<]*<\/text>/g, '')))
    throw new Error('NaN, undefined, Infinity or null in the markup');
  return names;
}

/** The values of attribute `attr` on every element carrying it. */
export function attributes(svg: string, attr: string): string[] {
  return [...svg.matchAll(new RegExp(`\\s${attr}="([^"]*)"`, 'g'))].map((m) => m[1]);
}

/** The text content of every <text> element with the given class (any when omitted). */
export function texts(svg: string, cls?: string): string[] {
  const re =
    cls === undefined ? /<text[^>]*>([^<]*)<\/text>/g : new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g');
  return [...svg.matchAll(re)].map((m) => m[1]);
}
