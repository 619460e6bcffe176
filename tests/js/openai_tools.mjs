// The official `openai` npm client's tool calling against corral's /v1/chat/completions:
// tool_choice "required" and a named function, whole and streamed (delta.tool_calls accumulated
// by index, as agents do), finish_reason "tool_calls", ids, string arguments that validate, the
// tool message round trip, and the SDK's zod helpers (parse() with zodFunction / zodResponseFormat).
// Usage: node openai_tools.mjs http://127.0.0.1:PORT
import OpenAI from 'openai';
import { zodFunction, zodResponseFormat } from 'openai/helpers/zod';
import assert from 'node:assert/strict';
import { MODEL, schemas, toolDef, expectCall } from './agent_tools.mjs';

const client = new OpenAI({ baseURL: `${process.argv[2]}/v1`, apiKey: 'unused' });
const messages = [{ role: 'user', content: 'Where is order 17?' }];
const tools = [toolDef('get_weather'), toolDef('lookup_order')];
const choices = {
  required: { tools: [toolDef('lookup_order')], tool_choice: 'required', name: 'lookup_order' },
  named: { tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, name: 'get_weather' },
  // The model picks the tool; the arguments must validate against the one it names.
  'required among two': { tools, tool_choice: 'required', name: null },
};

// Reads a streamed completion the way the SDK's users do: text deltas joined, tool call deltas
// merged by index (id and name arrive once, arguments in pieces).
async function collect(stream) {
  let content = '';
  let finish = null;
  const calls = [];
  let usage;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.finish_reason) finish = choice.finish_reason;
    content += choice.delta?.content ?? '';
    for (const d of choice.delta?.tool_calls ?? []) {
      const c = (calls[d.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (d.id) c.id = d.id;
      if (d.type) c.type = d.type;
      if (d.function?.name) c.function.name += d.function.name;
      if (d.function?.arguments) c.function.arguments += d.function.arguments;
    }
  }
  return { content, finish, calls, usage };
}

for (const [label, c] of Object.entries(choices)) {
  for (const stream of [false, true]) {
    const where = `${label}${stream ? ' streamed' : ''}`;
    const req = { model: MODEL, messages, tools: c.tools, tool_choice: c.tool_choice, max_tokens: 48, seed: 3 };
    let message, finish;
    if (stream) {
      const r = await collect(await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } }));
      message = { content: r.content, tool_calls: r.calls };
      finish = r.finish;
      assert.ok(r.usage?.completion_tokens > 0, `${where}: usage in the last chunk`);
    } else {
      const r = await client.chat.completions.create(req);
      message = r.choices[0].message;
      finish = r.choices[0].finish_reason;
      assert.ok(r.usage.completion_tokens > 0);
    }
    assert.equal(finish, 'tool_calls', `${where}: finish_reason`);
    assert.ok(!message.content, `${where}: no content beside the call: ${JSON.stringify(message.content)}`);
    assert.equal(message.tool_calls.length, 1, `${where}: one call: ${JSON.stringify(message.tool_calls)}`);
    const call = message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.match(call.id, /^call_/, `${where}: call id`);
    if (c.name) assert.equal(call.function.name, c.name);
    assert.equal(typeof call.function.arguments, 'string', `${where}: arguments are a JSON string`);
    expectCall(call.function.name, call.function.arguments, where);
  }
}

// The round trip: assistant message with the call, a tool message with its result, an answer.
const first = await client.chat.completions.create({
  model: MODEL,
  messages,
  tools,
  tool_choice: { type: 'function', function: { name: 'lookup_order' } },
  max_tokens: 48,
  seed: 9,
});
const assistant = first.choices[0].message;
const followUp = await client.chat.completions.create({
  model: MODEL,
  messages: [
    ...messages,
    assistant,
    { role: 'tool', tool_call_id: assistant.tool_calls[0].id, content: '{"status":"shipped"}' },
  ],
  tools,
  max_tokens: 8,
  seed: 9,
});
assert.equal(followUp.choices[0].message.role, 'assistant');
assert.notEqual(followUp.choices[0].finish_reason, 'tool_calls', 'an answer, not another call');
assert.equal(typeof followUp.choices[0].message.content, 'string');
assert.ok(followUp.usage.prompt_tokens > first.usage.prompt_tokens, 'the call and its result are in the prompt');

// The SDK's zod helpers: parse() checks and parses a forced call's arguments (strict tools) and
// a json_schema response format.
const parsedCall = await client.chat.completions.parse({
  model: MODEL,
  messages,
  tools: [zodFunction({ name: 'lookup_order', parameters: schemas.lookup_order })],
  tool_choice: 'required',
  max_tokens: 48,
  seed: 11,
});
const pc = parsedCall.choices[0].message.tool_calls[0];
expectCall('lookup_order', pc.function.parsed_arguments, 'parse() zodFunction');
const parsedFormat = await client.chat.completions.parse({
  model: MODEL,
  messages,
  response_format: zodResponseFormat(schemas.get_weather, 'forecast'),
  max_tokens: 64,
  seed: 12,
});
expectCall('get_weather', parsedFormat.choices[0].message.parsed, 'parse() zodResponseFormat');

// tool_choice naming a tool that is not offered: a 400 naming it.
await assert.rejects(
  client.chat.completions.create({ model: MODEL, messages, tools, tool_choice: { type: 'function', function: { name: 'nope' } } }),
  (e) => e.status === 400 && /nope/.test(e.message),
);

console.log('openai tools: ok');
