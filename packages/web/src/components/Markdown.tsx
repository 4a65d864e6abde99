import { memo } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/**
 * The URL a link may point to, or undefined (no link): absolute http(s) and
 * mailto only, so a model's answer can never carry `javascript:`, `data:` or a
 * path into the gateway itself.
 */
export function safeUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url); // a relative URL throws: there is no base to resolve it against
  } catch {
    return undefined;
  }
  return SAFE_PROTOCOLS.has(parsed.protocol) ? parsed.href : undefined;
}

const components: Components = {
  a: ({ href, title, children }) =>
    href ? (
      <a href={href} title={title} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    ) : (
      <span>{children}</span>
    ),
  // An image would load from wherever the model says (and the page's CSP refuses it): link it instead.
  img: ({ src, alt }) =>
    typeof src === 'string' ? (
      <a href={src} target="_blank" rel="noopener noreferrer">
        {alt || src}
      </a>
    ) : (
      <span>{alt}</span>
    ),
};

/**
 * A model's answer as Markdown: headings, lists, emphasis, code blocks. Raw HTML
 * in it is shown as text, never parsed. It is re-rendered as the text grows; an
 * unclosed code fence is simply a code block that runs to the end so far.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <ReactMarkdown components={components} urlTransform={safeUrl}>
      {text}
    </ReactMarkdown>
  );
});
