import type { SelectMetadata } from '@tokenflow/client';
import { formatMs, formatPercent } from '../format.ts';

/** The classifier's score per category as bars, the chosen category first-class. */
export function ClassificationBars({ metadata }: { metadata: SelectMetadata }) {
  const scores = [...metadata.scores].sort((a, b) => b.score - a.score);
  return (
    <section className="card classification" aria-labelledby="classification-title">
      <h3 id="classification-title">Classification</h3>
      {metadata.classification === 'unavailable' ? (
        <p className="warning">The classifier was unavailable; the request was routed with the default category.</p>
      ) : null}
      <p>
        Category <strong className="category">{metadata.category}</strong>
        {metadata.confidence !== null ? ` at ${formatPercent(metadata.confidence)} confidence` : ''}, in{' '}
        {formatMs(metadata.classificationMs)}.
      </p>
      {scores.length > 0 ? (
        <ul className="bars" aria-label="Scores per category">
          {scores.map(({ label, score }) => (
            <li key={label} className={label === metadata.category ? 'bar chosen' : 'bar'}>
              <span className="bar-label">{label}</span>
              <meter min={0} max={1} value={score} aria-label={`${label} score`}>
                {formatPercent(score)}
              </meter>
              <span className="bar-value">{formatPercent(score)}</span>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
