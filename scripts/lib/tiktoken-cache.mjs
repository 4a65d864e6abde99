// llmlingua asks tiktoken for cl100k_base at start-up, which would download it.
// The npm package `tiktoken` ships the same ranks, so the setup step rebuilds
// tiktoken's cache file from it and checks the hash tiktoken itself expects.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

// tiktoken's cache key is sha1 of the download URL; its expected content hash is fixed.
const CACHE_KEY = '9b5ad71b2ce5302211f9c61530b329a4922fc6a4';
const EXPECTED_SHA256 = '223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7';

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** js-tiktoken's compact form: lines of "<ignored> <first rank> <base64 token> <base64 token> ...". */
function toTiktokenFile(bpeRanks) {
  const ranked = [];
  for (const line of bpeRanks.split('\n')) {
    if (!line) continue;
    const [, offset, ...tokens] = line.split(' ');
    tokens.forEach((token, index) => {
      ranked.push([Number(offset) + index, token]);
    });
  }
  ranked.sort((a, b) => a[0] - b[0]);
  return `${ranked.map(([rank, token]) => `${token} ${rank}`).join('\n')}\n`;
}

/** Writes $cacheDir/<key> unless a file with the right hash is already there; returns its path. */
export function ensureTiktokenCache(cacheDir, resolveFrom) {
  const target = join(cacheDir, CACHE_KEY);
  if (existsSync(target) && sha256(readFileSync(target)) === EXPECTED_SHA256) return target;
  const require = createRequire(join(resolveFrom, 'package.json'));
  const encoder = JSON.parse(readFileSync(require.resolve('tiktoken/encoders/cl100k_base.json'), 'utf8'));
  const content = toTiktokenFile(encoder.bpe_ranks);
  const actual = sha256(content);
  if (actual !== EXPECTED_SHA256) {
    throw new Error(`rebuilt cl100k_base has SHA-256 ${actual}, tiktoken expects ${EXPECTED_SHA256}`);
  }
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(`${target}.tmp`, content);
  renameSync(`${target}.tmp`, target);
  return target;
}
