import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from '../../test-utils/index.ts';

function builtPlayground() {
  const dir = mkdtempSync(join(tmpdir(), 'tokenflow-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(
    join(dir, 'index.html'),
    '<!doctype html><title>TokenFlow</title><script src="/assets/app-1a2b.js"></script>',
  );
  writeFileSync(join(dir, 'assets', 'app-1a2b.js'), 'console.log("playground")');
  writeFileSync(join(tmpdir(), 'secret.txt'), 'not for the web');
  return dir;
}

/** A raw GET, so paths like /assets/../x reach the server unnormalised. */
function get(url: string, path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { path }, (res) => {
      let body = '';
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

let gateway: RunningGateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe('the web playground on the gateway port', () => {
  it('serves the page at / with a strict content security policy, and its hashed assets as immutable', async () => {
    gateway = await startGateway({ WEB_DIST_DIR: builtPlayground() });
    const page = await get(gateway.url, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'; connect-src 'self' ws: wss:/);
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('<title>TokenFlow</title>');
    const script = await get(gateway.url, '/assets/app-1a2b.js');
    expect([script.status, script.headers['content-type'], script.headers['cache-control']]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
    ]);
  });

  it.each(['/assets/../../secret.txt', '/assets/%2e%2e/%2e%2e/secret.txt', '/assets/nope.js', '/assets/'])(
    'answers 404 for %s, never a file outside the folder',
    async (path) => {
      gateway = await startGateway({ WEB_DIST_DIR: builtPlayground() });
      const response = await get(gateway.url, path);
      expect(response.status).toBe(404);
      expect(response.body).not.toContain('not for the web');
    },
  );

  it('says how to build the playground when it is not built', async () => {
    gateway = await startGateway({ WEB_DIST_DIR: join(tmpdir(), 'no-such-playground') });
    const response = await get(gateway.url, '/');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body).message).toMatch(/web playground is not built .* run npm run setup/);
  });

  it('serves no page with WEB_UI=off', async () => {
    gateway = await startGateway({ WEB_DIST_DIR: builtPlayground(), WEB_UI: 'off' });
    expect((await get(gateway.url, '/')).status).toBe(404);
  });
});
