import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedPort } from '@tokenflow/server/test-utils';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTokenFlowClient } from './index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('npm start', () => {
  it('starts the ML service and the gateway, then stops both on Ctrl-C', async () => {
    const [port, mlPort] = [await closedPort(), await closedPort()];
    const child = spawn(process.execPath, [join(root, 'scripts', 'start.mjs')], {
      cwd: root,
      env: { ...process.env, PORT: String(port), ML_PORT: String(mlPort), ML_SERVICE_URL: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });

    await expect.poll(() => output, { timeout: 60_000, interval: 200 }).toContain('TokenFlow is running');
    const client = createTokenFlowClient({ url: `http://127.0.0.1:${port}`, WebSocket });
    expect((await client.trpc.health.query()).status).toBe('ok');
    expect((await fetch(`http://127.0.0.1:${mlPort}/healthz`)).status).toBe(200);
    expect(output).toMatch(/gateway \| .*gateway listening/);
    expect(output).toMatch(/ml +\| .*Uvicorn running/);

    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${mlPort}/healthz`)).rejects.toThrow();
    await client.close();
  }, 90_000);
});
