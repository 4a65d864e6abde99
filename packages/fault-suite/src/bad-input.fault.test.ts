import superjson from 'superjson';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkCase } from './harness/check.ts';
import { openRawSocket, type RawSocket } from './harness/raw-socket.ts';
import { type FaultStack, GROQ_MODEL, rawRequest, startFaultStack } from './harness/stack.ts';

const HTTP_MAX_BODY_BYTES = 1024 * 1024;
/** Input that passed validation and left the gateway: it reached the ML service or the upstream. */
const ACCEPTED = 'ACCEPTED';

type Transport = 'trpc-http' | 'trpc-ws' | 'rest';
interface Row {
  why: string;
  /** The procedure's input (camelCase); NaN and Infinity travel through superjson over tRPC. */
  input?: unknown;
  /** Literal JSON text of the input, for keys such as "__proto__" that a JS object literal cannot hold. */
  raw?: string;
  /** Literal body bytes, e.g. invalid UTF-8. */
  bytes?: Buffer;
  expect?: string;
  /** Today's behaviour differs from the specification (BAD_REQUEST): what and why, for the report. */
  finding?: string;
  only?: Transport[];
}

const invalidUtf8 = (before: string, after: string) =>
  Buffer.concat([Buffer.from(before), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(after)]);
const oversize = (key: string) => ({
  why: `a body over HTTP_MAX_BODY_BYTES (${HTTP_MAX_BODY_BYTES})`,
  input: { [key]: 'x'.repeat(HTTP_MAX_BODY_BYTES + 10) },
  expect: 'PAYLOAD_TOO_LARGE',
  only: ['trpc-http', 'rest'] as Transport[],
});

const procedures: Array<{ name: string; transports: Transport[]; rest: string; snakeCase: boolean; rows: Row[] }> = [
  {
    name: 'classify',
    transports: ['trpc-http', 'rest'],
    rest: '/api/classify',
    snakeCase: true,
    rows: [
      { why: 'a valid prompt (control: reaches the ML service)', input: { prompt: 'hello' }, expect: ACCEPTED },
      { why: 'prompt is a number', input: { prompt: 42 } },
      { why: 'prompt is missing', input: {} },
      { why: 'prompt is empty', input: { prompt: '' } },
      { why: 'prompt is only whitespace', input: { prompt: '   ' } },
      { why: 'prompt is over 20,000 characters', input: { prompt: 'x'.repeat(20_001) } },
      { why: 'prompt is Infinity', input: { prompt: Number.POSITIVE_INFINITY } },
      { why: 'multiLabel is NaN', input: { prompt: 'hello', multiLabel: Number.NaN } },
      { why: 'possibleCategories is empty', input: { prompt: 'hello', possibleCategories: [] } },
      { why: 'the fields hide under "__proto__"', raw: '{"__proto__": {"prompt": "hello"}}' },
      { why: 'an unknown field', input: { prompt: 'hello', isAdmin: true } },
      {
        why: 'invalid UTF-8 bytes in the prompt',
        bytes: invalidUtf8('{"prompt": "hi ', '"}'),
      },
      oversize('prompt'),
    ],
  },
  {
    name: 'compress',
    transports: ['trpc-http', 'rest'],
    rest: '/api/compress',
    snakeCase: true,
    rows: [
      { why: 'a valid text (control: reaches the ML service)', input: { text: 'hello there' }, expect: ACCEPTED },
      { why: 'text is a number', input: { text: 42 } },
      { why: 'text is missing', input: { ratio: 0.5 } },
      { why: 'text is empty', input: { text: '' } },
      { why: 'text is over 400,000 characters', input: { text: 'x'.repeat(400_001) } },
      { why: 'ratio is NaN', input: { text: 'hello', ratio: Number.NaN } },
      { why: 'ratio is Infinity', input: { text: 'hello', ratio: Number.POSITIVE_INFINITY } },
      { why: 'ratio is negative', input: { text: 'hello', ratio: -0.5 } },
      { why: 'targetTokens is not an integer', input: { text: 'hello', targetTokens: 1.5 } },
      { why: 'forceTokens is a string', input: { text: 'hello', forceTokens: 'Alice' } },
      { why: 'the fields hide under "__proto__"', raw: '{"__proto__": {"text": "hello"}}' },
      { why: 'an unknown field', input: { text: 'hello', mode: 'fast' } },
      {
        why: 'invalid UTF-8 bytes in the text',
        bytes: invalidUtf8('{"text": "hi ', '"}'),
      },
      oversize('text'),
    ],
  },
  {
    name: 'generate',
    transports: ['trpc-ws', 'rest'],
    rest: '/api/generate',
    snakeCase: false,
    rows: [
      {
        why: 'a valid request (control: reaches the upstream)',
        input: { prompt: 'hi', ...GROQ_MODEL },
        expect: ACCEPTED,
      },
      { why: 'model is missing', input: { prompt: 'hi' } },
      { why: 'prompt is a number', input: { prompt: 42, ...GROQ_MODEL } },
      { why: 'prompt is empty', input: { prompt: '', ...GROQ_MODEL } },
      { why: 'model is only whitespace', input: { prompt: 'hi', model: '   ' } },
      { why: 'prompt is over 400,000 characters', input: { prompt: 'x'.repeat(400_001), ...GROQ_MODEL } },
      {
        why: 'both prompt and messages',
        input: { prompt: 'hi', messages: [{ role: 'user', content: 'hi' }], ...GROQ_MODEL },
      },
      { why: 'messages is empty', input: { messages: [], ...GROQ_MODEL } },
      {
        why: 'a message has an unknown role',
        input: { messages: [{ role: 'function', content: 'hi' }], ...GROQ_MODEL },
      },
      {
        why: 'a valid request with a tool (control: reaches the upstream)',
        input: { prompt: 'hi', tools: [{ type: 'function', function: { name: 'f' } }], ...GROQ_MODEL },
        expect: ACCEPTED,
      },
      {
        why: 'a tool result without toolCallId',
        input: { messages: [{ role: 'tool', content: 'hi' }], ...GROQ_MODEL },
      },
      {
        why: 'a tool name with a space',
        input: { prompt: 'hi', tools: [{ type: 'function', function: { name: 'get weather' } }], ...GROQ_MODEL },
      },
      {
        why: 'a tool definition with an unknown field',
        input: { prompt: 'hi', tools: [{ type: 'function', function: { name: 'f' }, cache: true }], ...GROQ_MODEL },
      },
      { why: 'toolChoice without tools', input: { prompt: 'hi', toolChoice: 'required', ...GROQ_MODEL } },
      {
        why: 'an image over plain http',
        input: {
          messages: [{ role: 'user', content: [{ type: 'image_url', imageUrl: { url: 'http://example.com/a.png' } }] }],
          ...GROQ_MODEL,
        },
      },
      {
        why: 'a json_schema response format whose schema is over 100,000 characters',
        input: {
          prompt: 'hi',
          responseFormat: {
            type: 'json_schema',
            jsonSchema: { name: 'r', schema: { description: 'x'.repeat(100_001) } },
          },
          ...GROQ_MODEL,
        },
      },
      { why: 'temperature is NaN', input: { prompt: 'hi', temperature: Number.NaN, ...GROQ_MODEL } },
      { why: 'maxTokens is Infinity', input: { prompt: 'hi', maxTokens: Number.POSITIVE_INFINITY, ...GROQ_MODEL } },
      { why: 'temperature is negative', input: { prompt: 'hi', temperature: -1, ...GROQ_MODEL } },
      { why: 'stop has 5 sequences', input: { prompt: 'hi', stop: ['a', 'b', 'c', 'd', 'e'], ...GROQ_MODEL } },
      { why: 'the fields hide under "__proto__"', raw: '{"__proto__": {"prompt": "hi", "model": "groq/m"}}' },
      {
        why: 'an unknown field',
        input: { prompt: 'hi', maxtokens: 5, ...GROQ_MODEL },
      },
      {
        why: 'invalid UTF-8 bytes in the prompt',
        bytes: invalidUtf8('{"provider": "groq", "model": "groq-thinking-part-iter-0", "prompt": "hi ', '"}'),
        only: ['rest'],
      },
      oversize('prompt'),
    ],
  },
  {
    name: 'selectModel',
    transports: ['trpc-ws', 'rest'],
    rest: '/api/models/select',
    snakeCase: false,
    rows: [
      { why: 'a valid request (control: reaches the ML service)', input: { prompt: 'hi' }, expect: ACCEPTED },
      { why: 'prompt and messages are both missing', input: {} },
      { why: 'prompt is a number', input: { prompt: 42 } },
      { why: 'prompt is empty', input: { prompt: '' } },
      { why: 'prompt is over 400,000 characters', input: { prompt: 'x'.repeat(400_001) } },
      { why: 'maxPricePerMTok is negative', input: { prompt: 'hi', maxPricePerMTok: -1 } },
      { why: 'maxPricePerMTok is NaN', input: { prompt: 'hi', maxPricePerMTok: Number.NaN } },
      { why: 'topP is Infinity', input: { prompt: 'hi', topP: Number.POSITIVE_INFINITY } },
      { why: 'possibleCategories is empty', input: { prompt: 'hi', possibleCategories: [] } },
      { why: 'prefer is not a known preference', input: { prompt: 'hi', prefer: 'vibes' } },
      { why: 'compress.ratio is over 1', input: { prompt: 'hi', compress: { ratio: 3 } } },
      { why: 'the fields hide under "__proto__"', raw: '{"__proto__": {"prompt": "hi"}}' },
      { why: 'an unknown field', input: { prompt: 'hi', budget: 'low' } },
      {
        why: 'invalid UTF-8 bytes in the prompt',
        bytes: invalidUtf8('{"prompt": "hi ', '"}'),
        only: ['rest'],
      },
      oversize('prompt'),
    ],
  },
];

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** JSON has no NaN or Infinity: REST sends NaN as a string and Infinity as 1e999 (which JSON.parse reads as Infinity). */
function restJson(value: unknown, snakeCase: boolean): string {
  const shaped =
    snakeCase && value && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value).map(([k, v]) => [snake(k), v]))
      : value;
  return JSON.stringify(shaped, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? `__number_${v}__` : v))
    .replaceAll('"__number_NaN__"', '"NaN"')
    .replaceAll('"__number_Infinity__"', '1e999')
    .replaceAll('"__number_-Infinity__"', '-1e999');
}

function trpcBody(row: Row): string | Buffer {
  if (row.bytes) return Buffer.concat([Buffer.from('{"json":'), row.bytes, Buffer.from('}')]);
  if (row.raw) return `{"json":${row.raw}}`;
  return JSON.stringify(superjson.serialize(row.input));
}

let stack: FaultStack;
let socket: RawSocket;
let nextId = 1;

beforeAll(async () => {
  stack = await startFaultStack({ env: { HTTP_MAX_BODY_BYTES: String(HTTP_MAX_BODY_BYTES) } });
  socket = await openRawSocket(stack.gateway.url);
});
afterAll(async () => {
  socket?.ws.close();
  await stack?.close();
});
afterEach(() => {
  stack.upstream.requests.length = 0;
  stack.proxy.requests.length = 0;
});

async function send(transport: Transport, procedure: (typeof procedures)[number], row: Row): Promise<string | null> {
  if (transport === 'trpc-http') {
    const response = await rawRequest(stack.gateway.url, { path: `/trpc/${procedure.name}`, body: trpcBody(row) });
    const error = (response.json as { error?: { json?: { data?: { code?: string } } } } | undefined)?.error;
    return response.status === 200 ? null : (error?.json?.data?.code ?? `HTTP ${response.status}`);
  }
  if (transport === 'rest') {
    const body = row.bytes ?? row.raw ?? restJson(row.input, procedure.snakeCase);
    const response = await rawRequest(stack.gateway.url, { path: procedure.rest, body });
    const code = (response.json as { code?: string } | undefined)?.code;
    if (response.status !== 200) return code ?? `HTTP ${response.status}`;
    // A stream that started: an `event: error` in it carries a code too.
    const streamed = /event: error\ndata: (.*)\n/.exec(response.text)?.[1];
    return streamed ? ((JSON.parse(streamed) as { code?: string }).code ?? 'STREAM_ERROR') : null;
  }
  const id = nextId++;
  const input = row.raw ? `{"json":${row.raw}}` : JSON.stringify(superjson.serialize(row.input));
  const from = socket.received.length;
  socket.send(`{"id":${id},"method":"subscription","params":{"path":"${procedure.name}","input":${input}}}`);
  const answer = await socket.waitFor((m) => m.id === id, 5, from);
  socket.send(JSON.stringify({ id, method: 'subscription.stop' }));
  const error = answer.error as { json?: { data?: { code?: string } } } | undefined;
  if (!error) await socket.waitFor((m) => m.id === id && (m.result as { type?: string })?.type === 'stopped', 5, from);
  return error ? (error.json?.data?.code ?? 'UNKNOWN_ERROR') : null;
}

describe.each(procedures)(
  '$name refuses bad input before anything reaches the ML service or the upstream',
  (procedure) => {
    const cases = procedure.transports.flatMap((transport) =>
      procedure.rows
        .filter((row) => !row.only || row.only.includes(transport))
        .map((row) => ({ transport, row, code: row.expect ?? 'BAD_REQUEST' })),
    );

    it.each(cases)('$transport: $row.why → $code', async ({ transport, row, code }) => {
      let clientCode: string | null = null;

      await checkCase(
        'bad-input',
        code,
        stack.alive,
        async () => {
          clientCode = await send(transport, procedure, row);
          const reached = stack.proxy.requests.length + stack.upstream.requests.length;
          return reached > 0 ? ACCEPTED : clientCode;
        },
        row.finding ? { finding: row.finding } : {},
      );

      if (code !== ACCEPTED) expect(clientCode).toBe(code);
    });
  },
);

describe('modelRankings takes no input', () => {
  it.each([
    {
      why: 'junk input is ignored',
      path: `/trpc/modelRankings?input=${encodeURIComponent('{"json":{"__proto__":{"x":1},"a":1e999}}')}`,
      code: null,
    },
    // tRPC only parses input for procedures that declare one.
    { why: 'input that is not JSON is ignored', path: '/trpc/modelRankings?input=%7Bnot', code: null },
    { why: 'a REST query string is ignored', path: '/api/model-rankings?category=%00%ff', code: null },
  ])('$why → $code', async ({ path, code }) => {
    await checkCase('bad-input', code, stack.alive, async () => {
      const response = await rawRequest(stack.gateway.url, { path });
      const error = (response.json as { error?: { json?: { data?: { code?: string } } } } | undefined)?.error;
      expect(stack.proxy.requests.length + stack.upstream.requests.length).toBe(0);
      return response.status === 200 ? null : (error?.json?.data?.code ?? `HTTP ${response.status}`);
    });
  });
});

it('no "__proto__" key in any input reached Object.prototype', () => {
  const probe = {} as Record<string, unknown>;
  for (const key of ['prompt', 'text', 'model', 'x']) expect(probe[key]).toBeUndefined();
});
