import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Tabs } from './Tabs.tsx';

describe('Tabs', () => {
  it('tells a panel given as a function whether it is the one shown', () => {
    const html = renderToStaticMarkup(
      <Tabs
        label="Modes"
        tabs={[
          { id: 'first', label: 'First', panel: (selected) => <p>first {selected ? 'shown' : 'hidden'}</p> },
          { id: 'second', label: 'Second', panel: (selected) => <p>second {selected ? 'shown' : 'hidden'}</p> },
          { id: 'third', label: 'Third', panel: <p>third as it is</p> },
        ]}
      />,
    );

    expect(html).toContain('<p>first shown</p>');
    expect(html).toContain('<p>second hidden</p>');
    expect(html).toContain('<p>third as it is</p>');
  });
});
