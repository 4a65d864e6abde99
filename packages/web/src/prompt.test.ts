import { describe, expect, it } from 'vitest';
import { initialPrompt, isPromptEmpty, promptInput } from './prompt.ts';

describe('promptInput', () => {
  it('sends plain text as prompt and chat mode as messages, leaving out empty messages', () => {
    const prompt = initialPrompt('hi');
    expect(promptInput(prompt)).toEqual({ prompt: 'hi' });
    const chat = {
      ...prompt,
      mode: 'chat' as const,
      messages: [...prompt.messages, { role: 'user' as const, content: ' ' }],
    };
    expect(promptInput(chat)).toEqual({
      messages: [
        { role: 'system', content: 'You are a concise assistant.' },
        { role: 'user', content: 'hi' },
      ],
    });
  });

  it('treats whitespace-only text and messages as empty', () => {
    expect(isPromptEmpty({ ...initialPrompt('  \n'), mode: 'text' })).toBe(true);
    expect(isPromptEmpty({ mode: 'chat', text: '', messages: [{ role: 'user', content: '' }] })).toBe(true);
    expect(isPromptEmpty(initialPrompt('x'))).toBe(false);
  });
});
