import { useId } from 'react';
import { type ChatMessage, type Prompt, type Role, submitOnCtrlEnter } from '../prompt.ts';

const ROLES: Role[] = ['system', 'user', 'assistant'];

/** The prompt as plain text or as chat messages, each message with its role. */
export function PromptEditor({ prompt, onChange }: { prompt: Prompt; onChange(prompt: Prompt): void }) {
  const id = useId();
  const setMessage = (index: number, change: Partial<ChatMessage>) =>
    onChange({
      ...prompt,
      messages: prompt.messages.map((message, i) => (i === index ? { ...message, ...change } : message)),
    });

  return (
    <fieldset className="prompt-editor">
      <legend>Prompt</legend>
      <div className="segmented" role="radiogroup" aria-label="Prompt format">
        {(['text', 'chat'] as const).map((mode) => (
          <label key={mode}>
            <input
              type="radio"
              name={`${id}-mode`}
              value={mode}
              checked={prompt.mode === mode}
              onChange={() => onChange({ ...prompt, mode })}
            />
            {mode === 'text' ? 'Plain text' : 'Chat messages'}
          </label>
        ))}
      </div>
      {prompt.mode === 'text' ? (
        <>
          <label htmlFor={`${id}-text`} className="visually-hidden">
            Prompt text
          </label>
          <textarea
            id={`${id}-text`}
            rows={5}
            value={prompt.text}
            aria-describedby={`${id}-hint`}
            onChange={(event) => onChange({ ...prompt, text: event.target.value })}
            onKeyDown={submitOnCtrlEnter}
          />
        </>
      ) : (
        <ol className="messages">
          {prompt.messages.map((message, index) => (
            // Messages have no identity beyond their place in the conversation.
            // biome-ignore lint/suspicious/noArrayIndexKey: see above
            <li key={index} className="message">
              <label htmlFor={`${id}-role-${index}`} className="visually-hidden">
                Role of message {index + 1}
              </label>
              <select
                id={`${id}-role-${index}`}
                value={message.role}
                onChange={(event) => setMessage(index, { role: event.target.value as Role })}
              >
                {ROLES.map((role) => (
                  <option key={role} value={role}>
                    {role}
                  </option>
                ))}
              </select>
              <label htmlFor={`${id}-content-${index}`} className="visually-hidden">
                Message {index + 1}
              </label>
              <textarea
                id={`${id}-content-${index}`}
                rows={2}
                value={message.content}
                onChange={(event) => setMessage(index, { content: event.target.value })}
                onKeyDown={submitOnCtrlEnter}
              />
              <button
                type="button"
                className="icon"
                aria-label={`Remove message ${index + 1}`}
                disabled={prompt.messages.length === 1}
                onClick={() => onChange({ ...prompt, messages: prompt.messages.filter((_, i) => i !== index) })}
              >
                ×
              </button>
            </li>
          ))}
          <li>
            <button
              type="button"
              onClick={() => onChange({ ...prompt, messages: [...prompt.messages, { role: 'user', content: '' }] })}
            >
              Add message
            </button>
          </li>
        </ol>
      )}
      <p id={`${id}-hint`} className="hint">
        Ctrl+Enter runs it.
      </p>
    </fieldset>
  );
}
