import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { round } from './stats.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Where a function's code lives: a package, a Node.js module, TokenFlow's own code, or V8's bookkeeping. */
function ownerOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pnpm = /node_modules\/\.pnpm\/(@?[^@/]+(?:\+[^@/]+)?)@/.exec(url);
  if (pnpm) return (pnpm[1] as string).replace('+', '/');
  const module = /node_modules\/(@[^/]+\/[^/]+|[^/]+)\//.exec(url);
  if (module) return module[1] as string;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').replace(/\/.*$/, '');
  const ours = /packages\/([^/]+)\/(src|test-utils|dist)\/(.*)$/.exec(url);
  if (ours) return `tokenflow ${ours[1]}/${ours[3]}`;
  return url;
}

export interface ProfileSummary {
  file: string;
  /** Samples that were not idle (V8 samples about once per millisecond). */
  busySamples: number;
  /** Share of busy samples by owner, largest first (self time). */
  owners: Array<{ owner: string; percent: number }>;
  /** The functions with the most self time. */
  functions: Array<{ fn: string; owner: string; percent: number }>;
}

/**
 * Self time in the gateway's main thread, by owner and by function. Node writes
 * a profile per thread (tsx's module loader runs in a worker of its own): the
 * main thread's is the largest.
 */
export function summarizeProfile(dir: string, top = 15): ProfileSummary | null {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size);
  const file = files[0];
  if (!file) return null;
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[] };
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, { owner: string; hits: number }>();
  let busy = 0;
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (count === 0 || functionName === '(idle)') continue;
    busy += count;
    const owner = ownerOf(url, functionName);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + count);
    const key = `${functionName || '(anonymous)'} ${url ? `${url.split('/').at(-1)}:${lineNumber + 1}` : ''}`.trim();
    const entry = byFunction.get(key) ?? { owner, hits: 0 };
    entry.hits += count;
    byFunction.set(key, entry);
  }
  const percent = (n: number) => round((100 * n) / busy, 1);
  return {
    file,
    busySamples: busy,
    owners: [...byOwner]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([owner, n]) => ({ owner, percent: percent(n) })),
    functions: [...byFunction]
      .sort((a, b) => b[1].hits - a[1].hits)
      .slice(0, top)
      .map(([fn, { owner, hits: n }]) => ({ fn, owner, percent: percent(n) })),
  };
}
