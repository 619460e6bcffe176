// The Responses API (/v1/responses) through the clients that use it: the official `openai` npm
// client (responses.create, streamed events, the responses.stream helper, a function call forced
// by tool_choice and its output sent back) and the Vercel AI SDK (`ai` 5 with @ai-sdk/openai 2,
// whose default `openai(model)` is a Responses model: generateText, streamText, and a tool
// called under toolChoice 'required', executed, and answered in a second step).
// Usage: node responses_client.mjs http://127.0.0.1:PORT
import OpenAI from 'openai';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText, tool, stepCountIs } from 'ai';
import { z } from 'zod';
import assert from 'node:assert/strict';

const url = process.argv[2];
const client = new OpenAI({ baseURL: url + '/v1', apiKey: 'corral', maxRetries: 0 });
const model = 'tiny-tools';
const story = { model, instructions: 'You tell stories.', input: 'Once upon a time', max_output_tokens: 8, temperature: 0 };

// A function tool in the Responses shape, and a check that a call's arguments fit its schema.
const weatherTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather in a city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', maxLength: 12 }, unit: { enum: ['celsius', 'fahrenheit'] } },
    required: ['city', 'unit'],
    additionalProperties: false,
  },
  strict: true,
};
function checkWeatherArgs(args, where) {
  assert.equal(typeof args.city, 'string', `${where}: city is a string`);
  assert.ok(args.city.length <= 12, `${where}: city fits maxLength`);
  assert.ok(['celsius', 'fahrenheit'].includes(args.unit), `${where}: unit is in the enum (${args.unit})`);
}

// --- openai: responses.create, whole
const whole = await client.responses.create(story);
assert.ok(whole.id.startsWith('resp_'), whole.id);
assert.equal(whole.object, 'response');
assert.equal(whole.status, 'incomplete');
assert.equal(whole.incomplete_details.reason, 'max_output_tokens');
assert.ok(whole.output_text.length > 0, 'output_text (the client joins the message items)');
assert.equal(whole.output[0].type, 'message');
assert.equal(whole.usage.output_tokens, 8);

// --- openai: responses.create, streamed events
const events = await client.responses.create({ ...story, stream: true });
let streamed = '';
let final = null;
const types = [];
for await (const e of events) {
  types.push(e.type);
  if (e.type === 'response.output_text.delta') streamed += e.delta;
  if (e.type === 'response.completed' || e.type === 'response.incomplete') final = e.response;
}
assert.equal(types[0], 'response.created');
assert.equal(types.at(-1), 'response.incomplete');
assert.equal(streamed, whole.output_text, 'streamed deltas add up to the whole answer (greedy decoding)');
assert.equal(final.output[0].content[0].text, streamed);

// --- openai: the responses.stream helper (it rebuilds the response from every event)
const helper = client.responses.stream(story);
let helperText = '';
helper.on('response.output_text.delta', (e) => { helperText += e.delta; });
const helperFinal = await helper.finalResponse();
assert.equal(helperFinal.output_text, whole.output_text);
assert.equal(helperText, whole.output_text);

// --- openai: a forced call, its output sent back, then an answer
const question = [{ role: 'user', content: 'What is the weather in Paris?' }];
const call = await client.responses.create({
  model, input: question, tools: [weatherTool], tool_choice: 'required', max_output_tokens: 60,
});
assert.equal(call.status, 'completed');
const calls = call.output.filter((o) => o.type === 'function_call');
assert.equal(calls.length, 1, JSON.stringify(call.output));
assert.equal(calls[0].name, 'get_weather');
assert.ok(calls[0].call_id.startsWith('call_'), calls[0].call_id);
checkWeatherArgs(JSON.parse(calls[0].arguments), 'responses.create call');

const answer = await client.responses.create({
  model,
  input: [...question, ...call.output, { type: 'function_call_output', call_id: calls[0].call_id, output: '18 C' }],
  tools: [weatherTool],
  max_output_tokens: 6,
});
assert.equal(answer.output.at(-1).type, 'message');

// The named function, streamed through the helper.
const named = client.responses.stream({
  model, input: question, tools: [weatherTool], tool_choice: { type: 'function', name: 'get_weather' },
  max_output_tokens: 60,
});
let argsDone = null;
named.on('response.function_call_arguments.done', (e) => { argsDone = e.arguments; });
const namedFinal = await named.finalResponse();
assert.equal(namedFinal.output[0].type, 'function_call');
assert.equal(namedFinal.output[0].arguments, argsDone);
checkWeatherArgs(JSON.parse(argsDone), 'streamed call');

// What a stateless server cannot do is a clear 400.
await assert.rejects(client.responses.create({ ...story, previous_response_id: whole.id }),
  (e) => e instanceof OpenAI.BadRequestError && /previous_response_id is not supported/.test(e.message));

// --- AI SDK: openai(model) is the Responses API
const provider = createOpenAI({ baseURL: url + '/v1', apiKey: 'corral' });
const lm = provider(model);
const gen = await generateText({ model: lm, system: 'You tell stories.', prompt: 'Once upon a time', maxOutputTokens: 8, temperature: 0 });
assert.equal(gen.text, whole.output_text, 'generateText answers as responses.create did');
assert.equal(gen.finishReason, 'length');
assert.equal(gen.usage.outputTokens, 8);
assert.ok(gen.response.id.startsWith('resp_'), gen.response.id);

const st = streamText({ model: lm, system: 'You tell stories.', prompt: 'Once upon a time', maxOutputTokens: 8, temperature: 0 });
assert.equal(await st.text, gen.text, 'streamText adds up to generateText');
assert.equal(await st.finishReason, 'length');

// A tool under toolChoice 'required': the SDK validates the call's input against the zod
// schema, runs it, and (second step, toolChoice 'none') sends the call and its result back as
// input items. store: false makes the SDK send the items themselves rather than references to
// stored ones, which a stateless server does not have.
let executed = null;
const tools = {
  get_weather: tool({
    description: 'Current weather in a city',
    inputSchema: z.object({ city: z.string().max(12), unit: z.enum(['celsius', 'fahrenheit']) }),
    execute: async ({ city, unit }) => { executed = { city, unit }; return `18 degrees ${unit} in ${city}`; },
  }),
};
const agent = await generateText({
  model: lm,
  prompt: 'What is the weather in Paris?',
  tools,
  toolChoice: 'required',
  prepareStep: ({ stepNumber }) => (stepNumber === 0 ? {} : { toolChoice: 'none' }),
  stopWhen: stepCountIs(2),
  maxOutputTokens: 60,
  providerOptions: { openai: { store: false } },
});
assert.equal(agent.steps.length, 2, 'a call step, then an answer step');
const [step1, step2] = agent.steps;
assert.equal(step1.finishReason, 'tool-calls');
assert.equal(step1.toolCalls.length, 1);
assert.equal(step1.toolCalls[0].toolName, 'get_weather');
checkWeatherArgs(step1.toolCalls[0].input, 'AI SDK call');
assert.deepEqual(executed, step1.toolCalls[0].input);
assert.equal(step1.toolResults[0].output, `18 degrees ${executed.unit} in ${executed.city}`);
assert.equal(step2.toolCalls.length, 0);

// streamText with the same tool: the call arrives as tool-input events and a tool-call part.
const streamedCall = streamText({ model: lm, prompt: 'What is the weather in Paris?', tools, toolChoice: 'required', maxOutputTokens: 60 });
const parts = [];
for await (const p of streamedCall.fullStream) parts.push(p.type);
assert.ok(parts.includes('tool-input-start') && parts.includes('tool-call') && parts.includes('tool-result'), parts.join(','));
checkWeatherArgs((await streamedCall.toolCalls)[0].input, 'AI SDK streamed call');

console.log('responses clients: ok');
