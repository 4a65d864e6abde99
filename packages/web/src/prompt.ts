import type { RouterInputs } from '@tokenflow/client';
import type { KeyboardEvent } from 'react';

type InputMessage = NonNullable<RouterInputs['generate']['messages']>[number];
export type Role = 'system' | 'user' | 'assistant';
/** The playground edits plain text messages (no tool calls or images): a subset of the input's messages. */
export type ChatMessage = { role: Role; content: string } & InputMessage;

/** The editor's content: both forms are kept, so switching between them loses nothing. */
export interface Prompt {
  mode: 'text' | 'chat';
  text: string;
  messages: ChatMessage[];
}

export const initialPrompt = (text: string): Prompt => ({
  mode: 'text',
  text,
  messages: [
    { role: 'system', content: 'You are a concise assistant.' },
    { role: 'user', content: text },
  ],
});

/** The `prompt` or `messages` field of a generate/selectModel input (empty messages are left out). */
export function promptInput(prompt: Prompt): { prompt: string } | { messages: ChatMessage[] } {
  if (prompt.mode === 'text') return { prompt: prompt.text };
  return { messages: prompt.messages.filter((message) => message.content.trim().length > 0) };
}

export function isPromptEmpty(prompt: Prompt): boolean {
  return prompt.mode === 'text'
    ? prompt.text.trim().length === 0
    : !prompt.messages.some((message) => message.content.trim().length > 0);
}

/** Ctrl+Enter (⌘+Enter on a Mac) in a text area submits its form. */
export function submitOnCtrlEnter(event: KeyboardEvent<HTMLTextAreaElement>) {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    event.currentTarget.form?.requestSubmit();
  }
}
