import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { CategoryChips } from './CategoryChips.tsx';

const render = (props: { value: string[] | null; defaults: string[]; loadingDefaults: boolean }) =>
  renderToStaticMarkup(<CategoryChips {...props} onChange={() => {}} />);

describe('CategoryChips', () => {
  it("shows the catalog's categories while the defaults stand, with the reset button off", () => {
    const html = render({ value: null, defaults: ['code', 'general'], loadingDefaults: false });

    expect(html).toContain('code');
    expect(html).toContain('general');
    expect(html).toMatch(/<button type="button" disabled="">Reset to defaults<\/button>/);
    expect(html).not.toContain('class="hint"');
  });

  it('says the catalog is loading, then, if it could not be read, that the service defaults apply', () => {
    expect(render({ value: null, defaults: [], loadingDefaults: true })).toContain('Loading the catalog’s categories');

    const failed = render({ value: null, defaults: [], loadingDefaults: false });
    expect(failed).not.toContain('Loading');
    expect(failed).toContain('the ML service’s default categories apply');
  });

  it("shows the caller's own categories instead of the defaults, and lets them be reset", () => {
    const html = render({ value: ['legal'], defaults: ['code'], loadingDefaults: false });

    expect(html).toContain('legal');
    expect(html).not.toContain('>code<');
    expect(html).toMatch(/<button type="button">Reset to defaults<\/button>/);
  });
});
