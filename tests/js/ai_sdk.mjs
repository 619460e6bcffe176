// The Vercel AI SDK (`ai` 5) with the ai-sdk-ollama provider against corral's Ollama API:
// generateText and streamText with tools and toolChoice 'required' -> toolCalls whose input
// validates, the tool result going back for an answer, generateObject and streamObject with a
// zod schema, plain generateText / streamText.
//
// Forcing: ai-sdk-ollama does not send toolChoice (Ollama's API has none), so its client gets a
// fetch that adds corral's tool_choice extension to a chat request carrying tools while the
// test asks for it: the test model has random weights and calls nothing on its own.
// Usage: node ai_sdk.mjs http://127.0.0.1:PORT
import { generateText, streamText, generateObject, streamObject, tool } from 'ai';
import { createOllama } from 'ai-sdk-ollama';
import assert from 'node:assert/strict';
import { MODEL, schemas, descriptions, expectCall } from './agent_tools.mjs';

let forced = null;  // null, 'required' or a tool name
const forcingFetch = async (url, init) => {
  if (forced && String(url).endsWith('/api/chat') && init?.body) {
    const body = JSON.parse(init.body);
    if (body.tools?.length) {
      body.tool_choice = forced === 'required' ? 'required' : { type: 'function', function: { name: forced } };
      init = { ...init, body: JSON.stringify(body) };
    }
  }
  return fetch(url, init);
};
const ollama = createOllama({ baseURL: process.argv[2], fetch: forcingFetch });
const model = ollama(MODEL);

const weatherOnly = { get_weather: tool({ description: descriptions.get_weather, inputSchema: schemas.get_weather }) };
const allTools = Object.fromEntries(
  Object.keys(schemas).map((name) => [name, tool({ description: descriptions[name], inputSchema: schemas[name] })]),
);

function checkCalls(toolCalls, name, where) {
  assert.equal(toolCalls.length, 1, `${where}: one call in ${JSON.stringify(toolCalls)}`);
  assert.equal(toolCalls[0].toolName, name, where);
  assert.ok(toolCalls[0].toolCallId, `${where}: a call id`);
  assert.ok(!toolCalls[0].invalid, `${where}: the SDK found the input valid`);
  expectCall(name, toolCalls[0].input, where);
  return toolCalls[0];
}

// generateText, toolChoice 'required' (one tool), then a named tool among several.
forced = 'required';
const gen = await generateText({
  model,
  prompt: 'What is the weather in Paris?',
  tools: weatherOnly,
  toolChoice: 'required',
  maxOutputTokens: 48,
  seed: 2,
});
const call = checkCalls(gen.toolCalls, 'get_weather', 'generateText required');
// (finishReason stays 'stop': the provider maps Ollama's done_reason, which is "stop" after a call.)
forced = 'lookup_order';
const named = await generateText({
  model,
  prompt: 'Where is order 17?',
  tools: allTools,
  toolChoice: { type: 'tool', toolName: 'lookup_order' },
  maxOutputTokens: 48,
  seed: 3,
});
checkCalls(named.toolCalls, 'lookup_order', 'generateText named');

// streamText: the call arrives as a tool-call part and in the result's toolCalls.
forced = 'required';
const st = streamText({
  model,
  prompt: 'What is the weather in Paris?',
  tools: weatherOnly,
  toolChoice: 'required',
  maxOutputTokens: 48,
  seed: 4,
});
const parts = [];
for await (const part of st.fullStream) {
  assert.notEqual(part.type, 'error', `streamText error part: ${part.error}`);
  parts.push(part.type);
}
assert.ok(parts.includes('tool-call'), `streamText parts: ${parts}`);
checkCalls(await st.toolCalls, 'get_weather', 'streamText required');

// The result goes back as a tool message; the model answers in text.
forced = null;
const answer = await generateText({
  model,
  messages: [
    { role: 'user', content: 'What is the weather in Paris?' },
    { role: 'assistant', content: [{ type: 'tool-call', toolCallId: call.toolCallId, toolName: 'get_weather', input: call.input }] },
    {
      role: 'tool',
      content: [
        { type: 'tool-result', toolCallId: call.toolCallId, toolName: 'get_weather', output: { type: 'json', value: { temperature: 18 } } },
      ],
    },
  ],
  tools: weatherOnly,
  maxOutputTokens: 8,
  seed: 5,
});
assert.equal(answer.toolCalls.length, 0, `an answer, not a call: ${JSON.stringify(answer.toolCalls)}`);
assert.ok(answer.usage.outputTokens > 0, `usage ${JSON.stringify(answer.usage)}`);

// generateObject / streamObject: the provider sends the zod schema as Ollama's format.
const Forecast = schemas.get_weather;
const obj = await generateObject({ model, schema: Forecast, prompt: 'Weather in Oslo?', maxOutputTokens: 48, seed: 6 });
expectCall('get_weather', obj.object, 'generateObject');
const so = streamObject({ model, schema: Forecast, prompt: 'Weather in Oslo?', maxOutputTokens: 48, seed: 7 });
for await (const partial of so.partialObjectStream) assert.equal(typeof partial, 'object');
expectCall('get_weather', await so.object, 'streamObject');

// Plain text, whole and streamed.
const plain = await generateText({ model, prompt: 'Once upon a time', maxOutputTokens: 8, seed: 8 });
assert.ok(plain.text.length > 0, 'generateText returned text');
let streamed = '';
for await (const t of streamText({ model, prompt: 'Once upon a time', maxOutputTokens: 8, seed: 8 }).textStream) streamed += t;
assert.ok(streamed.length > 0, 'streamText returned text');

console.log('ai sdk: ok');
