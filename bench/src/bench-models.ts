import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './processes.ts';

export const venvPython = join(repoRoot, 'packages', 'ml-python', '.venv', 'bin', 'python');

const folders = {
  'nli-large': 'bart-large-shaped-mnli',
  // llmlingua picks its word-merging rule from the model path: keep this substring.
  'mbert-base': 'mbert-base-shaped-llmlingua-2-bert-base-multilingual-cased',
} as const;

/** A production-shaped model with random weights (built once, then reused): speed depends on the shape. */
export function benchModel(kind: keyof typeof folders): string {
  const dir = join(repoRoot, 'packages', 'ml-python', '.cache', 'bench-models', folders[kind]);
  execFileSync(venvPython, [join(repoRoot, 'bench', 'src', 'build-bench-model.py'), kind, dir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return dir;
}
