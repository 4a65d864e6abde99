import { streamGenerate } from '@tokenflow/client';
import { type FormEvent, useState } from 'react';
import { useConnection } from '../connection.ts';
import { initialPrompt, isPromptEmpty, promptInput } from '../prompt.ts';
import { useStream } from '../use-stream.ts';
import { AnswerStream } from './AnswerStream.tsx';
import { ErrorMessage } from './ErrorMessage.tsx';
import { CUSTOM, ModelPicker } from './ModelPicker.tsx';
import { PromptEditor } from './PromptEditor.tsx';
import { RunControls } from './RunControls.tsx';

/** generate: stream from one model, chosen by hand. */
export function GenerateTab() {
  const { client } = useConnection();
  const stream = useStream();
  const [prompt, setPrompt] = useState(() => initialPrompt('Tell me a short joke about compilers.'));
  const [choice, setChoice] = useState('');
  const [custom, setCustom] = useState('');
  const model = choice === CUSTOM ? custom.trim() : choice;

  const run = (event: FormEvent) => {
    event.preventDefault();
    if (isPromptEmpty(prompt) || !model || stream.status === 'running') return;
    const input = { ...promptInput(prompt), model };
    void stream.start((signal) => streamGenerate(client, input, { signal }));
  };

  return (
    <div className="tab-layout">
      <form className="controls" onSubmit={run} aria-label="Generate with a chosen model">
        <ModelPicker choice={choice} custom={custom} onChoice={setChoice} onCustom={setCustom} />
        <PromptEditor prompt={prompt} onChange={setPrompt} />
        <RunControls
          running={stream.status === 'running'}
          canRun={!isPromptEmpty(prompt) && model.length > 0}
          onStop={stream.stop}
        />
      </form>
      <div className="results">
        <ErrorMessage error={stream.error} />
        <AnswerStream status={stream.status} answer={stream.answer} />
      </div>
    </div>
  );
}
