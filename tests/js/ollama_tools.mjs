// The official `ollama` npm client doing what an agent does against corral: chat with tools and
// tool_choice (corral takes OpenAI's tool_choice on /api/chat; the client passes request fields
// through), whole and streamed; the call goes back as a tool message and the model answers;
// think on a model that cannot think is Ollama's 400; on one that thinks, message.thinking.
// Usage: node ollama_tools.mjs http://127.0.0.1:PORT
import { Ollama } from 'ollama';
import assert from 'node:assert/strict';
import { MODEL, toolDef, expectCall } from './agent_tools.mjs';

const ollama = new Ollama({ host: process.argv[2] });
const tools = [toolDef('get_weather'), toolDef('lookup_order')];
const question = [{ role: 'user', content: 'What is the weather in Paris?' }];

// Named function, whole response.
for (const seed of [1, 2, 3]) {
  const r = await ollama.chat({
    model: MODEL,
    messages: question,
    tools,
    tool_choice: { type: 'function', function: { name: 'lookup_order' } },
    options: { num_predict: 48, seed, temperature: 1 },
  });
  assert.equal(r.done, true);
  const calls = r.message.tool_calls ?? [];
  assert.equal(calls.length, 1, `seed ${seed}: one call in ${JSON.stringify(r.message)}`);
  assert.equal(calls[0].function.name, 'lookup_order');
  expectCall('lookup_order', calls[0].function.arguments, `named, seed ${seed}`);
  assert.equal(r.message.content, '', 'no call JSON in content');
}

// "required" with two tools: the model names one, and its arguments follow that tool's schema.
for (const seed of [1, 2, 3, 4]) {
  const r = await ollama.chat({
    model: MODEL,
    messages: question,
    tools,
    tool_choice: 'required',
    options: { num_predict: 64, seed, temperature: 1 },
  });
  const calls = r.message.tool_calls ?? [];
  assert.equal(calls.length, 1, `required among two, seed ${seed}: ${JSON.stringify(r.message)}`);
  expectCall(calls[0].function.name, calls[0].function.arguments, `required among two, seed ${seed}`);
}

// "required" with one tool, streamed: the call arrives in one of the records, content stays empty.
let streamedCalls = [];
let streamedContent = '';
let last;
for await (const part of await ollama.chat({
  model: MODEL,
  messages: question,
  tools: [toolDef('get_weather')],
  tool_choice: 'required',
  stream: true,
  options: { num_predict: 48, seed: 4, temperature: 1 },
})) {
  streamedContent += part.message.content;
  if (part.message.tool_calls) streamedCalls.push(...part.message.tool_calls);
  last = part;
}
assert.equal(last.done, true);
assert.equal(streamedContent, '', 'no call JSON in streamed content');
assert.equal(streamedCalls.length, 1, `one streamed call: ${JSON.stringify(streamedCalls)}`);
const call = streamedCalls[0];
assert.equal(call.function.name, 'get_weather');
const args = expectCall('get_weather', call.function.arguments, 'streamed required');

// The round trip: the call and its result go back, the model answers in text.
const answer = await ollama.chat({
  model: MODEL,
  messages: [
    ...question,
    { role: 'assistant', content: '', tool_calls: [call] },
    { role: 'tool', tool_name: 'get_weather', content: JSON.stringify({ city: args.city, temperature: 18 }) },
  ],
  tools,
  options: { num_predict: 8, seed: 5 },
});
assert.equal(answer.done, true);
assert.equal(answer.message.role, 'assistant');
assert.equal(typeof answer.message.content, 'string');
assert.ok(answer.eval_count > 0, 'the answer was generated');
assert.ok(answer.prompt_eval_count > 0);

// tool_choice "none": tools are rendered but no call is forced; plain text comes back.
const none = await ollama.chat({
  model: MODEL,
  messages: question,
  tools,
  tool_choice: 'none',
  options: { num_predict: 6, seed: 6 },
});
assert.equal(none.done, true);
assert.equal(none.message.tool_calls, undefined, `no calls with tool_choice none: ${JSON.stringify(none.message)}`);

// A bad tool_choice is a 400 naming it.
await assert.rejects(
  ollama.chat({ model: MODEL, messages: question, tools, tool_choice: { type: 'function', function: { name: 'launch' } } }),
  (e) => e.status_code === 400 && /launch/.test(e.message),
);

// think on a model that cannot think: Ollama's 400, with Ollama's wording.
await assert.rejects(ollama.chat({ model: MODEL, messages: question, think: true }), (e) => {
  assert.equal(e.status_code, 400);
  assert.equal(e.message, `"${MODEL}" does not support thinking`);
  return true;
});
await assert.rejects(ollama.generate({ model: MODEL, prompt: 'Hi', think: true }), (e) => e.status_code === 400);
// think: false is always allowed.
const nothink = await ollama.chat({ model: MODEL, messages: question, think: false, options: { num_predict: 2 } });
assert.equal(nothink.done, true);

// A model that thinks (created here through the client: a template whose prompt opens a
// thinking block, so the random output is all reasoning): message.thinking, whole and streamed.
const thinkingTemplate = `{{- range .Messages }}<|im_start|>{{ .Role }}
{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ if .Think }}<think>
{{ end }}`;
await ollama.create({ model: 'js-thinker', from: 'syn-qwen2', template: thinkingTemplate });
const show = await ollama.show({ model: 'js-thinker' });
assert.ok(show.capabilities.includes('thinking'), `capabilities ${show.capabilities}`);
const thought = await ollama.chat({ model: 'js-thinker', messages: question, think: true, options: { num_predict: 8, seed: 1 } });
assert.ok(thought.message.thinking?.length > 0, `thinking in ${JSON.stringify(thought.message)}`);
assert.equal(thought.message.content, '');
let streamedThinking = '';
for await (const part of await ollama.chat({ model: 'js-thinker', messages: question, think: true, stream: true, options: { num_predict: 8, seed: 1 } }))
  streamedThinking += part.message.thinking ?? '';
assert.equal(streamedThinking, thought.message.thinking, 'streamed thinking equals the whole');
const genThought = await ollama.generate({ model: 'js-thinker', prompt: 'Hi', think: true, options: { num_predict: 8 } });
assert.ok(genThought.thinking?.length > 0, 'generate carries thinking');
const noThought = await ollama.chat({ model: 'js-thinker', messages: question, think: false, options: { num_predict: 8 } });
assert.equal(noThought.message.thinking, undefined);
assert.ok(noThought.message.content.length > 0);
await ollama.delete({ model: 'js-thinker' });

console.log('ollama tools: ok');
