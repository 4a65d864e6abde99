import { type AnswerState, answeringModel, type SelectMetadata } from '@tokenflow/client';
import { useModelRankings } from '../connection.ts';
import { formatPricePerMTok } from '../format.ts';

/** What the gateway's `routing` field means (packages/server/src/routing/policy.ts). */
const ROUTING_REASONS: Record<string, string> = {
  classified: "the classifier's top category, confident enough",
  'low-confidence': 'the classifier was not confident enough, so the default category',
  unclassified: 'no classification, so the default category',
  'unknown-category': 'the catalog ranks no model for that category, so the default category',
  'nothing-fits': 'no model of that category fits the request, so the default category',
};

const key = (ref: { provider: string; model: string }) => `${ref.provider}/${ref.model}`;

/** The chosen model, every candidate with its rank and price, and each fallback with its reason. */
export function RoutingPanel({ metadata, answer }: { metadata: SelectMetadata; answer: AnswerState }) {
  const rankings = useModelRankings();
  const catalog = new Map(
    [
      ...(rankings.data?.categories[metadata.category] ?? []),
      ...(rankings.data?.categories[rankings.data.defaultCategory] ?? []),
    ]
      .reverse()
      .map((entry) => [key(entry), entry]),
  );
  const chosen = answeringModel(answer);
  const failed = new Map(answer.fallbacks.map((fallback) => [key(fallback.from), fallback]));

  return (
    <section className="card routing" aria-labelledby="routing-title">
      <h3 id="routing-title">Routing</h3>
      <p>
        Model <strong className="chosen-model">{chosen ? key(chosen) : '…'}</strong>, chosen from the{' '}
        <strong>{metadata.category}</strong> ranking: {ROUTING_REASONS[metadata.routing] ?? metadata.routing}.
      </p>
      <div className="table-scroll">
        <table className="candidates">
          <caption className="visually-hidden">Candidate models, in the order they are tried</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Rank</th>
              <th scope="col">Price in / out</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {metadata.candidates.map((candidate) => {
              const entry = catalog.get(key(candidate));
              const fallback = failed.get(key(candidate));
              const answering = chosen !== null && key(chosen) === key(candidate);
              return (
                <tr key={key(candidate)} className={answering ? 'answering' : undefined}>
                  <th scope="row">{key(candidate)}</th>
                  <td>{entry ? entry.rank : '–'}</td>
                  <td>
                    {entry
                      ? `${formatPricePerMTok(entry.price.inputPerMTok)} / ${formatPricePerMTok(entry.price.outputPerMTok)}`
                      : '–'}
                  </td>
                  <td>
                    {fallback ? (
                      <>
                        failed: <code>{fallback.code}</code> {fallback.reason}
                      </>
                    ) : answering ? (
                      answer.end ? (
                        'answered'
                      ) : (
                        'answering'
                      )
                    ) : (
                      'not needed'
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {answer.fallbacks.length > 0 ? (
        <ol className="fallbacks" aria-label="Fallbacks">
          {answer.fallbacks.map((fallback) => (
            <li key={key(fallback.from)}>
              Fell back from {key(fallback.from)} to {key(fallback.to)}: <code>{fallback.code}</code> {fallback.reason}
            </li>
          ))}
        </ol>
      ) : null}
      {metadata.notes.length > 0 ? (
        <ul className="notes" aria-label="Notes">
          {metadata.notes.map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
