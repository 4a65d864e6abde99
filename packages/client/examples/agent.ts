// An agent on the official openai SDK, through TokenFlow by its base URL only: `tokenflow/auto`
// routes each turn to a model that supports tools, and the SDK's runTools runs the loop
// (tool calls -> tool results -> final answer). Without a provider account:
//   REPLAY_FIXTURE=agent npm run replay-upstream, with Groq pointed at it (README), then npm run agent
import OpenAI from 'openai';

const openai = new OpenAI({
  baseURL: `${process.env.TOKENFLOW_URL ?? 'http://127.0.0.1:8000'}/v1`,
  apiKey: process.env.TOKENFLOW_API_KEY ?? 'none',
});

/** A tool the SDK runs itself when the model calls it. */
function tool(
  name: string,
  description: string,
  properties: Record<string, unknown>,
  run: (args: Record<string, unknown>) => string,
) {
  return {
    type: 'function' as const,
    function: {
      name,
      description,
      parameters: {
        type: 'object',
        properties,
        required: Object.keys(properties),
        additionalProperties: false,
      } as OpenAI.FunctionParameters,
      parse: JSON.parse,
      function: (args: Record<string, unknown>) => {
        const result = run(args);
        console.error(`[tool ${name}(${JSON.stringify(args)}) -> ${result}]`);
        return result;
      },
    },
  };
}

const runner = openai.chat.completions.runTools({
  model: 'tokenflow/auto',
  messages: [{ role: 'user', content: 'Tell me: the capital of the country; the weather there; the product name' }],
  tools: [
    tool('get_country', 'The country the user is in.', {}, () => 'Mexico'),
    tool('get_product_name', 'The product the user asks about.', {}, () => 'Pydantic AI'),
    tool('get_weather', 'The weather in a city.', { city: { type: 'string' } }, () => 'sunny'),
    tool('final_result', 'The final response.', { answers: { type: 'array' } }, () => 'Final result processed.'),
  ],
});
runner.on('chatCompletion', (completion) => {
  const turn = completion as OpenAI.Chat.Completions.ChatCompletion & { tokenflow?: { category?: string } };
  console.error(
    `[turn answered by ${turn.model}${turn.tokenflow?.category ? `, category ${turn.tokenflow.category}` : ''}]`,
  );
});
console.log(await runner.finalContent());
