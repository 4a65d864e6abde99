import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashApiKey, KeyRing, newApiKey, parseApiKeys } from './api-keys.ts';
import { authenticate, bearerKey } from './credentials.ts';

const alice = newApiKey('alice');
const bob = newApiKey('bob');

describe('API keys', () => {
  it('makes random keys and stores only their SHA-256', () => {
    expect(alice.key).toMatch(/^tf_[A-Za-z0-9_-]{43}$/);
    expect(alice.key).not.toBe(bob.key);
    expect(alice.entry).toEqual({ name: 'alice', hash: hashApiKey(alice.key) });
    expect(alice.entry.hash).not.toContain(alice.key);
  });

  it('reads a comma-separated list of name:hash pairs', () => {
    const { entries, problems } = parseApiKeys(`alice:${alice.entry.hash}, bob:${bob.entry.hash}`, undefined);
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.name)).toEqual(['alice', 'bob']);
  });

  it('reads a JSON list with per-key limits, inline or from a file', () => {
    const list = [{ ...alice.entry, limits: { requestsPerMinute: 60, maxConnections: 2 } }];
    const file = join(mkdtempSync(join(tmpdir(), 'tokenflow-keys-')), 'keys.json');
    writeFileSync(file, JSON.stringify({ keys: [bob.entry] }));
    const { entries, problems } = parseApiKeys(JSON.stringify(list), file);
    expect(problems).toEqual([]);
    expect(entries).toEqual([list[0], bob.entry]);
  });

  it.each([
    ['a plain key instead of its hash', `alice:${alice.key}`, /TOKENFLOW_API_KEYS\[0.hash\]: must be "sha256:"/],
    ['a name with spaces', `al ice:${alice.entry.hash}`, /TOKENFLOW_API_KEYS\[0.name\]/],
    ['broken JSON', '[{"name": ', /not valid JSON/],
    ['an unknown limit', JSON.stringify([{ ...alice.entry, limits: { rpm: 5 } }]), /Unrecognized key/],
    ['a name used twice', `alice:${alice.entry.hash},alice:${bob.entry.hash}`, /"alice" is used twice/],
  ])('refuses %s with a message naming the variable', (_, value, message) => {
    const { problems } = parseApiKeys(value, undefined);
    expect(problems.join('\n')).toMatch(message);
  });

  it('names a keys file that does not exist', () => {
    expect(parseApiKeys(undefined, '/nonexistent/keys.json').problems.join()).toMatch(
      /TOKENFLOW_API_KEYS_FILE: \/nonexistent\/keys.json does not exist/,
    );
  });
});

describe('KeyRing', () => {
  const ring = new KeyRing([{ ...alice.entry, limits: { requestsPerMinute: 5 } }, bob.entry], {
    requestsPerMinute: 100,
    concurrentStreams: 3,
  });

  it('finds the principal of a valid key, its own limits over the defaults', () => {
    expect(ring.verify(alice.key)).toEqual({ name: 'alice', limits: { requestsPerMinute: 5, concurrentStreams: 3 } });
    expect(ring.verify(bob.key)?.name).toBe('bob');
  });

  it('knows no key that differs by one character, or an empty one', () => {
    expect(ring.verify(`${alice.key.slice(0, -1)}x`)).toBeNull();
    expect(ring.verify('')).toBeNull();
  });

  it('answers UNAUTHORIZED for a missing or wrong key without repeating it', () => {
    expect(() => authenticate(ring, undefined, 'send it as a header')).toThrow(
      'An API key is required: send it as a header.',
    );
    expect(() => authenticate(ring, 'tf_wrong-key-planted', 'x')).toThrow('The API key is not valid.');
    expect(authenticate(ring, alice.key, 'x').name).toBe('alice');
  });

  it('lets everyone in as "anonymous" when no key is configured', () => {
    expect(authenticate(new KeyRing([], {}), undefined, 'x')).toEqual({ name: 'anonymous', limits: {} });
  });
});

describe('bearerKey', () => {
  it.each([
    [{}, undefined],
    [{ authorization: `Bearer ${alice.key}` }, alice.key],
    [{ authorization: `bearer   ${alice.key} ` }, alice.key],
    [{ authorization: `Basic ${alice.key}` }, null],
    [{ authorization: 'Bearer a b' }, null],
    [{ authorization: `Bearer ${'x'.repeat(513)}` }, null],
  ])('reads %j as %s', (headers, expected) => {
    expect(bearerKey(headers)).toBe(expected);
  });
});
