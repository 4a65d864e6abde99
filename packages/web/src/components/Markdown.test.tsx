import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Markdown, safeUrl } from './Markdown.tsx';

const render = (text: string) => renderToStaticMarkup(<Markdown text={text} />);

describe('Markdown', () => {
  it('renders emphasis, headings and a fenced code block instead of showing their syntax', () => {
    const html = render('### Steps\n\nUse **bold** and `x`:\n\n```python\nprint("hi")\n```\n');

    expect(html).toContain('<h3>Steps</h3>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<code>x</code>');
    expect(html).toContain('<pre><code class="language-python">print(&quot;hi&quot;)\n</code></pre>');
    expect(html).not.toMatch(/\*\*|```/);
  });

  it('shows a code fence that is still open (mid-stream) as a code block so far', () => {
    const html = render('Here:\n\n```js\nconst a = 1;\nconst b');

    expect(html).toContain('<p>Here:</p>');
    expect(html).toContain('<pre><code class="language-js">const a = 1;\nconst b\n</code></pre>');
  });

  it('shows raw HTML as text, never as elements', () => {
    const html = render('<think>\nhmm\n</think>\n\n<img src=x onerror=alert(1)> <script>alert(1)</script>');

    expect(html).toContain('&lt;think&gt;');
    expect(html).toContain('&lt;script&gt;');
    expect(html).not.toMatch(/<(img|script|think)\b/);
  });

  it('links only to http(s) and mailto, opening them apart from the page', () => {
    const html = render('[docs](https://example.com/a) [bad](javascript:alert(1)) [mail](mailto:a@example.com)');

    expect(html).toContain('<a href="https://example.com/a" target="_blank" rel="noopener noreferrer">docs</a>');
    expect(html).toContain('<a href="mailto:a@example.com" target="_blank" rel="noopener noreferrer">mail</a>');
    expect(html).toContain('<span>bad</span>');
    expect(html).not.toContain('javascript:');
  });

  it('turns an image into a link to it, so the page loads nothing the model names', () => {
    const html = render('![a cat](https://example.com/cat.png) ![x](data:image/png;base64,AAAA)');

    expect(html).toContain('<a href="https://example.com/cat.png" target="_blank" rel="noopener noreferrer">a cat</a>');
    expect(html).toContain('<span>x</span>');
    expect(html).not.toContain('<img');
  });
});

describe('safeUrl', () => {
  it.each([
    ['https://example.com/x?y=1', 'https://example.com/x?y=1'],
    ['HTTP://Example.com', 'http://example.com/'],
    ['mailto:someone@example.com', 'mailto:someone@example.com'],
  ])('keeps %s', (url, expected) => {
    expect(safeUrl(url)).toBe(expected);
  });

  it.each([
    'javascript:alert(1)',
    ' JavaScript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:msgbox(1)',
    'file:///etc/passwd',
    '/trpc/usage',
    '//evil.example/x',
    '#top',
  ])('drops %s', (url) => {
    expect(safeUrl(url)).toBeUndefined();
  });
});
