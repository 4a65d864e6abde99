import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type OpenAI from 'openai';

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = join(here, '..', '..', '..', 'ml-python', '.venv', 'bin', 'python');
const PYTHON_CLIENT = join(here, 'openai_python_client.py');
const execFileAsync = promisify(execFile);

export type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk & { tokenflow?: Record<string, unknown> };

export async function collect(stream: AsyncIterable<Chunk>) {
  const chunks: Chunk[] = [];
  let text = '';
  for await (const chunk of stream) {
    chunks.push(chunk);
    text += chunk.choices[0]?.delta.content ?? '';
  }
  return { chunks, text };
}

export type PythonLine = Record<string, unknown>;

/**
 * Runs the official `openai` Python package against the gateway (openai_python_client.py: a
 * text stream, or with `tools: true` a tool-calling one); one JSON object per line it printed.
 */
export async function runPython(options: Record<string, unknown>): Promise<PythonLine[]> {
  const { stdout } = await execFileAsync(PYTHON, [PYTHON_CLIENT, JSON.stringify(options)], { timeout: 60_000 });
  return stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as PythonLine);
}
export const textOf = (lines: PythonLine[]) => lines.map((line) => line.text ?? '').join('');
